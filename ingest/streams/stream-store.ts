/**
 * The configured streams: a JSON file an operator manages with `npm run streams`. Stream keys
 * are secrets: only their SHA-256 is stored (keys are 256-bit random, so a fast hash is enough;
 * nothing to brute-force), and the file is written atomically with mode 0600.
 *
 * Format (version 1):
 *   { "version": 1,
 *     "streams": [ { "name": "main", "playbackId": "k3x9...", "keySha256": "<hex>",
 *                    "createdAt": "<ISO time>", "keyRotatedAt": "<ISO time>",
 *                    "outputs": [ { "id": "out_…", "url": "rtmp://…/app", "key": "<target's key>", "createdAt": "…" } ] } ] }
 * (`outputs`: restream targets, optional; their keys must be sent to the target, so they are kept.)
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { MAX_OUTPUTS_PER_STREAM, outputKeyProblem, outputUrlProblem, type RestreamTarget } from '../restream/restream-target.ts';

export interface ConfiguredStream {
  /** The operator's name for the stream (CLI argument). */
  name: string;
  /** Public: viewers use /live/PLAYBACK_ID/... */
  playbackId: string;
  keySha256: string;
  createdAt: string;
  keyRotatedAt: string;
  /** `signed`: viewers need a playback token (see `npm run streams -- token`). Absent: public. */
  playback?: StreamPlayback;
  /** Restream outputs (ingest/restream/): their keys are kept as given, since the sidecar sends them. */
  outputs?: StoredOutput[];
}

export interface StoredOutput extends RestreamTarget {
  createdAt: string;
}

export type StreamPlayback = 'public' | 'signed';

interface StreamStoreFile {
  version: 1;
  streams: ConfiguredStream[];
}

export class StreamStoreError extends Error {
  override name = 'StreamStoreError';
}

/** Stream keys as handed out: a recognisable prefix, then 256 random bits (base64url). */
export const STREAM_KEY_PATTERN = /^sk_[A-Za-z0-9_-]{43}$/;
const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function newStreamKey(): string {
  return `sk_${randomBytes(32).toString('base64url')}`;
}

function newPlaybackId(): string {
  // 96 random bits, lower-case letters and digits: short in URLs, unguessable.
  return BigInt(`0x${randomBytes(12).toString('hex')}`).toString(36).padStart(19, '0');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function validateStreamName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    throw new StreamStoreError('stream names are 1-63 lower-case letters, digits and "-", starting with a letter or digit');
  }
}

export class StreamStore {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Every configured stream; an absent file is an empty store. */
  list(): ConfiguredStream[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StreamStoreError(`cannot read ${this.path}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new StreamStoreError(`${this.path} is not valid JSON`);
    }
    return parseStoreFile(parsed, this.path).streams;
  }

  /**
   * The stream whose key this is, or undefined. Every stream's hash is compared, in constant
   * time, so the time taken says nothing about which stream or how much of a key matched.
   */
  findByKey(key: string): ConfiguredStream | undefined {
    if (!STREAM_KEY_PATTERN.test(key)) return undefined;
    const presented = sha256(key);
    let match: ConfiguredStream | undefined;
    for (const stream of this.list()) {
      const stored = Buffer.from(stream.keySha256, 'hex');
      if (stored.length === presented.length && timingSafeEqual(stored, presented)) match ??= stream;
    }
    return match;
  }

  /** Adds a stream; returns it with its key, which is never stored or shown again. */
  add(name: string, now = new Date(), playback: StreamPlayback = 'public'): { stream: ConfiguredStream; key: string } {
    validateStreamName(name);
    const streams = this.list();
    if (streams.some((stream) => stream.name === name)) throw new StreamStoreError(`a stream named "${name}" already exists`);
    const key = newStreamKey();
    const stream: ConfiguredStream = {
      name,
      playbackId: newPlaybackId(),
      keySha256: sha256(key).toString('hex'),
      createdAt: now.toISOString(),
      keyRotatedAt: now.toISOString(),
      ...(playback === 'signed' ? { playback } : {}),
    };
    this.write([...streams, stream]);
    return { stream, key };
  }

  /** Replaces a stream's key: the old one stops working for the next publish. */
  rotateKey(name: string, now = new Date()): { stream: ConfiguredStream; key: string } {
    const streams = this.list();
    const index = streams.findIndex((stream) => stream.name === name);
    if (index < 0) throw new StreamStoreError(`no stream named "${name}"`);
    const key = newStreamKey();
    const stream = { ...streams[index]!, keySha256: sha256(key).toString('hex'), keyRotatedAt: now.toISOString() };
    streams[index] = stream;
    this.write(streams);
    return { stream, key };
  }

  /** Makes a stream's playback public or signed (from its next publish). */
  setPlayback(name: string, playback: StreamPlayback): ConfiguredStream {
    const streams = this.list();
    const index = streams.findIndex((stream) => stream.name === name);
    if (index < 0) throw new StreamStoreError(`no stream named "${name}"`);
    const { playback: _previous, ...rest } = streams[index]!;
    const stream: ConfiguredStream = playback === 'signed' ? { ...rest, playback } : rest;
    streams[index] = stream;
    this.write(streams);
    return stream;
  }

  /** A stream by its operator name or its playback id. */
  find(nameOrPlaybackId: string): ConfiguredStream | undefined {
    return this.list().find((stream) => stream.name === nameOrPlaybackId || stream.playbackId === nameOrPlaybackId);
  }

  /** Adds a restream output to a stream (from its next publish). */
  addOutput(name: string, url: string, key: string, now = new Date()): StoredOutput {
    const problem = outputUrlProblem(url) ?? outputKeyProblem(key);
    if (problem) throw new StreamStoreError(problem);
    const streams = this.list();
    const index = streams.findIndex((stream) => stream.name === name);
    if (index < 0) throw new StreamStoreError(`no stream named "${name}"`);
    const outputs = streams[index]!.outputs ?? [];
    if (outputs.length >= MAX_OUTPUTS_PER_STREAM) throw new StreamStoreError(`a stream has at most ${MAX_OUTPUTS_PER_STREAM} outputs`);
    const output: StoredOutput = { id: `out_${randomBytes(4).toString('hex')}`, url, key, createdAt: now.toISOString() };
    streams[index] = { ...streams[index]!, outputs: [...outputs, output] };
    this.write(streams);
    return output;
  }

  removeOutput(name: string, id: string): StoredOutput {
    const streams = this.list();
    const index = streams.findIndex((stream) => stream.name === name);
    if (index < 0) throw new StreamStoreError(`no stream named "${name}"`);
    const { outputs = [], ...rest } = streams[index]!;
    const output = outputs.find((candidate) => candidate.id === id);
    if (!output) throw new StreamStoreError(`stream "${name}" has no output "${id}"`);
    const left = outputs.filter((candidate) => candidate !== output);
    streams[index] = left.length > 0 ? { ...rest, outputs: left } : rest;
    this.write(streams);
    return output;
  }

  remove(name: string): ConfiguredStream {
    const streams = this.list();
    const stream = streams.find((candidate) => candidate.name === name);
    if (!stream) throw new StreamStoreError(`no stream named "${name}"`);
    this.write(streams.filter((candidate) => candidate !== stream));
    return stream;
  }

  private write(streams: ConfiguredStream[]): void {
    const file: StreamStoreFile = { version: 1, streams };
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}

function parseStoreFile(value: unknown, path: string): StreamStoreFile {
  const fail = (why: string) => new StreamStoreError(`${path}: ${why}`);
  if (typeof value !== 'object' || value === null) throw fail('expected an object');
  const file = value as { version?: unknown; streams?: unknown };
  if (file.version !== 1) throw fail(`unsupported version ${JSON.stringify(file.version)} (expected 1)`);
  if (!Array.isArray(file.streams)) throw fail('"streams" must be an array');
  const names = new Set<string>();
  for (const [index, entry] of file.streams.entries()) {
    const stream = entry as Partial<ConfiguredStream>;
    const where = `streams[${index}]`;
    if (typeof stream.name !== 'string' || !NAME_PATTERN.test(stream.name)) throw fail(`${where}.name is invalid`);
    if (typeof stream.playbackId !== 'string' || !isPlaybackId(stream.playbackId)) throw fail(`${where}.playbackId is invalid`);
    if (typeof stream.keySha256 !== 'string' || !/^[0-9a-f]{64}$/.test(stream.keySha256)) throw fail(`${where}.keySha256 is invalid`);
    if (stream.playback !== undefined && stream.playback !== 'public' && stream.playback !== 'signed') throw fail(`${where}.playback must be "public" or "signed"`);
    if (names.has(stream.name)) throw fail(`${where}.name "${stream.name}" is a duplicate`);
    if (stream.outputs !== undefined) {
      if (!Array.isArray(stream.outputs) || stream.outputs.length > MAX_OUTPUTS_PER_STREAM) throw fail(`${where}.outputs must be an array of at most ${MAX_OUTPUTS_PER_STREAM}`);
      for (const [at, output] of stream.outputs.entries()) {
        const problem = typeof output?.id !== 'string' || typeof output.url !== 'string' || typeof output.key !== 'string' ? 'needs id, url and key' : (outputUrlProblem(output.url) ?? outputKeyProblem(output.key));
        if (problem) throw fail(`${where}.outputs[${at}]: ${problem}`);
      }
    }
    names.add(stream.name);
  }
  return file as StreamStoreFile;
}
