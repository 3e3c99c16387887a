/**
 * The sidecar's live channels to the edge, one per live stream (live-channel.ts): a stream's
 * channel opens when its pipeline starts (taking the stream's lease) and is released when the
 * stream ends. Parts of a stream without a channel are dropped; its documents go over HTTP.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OutgoingPart } from './live-channel-queue.ts';
import { LiveChannel, type LeaseOutcome, type PartReport } from './live-channel.ts';
import type { LiveChannelSink, SegmentAssembly } from './part-sink.ts';
import type { AssemblyOutcome } from './upload-queue.ts';
import type { DocumentChannel } from './channel-documents.ts';

export interface LiveChannelsOptions {
  edgeUrl: string;
  secret: string;
  /** This sidecar, as lease holder: the same after a restart (see sidecarIdIn). */
  sidecarId: string;
  /** A part older than this is not sent (milliseconds): three target durations, as long as the edge lists one. */
  partLifetimeMs: number;
  log: { warn(message: string): void };
}

export class LiveChannels implements LiveChannelSink, DocumentChannel {
  private readonly options: LiveChannelsOptions;
  private readonly channels = new Map<string, LiveChannel>();

  constructor(options: LiveChannelsOptions) {
    this.options = options;
  }

  /**
   * Opens the stream's channel with a lease request (a new broadcast of it). Resolves once the
   * edge answers: granted, or refused with its reason. `onRefused` hears a refusal later on
   * (the lease was lost: another sidecar took the stream while this one was cut off).
   * `reconnectWindowMs` goes with the request: the edge ends the broadcast itself once this
   * sidecar is gone for longer than that (and the takeover allowance) with nobody taking it up.
   */
  acquire(playbackId: string, onRefused: (reason: string) => void, reconnectWindowMs?: number): Promise<LeaseOutcome> {
    this.channels.get(playbackId)?.release();
    const channel = new LiveChannel({
      edgeUrl: this.options.edgeUrl,
      secret: this.options.secret,
      playbackId,
      lease: { sidecar: this.options.sidecarId, broadcast: randomBytes(9).toString('base64url'), ...(reconnectWindowMs !== undefined ? { reconnectWindowMs } : {}) },
      partLifetimeMs: this.options.partLifetimeMs,
      onTrouble: (message) => this.troubled(playbackId, message),
      onLeaseRefused: (reason) => {
        if (this.channels.get(playbackId) === channel) this.channels.delete(playbackId);
        onRefused(reason);
      },
    });
    this.channels.set(playbackId, channel);
    return channel.lease;
  }

  sendPart(playbackId: string, part: OutgoingPart, report: PartReport): void {
    const channel = this.channels.get(playbackId);
    if (!channel) return report.dropped('the stream has no live channel');
    channel.sendPart(part, report);
  }

  /** A part named as next that will not be sent: the edge answers whoever waits for it (in order with the stream's parts). */
  withdrawPart(playbackId: string, rendition: string, file: string, reason: string): void {
    this.channels.get(playbackId)?.withdraw(rendition, file, reason);
  }

  /** A segment for the edge to store from its parts (sent on the stream's channel before). */
  storeSegment(playbackId: string, segment: SegmentAssembly): Promise<AssemblyOutcome> {
    const channel = this.channels.get(playbackId);
    return channel ? channel.storeSegment(segment) : Promise.resolve({ stored: false, reason: 'the stream has no live channel' });
  }

  /** One of the stream's documents for the edge to write (on the stream's channel, in order with its parts). */
  writeDocument(playbackId: string, path: string, contentType: string, text: string): Promise<AssemblyOutcome> {
    const channel = this.channels.get(playbackId);
    return channel ? channel.writeDocument(path, contentType, text) : Promise.resolve({ stored: false, reason: 'the stream has no live channel' });
  }

  /** The stream ended here: its lease is given back. */
  release(playbackId: string): void {
    this.channels.get(playbackId)?.release();
    this.channels.delete(playbackId);
  }

  releaseAll(): void {
    for (const playbackId of [...this.channels.keys()]) this.release(playbackId);
  }

  // A channel that keeps failing says so every few seconds at most.
  private readonly lastTrouble = new Map<string, number>();
  private troubled(playbackId: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastTrouble.get(playbackId) ?? 0) < 10_000) return;
    this.lastTrouble.set(playbackId, now);
    this.options.log.warn(`stream ${playbackId}: ${message}`);
  }
}

/**
 * This sidecar's id as a lease holder, kept in its state directory (which only one sidecar uses
 * at a time): a sidecar restarted after a crash is the same holder, and takes its streams up at
 * once instead of waiting out its own lease.
 */
export function sidecarIdIn(stateDir: string): string {
  const file = join(stateDir, 'sidecar-id');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[A-Za-z0-9_-]{1,64}$/.test(id)) return id;
  } catch {
    // None yet.
  }
  const id = randomBytes(12).toString('base64url');
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
