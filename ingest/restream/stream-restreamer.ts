/**
 * A live stream's restream outputs, fed from the FLV the pipeline receives: the tags are read once
 * and each is written out once, shared by every output. The newest metadata and sequence headers
 * are kept so that an output (re)starting at a keyframe gets them first. Timestamps stay one
 * timeline for the targets across the stream's publishers: a publisher that reconnects (its
 * clock starting again at 0) continues after the last tag sent, and a replay of the same
 * publisher's media (a resubscribe) is not sent twice.
 */
import type { Logger } from 'pino';
import { FLV_AUDIO_FORMAT_AAC, FLV_TAG_AUDIO, FLV_TAG_SCRIPT, FLV_TAG_VIDEO, FlvTagReader, readVideoInfo, type FlvTag } from '../media/flv-tag-reader.ts';
import { concatBytes } from '../package/bytes.ts';
import { RestreamOutput, type Connect, type OutputClock, type OutputStatus, type Prelude } from './restream-output.ts';
import type { RestreamTarget } from './restream-target.ts';

export interface StreamRestreamerOptions {
  targets: readonly RestreamTarget[];
  connect: Connect;
  clock?: OutputClock;
  maxQueueBytes?: number;
  /** An output's state changed (for the log: its URL is redacted). */
  onChange?(status: OutputStatus): void;
  /** The stream's FLV could not be read (logged; outputs wait for the next publisher). */
  onProblem?(message: string): void;
}

// Flags: audio and video present.
const FLV_FILE_HEADER = Uint8Array.of(0x46, 0x4c, 0x56, 0x01, 0x05, 0, 0, 0, 9, 0, 0, 0, 0);
/** The gap put between the last tag of one publisher and the first of the next, milliseconds. */
const PUBLISHER_GAP_MS = 40;

export class StreamRestreamer {
  private readonly outputs: RestreamOutput[];
  private readonly options: StreamRestreamerOptions;
  private reader = new FlvTagReader();
  private metadata: FlvTag | undefined;
  private videoConfig: FlvTag | undefined;
  private audioConfig: FlvTag | undefined;
  /** Added to source timestamps (changes when a new publisher's clock begins). */
  private offset = 0;
  private lastVideo = -1;
  private lastAudio = -1;
  /** The next FLV stream is a new publisher (rebase its clock), not a replay of the current one. */
  private newPublisher = true;
  private rebasePending = false;
  private readable = true;
  private ended = false;

  constructor(options: StreamRestreamerOptions) {
    this.options = options;
    this.outputs = options.targets.map(
      (target) => new RestreamOutput(target, { connect: options.connect, clock: options.clock, maxQueueBytes: options.maxQueueBytes, onChange: options.onChange }),
    );
  }

  /** A publisher (re)attached: start outputs that are not running (failed ones try again). */
  publisherAttached(): void {
    if (this.ended) return;
    this.newPublisher = true;
    for (const output of this.outputs) output.start();
  }

  status(): OutputStatus[] {
    return this.outputs.map((output) => output.status());
  }

  /** The stream's FLV bytes as the pipeline receives them. */
  write(flv: Uint8Array): void {
    if (this.ended || this.outputs.length === 0) return;
    if (flv.length >= 3 && flv[0] === 0x46 && flv[1] === 0x4c && flv[2] === 0x56) {
      this.reader = new FlvTagReader();
      this.readable = true;
      this.rebasePending = this.newPublisher;
      this.newPublisher = false;
    }
    if (!this.readable) return;
    let tags: FlvTag[];
    try {
      tags = this.reader.push(flv);
    } catch (error) {
      this.readable = false;
      this.options.onProblem?.(`restream: unreadable FLV: ${(error as Error).message}`);
      return;
    }
    for (const tag of tags) this.tag(tag);
  }

  end(): void {
    this.ended = true;
    for (const output of this.outputs) output.stop();
  }

  private tag(tag: FlvTag): void {
    if (this.rebasePending && tag.type !== FLV_TAG_SCRIPT) {
      this.rebasePending = false;
      const last = Math.max(this.lastVideo, this.lastAudio);
      this.offset = last < 0 ? 0 : last + PUBLISHER_GAP_MS - tag.timestamp;
    }
    const timestamp = Math.max(0, tag.timestamp + this.offset);
    const data = tag.data;
    // Metadata and sequence headers are kept for outputs that begin later, and passed on to those
    // running (a new publisher's may differ).
    let kept = true;
    if (tag.type === FLV_TAG_SCRIPT) this.metadata = { ...tag, data: data.slice() };
    else if (tag.type === FLV_TAG_VIDEO && readVideoInfo(data)?.sequenceHeader) this.videoConfig = { ...tag, data: data.slice() };
    else if (tag.type === FLV_TAG_AUDIO && isAacSequenceHeader(data)) this.audioConfig = { ...tag, data: data.slice() };
    else kept = false;
    if (!kept) {
      if (tag.type === FLV_TAG_VIDEO) {
        // Already sent (the same publisher's media replayed): skip.
        if (timestamp <= this.lastVideo) return;
        this.lastVideo = timestamp;
      } else if (tag.type === FLV_TAG_AUDIO) {
        if (timestamp <= this.lastAudio) return;
        this.lastAudio = timestamp;
      } else return;
    }
    const bytes = flvTagBytes(tag.type, timestamp, data);
    const keyframe = !kept && tag.type === FLV_TAG_VIDEO && readVideoInfo(data)?.keyframe === true;
    let prelude: Prelude | undefined;
    const makePrelude = () => (prelude ??= this.prelude(timestamp));
    for (const output of this.outputs) output.send(bytes, keyframe, makePrelude);
  }

  /** Metadata and sequence headers, stamped at the keyframe the output begins with. */
  private prelude(timestamp: number): Prelude {
    const parts = [this.metadata, this.videoConfig, this.audioConfig].flatMap((tag) => (tag ? [flvTagBytes(tag.type, timestamp, tag.data)] : []));
    return { fileHeader: FLV_FILE_HEADER, tags: concatBytes(parts) };
  }
}

function isAacSequenceHeader(data: Uint8Array): boolean {
  return data.length >= 2 && data[0]! >> 4 === FLV_AUDIO_FORMAT_AAC && data[1] === 0;
}

/** One FLV tag with its trailing previous-tag-size. */
export function flvTagBytes(type: number, timestamp: number, data: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(11 + data.length + 4);
  const view = new DataView(bytes.buffer);
  bytes[0] = type;
  bytes[1] = (data.length >> 16) & 0xff;
  bytes[2] = (data.length >> 8) & 0xff;
  bytes[3] = data.length & 0xff;
  bytes[4] = (timestamp >> 16) & 0xff;
  bytes[5] = (timestamp >> 8) & 0xff;
  bytes[6] = timestamp & 0xff;
  bytes[7] = (timestamp >>> 24) & 0xff;
  bytes.set(data, 11);
  view.setUint32(11 + data.length, 11 + data.length);
  return bytes;
}

/** A stream's restreamer when it has outputs and the sidecar can connect them, logging each output's changes (its URL and reason redacted). */
export function restreamerForStream(targets: readonly RestreamTarget[] | undefined, connect: Connect | undefined, log: Logger): StreamRestreamer | undefined {
  if (!targets?.length || !connect) return undefined;
  return new StreamRestreamer({
    targets,
    connect,
    onChange: ({ id, url, state, reason }) => log[state === 'live' || state === 'connecting' ? 'info' : 'warn']({ output: id, url }, `restream output ${state}${reason ? `: ${reason}` : ''}`),
    onProblem: (message) => log.warn(message),
  });
}
