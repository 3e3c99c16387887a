/**
 * One restream output of a live stream: its connection to the target, its state, and what it is
 * fed. The stream's own pipeline never waits for it: each tag is handed over at once, and an output
 * whose target takes less than it is given (its connection's queue past the bound) drops tags
 * itself and resumes at the next keyframe with the sequence headers sent again. A connection that
 * closes is reopened after a backoff; too many failed attempts in a row leave the output `failed`
 * until the stream's next publish. Nothing it says holds the target's key (restream-target.ts).
 */
import { redact, redactedUrl, type RestreamTarget } from './restream-target.ts';

import type { OutputState } from '../../shared/output-states.ts';

export type { OutputState };

export interface OutputStatus {
  id: string;
  /** The target's URL with its key redacted. */
  url: string;
  state: OutputState;
  /** Why the output is retrying or failed (the last attempt's error), key redacted. */
  reason?: string;
  /** Times the connection was opened again after it closed or failed. */
  reconnects: number;
  /** Bytes dropped because the target was slower than the stream. */
  droppedBytes: number;
}

/** An open connection to a target (an ffmpeg copying FLV to it, or a fake in tests). */
export interface OutputConnection {
  write(bytes: Uint8Array): void;
  /** Bytes handed to the connection that the target has not taken yet. */
  readonly queuedBytes: number;
  close(): void;
}

export interface ConnectionEvents {
  /** The target accepted the stream (its header was written to it). */
  onLive(): void;
  /** The connection ended; `reason` may hold the key (it is redacted by the output). */
  onClosed(reason: string): void;
}

export type Connect = (target: RestreamTarget, events: ConnectionEvents) => OutputConnection;

export interface OutputClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** What a (re)started connection or a resync needs before the keyframe it begins at. */
export interface Prelude {
  /** The FLV file header: only for a new connection. */
  fileHeader: Uint8Array;
  /** Metadata and sequence headers as FLV tags, timestamped at the keyframe. */
  tags: Uint8Array;
}

export interface RestreamOutputOptions {
  connect: Connect;
  clock?: OutputClock;
  /** The most a connection may hold untaken before the output drops, bytes. */
  maxQueueBytes?: number;
  /** Said when the state changes; never holds the key. */
  onChange?(status: OutputStatus): void;
}

export const DEFAULT_MAX_QUEUE_BYTES = 4 * 1024 * 1024;
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
/** Failed attempts in a row (never live in between) after which the output gives up until the next publish. */
export const MAX_FAILED_ATTEMPTS = 8;

/** Milliseconds before attempt `failures + 1`: doubling from 1 s, at most 30 s. */
export function retryDelayMs(failures: number): number {
  return Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);
}

const realClock: OutputClock = {
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class RestreamOutput {
  readonly target: RestreamTarget;
  private readonly options: RestreamOutputOptions;
  private readonly clock: OutputClock;
  private readonly maxQueueBytes: number;
  private connection: OutputConnection | undefined;
  /** The connection's first bytes must be the FLV header (a new connection), or only a resync. */
  private fresh = false;
  /** Tags are skipped until a keyframe (a new connection, or after dropping). */
  private awaitingKeyframe = true;
  private stateValue: OutputState = 'connecting';
  private reason: string | undefined;
  private failures = 0;
  private reconnects = 0;
  private droppedBytes = 0;
  private retryTimer: unknown;
  private attempt: object | undefined;
  private stopped = false;

  constructor(target: RestreamTarget, options: RestreamOutputOptions) {
    this.target = target;
    this.options = options;
    this.clock = options.clock ?? realClock;
    this.maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
  }

  get state(): OutputState {
    return this.stateValue;
  }

  status(): OutputStatus {
    return {
      id: this.target.id,
      url: redactedUrl(this.target),
      state: this.stateValue,
      ...(this.reason !== undefined && this.stateValue !== 'live' ? { reason: this.reason } : {}),
      reconnects: this.reconnects,
      droppedBytes: this.droppedBytes,
    };
  }

  /** Opens the connection (again after `failed`: a new publish tries anew). */
  start(): void {
    if (this.stopped || this.connection || this.retryTimer !== undefined) return;
    this.failures = 0;
    this.open();
  }

  /**
   * One FLV tag of the stream. `keyframe`: a video keyframe (a place to begin); `prelude` gives what
   * must come first when the output begins there.
   */
  send(tag: Uint8Array, keyframe: boolean, prelude: () => Prelude): void {
    const connection = this.connection;
    if (!connection) return;
    if (this.awaitingKeyframe) {
      if (!keyframe) return;
      const { fileHeader, tags } = prelude();
      const needed = (this.fresh ? fileHeader.length : 0) + tags.length + tag.length;
      if (connection.queuedBytes + needed > this.maxQueueBytes) {
        // Still no room: this keyframe's group is dropped too.
        this.droppedBytes += tag.length;
        return;
      }
      if (this.fresh) connection.write(fileHeader);
      connection.write(tags);
      this.fresh = false;
      this.awaitingKeyframe = false;
      connection.write(tag);
      return;
    }
    if (connection.queuedBytes + tag.length > this.maxQueueBytes) {
      // The target is slower than the stream: this output alone loses media until the next keyframe.
      this.droppedBytes += tag.length;
      this.awaitingKeyframe = true;
      return;
    }
    connection.write(tag);
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const connection = this.connection;
    this.connection = undefined;
    this.attempt = undefined;
    connection?.close();
  }

  private open(): void {
    this.setState(this.stateValue === 'retrying' ? 'retrying' : 'connecting');
    this.fresh = true;
    this.awaitingKeyframe = true;
    // Events of an earlier attempt's connection (closing late) are ignored.
    const attempt = {};
    this.attempt = attempt;
    const events: ConnectionEvents = {
      onLive: () => {
        if (this.attempt !== attempt || this.stopped) return;
        this.failures = 0;
        this.reason = undefined;
        this.setState('live');
      },
      onClosed: (why) => {
        if (this.attempt !== attempt || this.stopped) return;
        this.attempt = undefined;
        this.connection = undefined;
        this.closed(redact(why, this.target.key));
      },
    };
    let connection: OutputConnection;
    try {
      connection = this.options.connect(this.target, events);
    } catch (error) {
      this.attempt = undefined;
      this.closed(redact((error as Error).message, this.target.key));
      return;
    }
    if (this.attempt === attempt) this.connection = connection;
  }

  private closed(reason: string): void {
    this.failures += 1;
    this.reason = reason;
    if (this.failures >= MAX_FAILED_ATTEMPTS) {
      this.setState('failed');
      return;
    }
    this.setState('retrying');
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.stopped) return;
      this.reconnects += 1;
      this.open();
    }, retryDelayMs(this.failures));
  }

  private setState(state: OutputState): void {
    const changed = state !== this.stateValue;
    this.stateValue = state;
    if (changed || state !== 'live') this.options.onChange?.(this.status());
  }
}
