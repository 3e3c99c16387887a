import { describe, expect, it } from 'vitest';
import { MAX_FAILED_ATTEMPTS, RestreamOutput, retryDelayMs, type ConnectionEvents, type OutputClock, type OutputConnection, type OutputStatus } from '../../../ingest/restream/restream-output.ts';
import { redact, redactedUrl } from '../../../ingest/restream/restream-target.ts';
import { restreamFfmpegArgs } from '../../../ingest/restream/ffmpeg-connection.ts';
import { flvTagBytes, StreamRestreamer } from '../../../ingest/restream/stream-restreamer.ts';
import { FlvTagReader, type FlvTag } from '../../../ingest/media/flv-tag-reader.ts';

const KEY = 'abcd-efgh-1234/x?y=z';
const TARGET = { id: 'out_1', url: 'rtmp://target.example/live2', key: KEY };

class FakeClock implements OutputClock {
  now = 0;
  private timers: { at: number; callback: () => void; handle: number }[] = [];
  private next = 1;
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.next++;
    this.timers.push({ at: this.now + ms, callback, handle });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.handle !== handle);
  }
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const due = this.timers.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((timer) => timer !== due);
      this.now = due.at;
      due.callback();
    }
    this.now = until;
  }
}

/** A target's connection the test drives: what it was sent, how much it holds back. */
class FakeConnection implements OutputConnection {
  readonly written: Uint8Array[] = [];
  queuedBytes = 0;
  /** Whether each write stays queued (a target that takes nothing). */
  stuck = false;
  closed = false;
  readonly events: ConnectionEvents;
  constructor(events: ConnectionEvents) {
    this.events = events;
  }
  write(bytes: Uint8Array): void {
    this.written.push(bytes);
    if (this.stuck) this.queuedBytes += bytes.length;
  }
  close(): void {
    this.closed = true;
  }
  tags(): FlvTag[] {
    const reader = new FlvTagReader();
    const all = this.written.flatMap((bytes) => reader.push(bytes));
    return all;
  }
}

function harness() {
  const clock = new FakeClock();
  const connections: FakeConnection[] = [];
  const changes: OutputStatus[] = [];
  const connectTimes: number[] = [];
  const output = new RestreamOutput(TARGET, {
    clock,
    connect: (_target, events) => {
      connectTimes.push(clock.now);
      const connection = new FakeConnection(events);
      connections.push(connection);
      return connection;
    },
    onChange: (status) => changes.push(status),
  });
  return { clock, connections, changes, connectTimes, output };
}

describe('restream output', () => {
  it('connects, goes live, and after the target drops retries with a doubling backoff until live again', () => {
    const { clock, connections, connectTimes, output } = harness();
    output.start();
    expect(output.state).toBe('connecting');
    connections[0]!.events.onLive();
    expect(output.state).toBe('live');
    clock.advance(5_000);
    connections[0]!.events.onClosed(`rtmp://target.example/live2/${KEY}: Connection reset by peer`);
    expect(output.status()).toMatchObject({ state: 'retrying', reason: 'rtmp://target.example/live2/***: Connection reset by peer' });
    // Three refused attempts: 1 s, 2 s, 4 s apart.
    for (const wait of [1_000, 2_000, 4_000]) {
      clock.advance(wait - 1);
      const before = connections.length;
      expect(connections.length).toBe(before);
      clock.advance(1);
      expect(connections.length).toBe(before + 1);
      if (wait < 4_000) connections.at(-1)!.events.onClosed('Connection refused');
    }
    expect(connectTimes).toEqual([0, 6_000, 8_000, 12_000]);
    expect(output.state).toBe('retrying');
    connections.at(-1)!.events.onLive();
    expect(output.status()).toMatchObject({ state: 'live', reconnects: 3 });
    expect(output.status().reason).toBeUndefined();
    expect(retryDelayMs(1)).toBe(1_000);
    expect(retryDelayMs(10)).toBe(30_000);
  });

  it(`fails after ${MAX_FAILED_ATTEMPTS} attempts in a row and tries again at the next publish`, () => {
    const { clock, connections, output } = harness();
    output.start();
    for (let attempt = 1; attempt <= MAX_FAILED_ATTEMPTS; attempt++) {
      connections.at(-1)!.events.onClosed('Server error: authentication failed');
      clock.advance(retryDelayMs(attempt));
    }
    expect(output.status()).toMatchObject({ state: 'failed', reason: 'Server error: authentication failed' });
    expect(connections.length).toBe(MAX_FAILED_ATTEMPTS);
    clock.advance(600_000);
    expect(connections.length).toBe(MAX_FAILED_ATTEMPTS);
    output.start();
    expect(output.state).toBe('connecting');
    expect(connections.length).toBe(MAX_FAILED_ATTEMPTS + 1);
  });

  it('never says the key: not in its URL, its reasons, or any status it reports', () => {
    const { connections, changes, output } = harness();
    output.start();
    connections[0]!.events.onClosed(`Cannot open rtmp://target.example/live2/${KEY} (${encodeURIComponent(KEY)}): refused`);
    const said = JSON.stringify([output.status(), changes]);
    expect(said).toContain('rtmp://target.example/live2/***');
    expect(said).not.toContain(KEY);
    expect(said).not.toContain(encodeURIComponent(KEY));
    expect(said).not.toContain('abcd-efgh');
    expect(redactedUrl(TARGET)).toBe('rtmp://target.example/live2/***');
    expect(redact(`x ${KEY} y ${KEY}`, KEY)).toBe('x *** y ***');
  });

  it('stops: closes its connection and never reconnects', () => {
    const { clock, connections, output } = harness();
    output.start();
    connections[0]!.events.onClosed('refused');
    output.stop();
    clock.advance(60_000);
    expect(connections.length).toBe(1);
  });
});

// A synthetic stream: metadata, AVC and AAC sequence headers, then 1 s GOPs at 10 fps with audio.
const META = flvTagBytes(18, 0, Uint8Array.of(2, 0, 10, ...new TextEncoder().encode('onMetaData'), 8, 0, 0, 0, 0, 0, 0, 9));
const VIDEO_CONFIG = Uint8Array.of(0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, 0xff, 0xe1);
const AUDIO_CONFIG = Uint8Array.of(0xaf, 0, 0x12, 0x10);
function frames(fromMs: number, count: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const ts = fromMs + i * 100;
    const key = ts % 1000 === 0;
    out.push(flvTagBytes(9, ts, Uint8Array.of(key ? 0x17 : 0x27, 1, 0, 0, 0, ...new Uint8Array(2000).fill(i & 0xff))));
    out.push(flvTagBytes(8, ts + 10, Uint8Array.of(0xaf, 1, ...new Uint8Array(100))));
  }
  return out;
}
const FILE_HEADER = Uint8Array.of(0x46, 0x4c, 0x56, 1, 5, 0, 0, 0, 9, 0, 0, 0, 0);
const START = [FILE_HEADER, META, flvTagBytes(9, 0, VIDEO_CONFIG), flvTagBytes(8, 0, AUDIO_CONFIG)];

describe('stream restreamer', () => {
  function restreamer(maxQueueBytes: number) {
    const connections = new Map<string, FakeConnection>();
    const restream = new StreamRestreamer({
      targets: [{ ...TARGET, id: 'fast' }, { ...TARGET, id: 'slow' }],
      maxQueueBytes,
      clock: new FakeClock(),
      connect: (target, events) => {
        const connection = new FakeConnection(events);
        connection.stuck = target.id === 'slow';
        connections.set(target.id, connection);
        return connection;
      },
    });
    restream.publisherAttached();
    for (const connection of connections.values()) connection.events.onLive();
    return { restream, fast: connections.get('fast')!, slow: connections.get('slow')! };
  }

  it('a slow target drops only its own media and resumes at a keyframe with the sequence headers; the fast one gets everything', () => {
    const { restream, fast, slow } = restreamer(30_000);
    for (const bytes of [...START, ...frames(0, 40)]) restream.write(bytes);
    const fastTags = fast.tags();
    expect(fastTags.filter((tag) => tag.type === 9 && tag.data[1] === 1)).toHaveLength(40);
    // It began with the metadata and both sequence headers.
    expect(fastTags.slice(0, 3).map((tag) => [tag.type, tag.data[1]])).toEqual([[18, 0], [9, 0], [8, 0]]);
    const slowStatus = restream.status().find((status) => status.id === 'slow')!;
    expect(slowStatus.droppedBytes).toBeGreaterThan(0);
    expect(restream.status().find((status) => status.id === 'fast')!.droppedBytes).toBe(0);
    expect(slow.queuedBytes).toBeLessThanOrEqual(30_000);

    // The target catches up: the slow output writes nothing until the next keyframe, which comes after its headers.
    slow.stuck = false;
    slow.queuedBytes = 0;
    const before = slow.written.length;
    for (const bytes of frames(3_500, 15)) restream.write(bytes);
    const resumed = new FlvTagReader();
    resumed.push(FILE_HEADER);
    const after = slow.written.slice(before).flatMap((bytes) => resumed.push(bytes));
    expect(after.slice(0, 4).map((tag) => [tag.type, tag.data[0], tag.data[1]])).toEqual([[18, 2, 0], [9, 0x17, 0], [8, 0xaf, 0], [9, 0x17, 1]]);
    expect(after[3]!.timestamp).toBe(4_000);
    // No second FLV file header in the same connection.
    expect(slow.written.slice(before).some((bytes) => bytes[0] === 0x46 && bytes[1] === 0x4c && bytes[2] === 0x56)).toBe(false);
  });

  it('continues the timeline across a reconnecting publisher and does not resend a replay', () => {
    const { restream, fast } = restreamer(1 << 30);
    for (const bytes of [...START, ...frames(0, 20)]) restream.write(bytes);
    // A replay of the same publisher's last GOP (a resubscribe): nothing new is sent.
    const sent = fast.tags().length;
    for (const bytes of [...START, ...frames(1_000, 10)]) restream.write(bytes);
    expect(fast.tags().filter((tag) => tag.data[1] === 1).length).toBe(sent - 3);
    // A new publisher whose clock starts again at 0.
    restream.publisherAttached();
    for (const bytes of [...START, ...frames(0, 10)]) restream.write(bytes);
    const media = fast.tags().filter((tag) => tag.type === 9 && tag.data[1] === 1).map((tag) => tag.timestamp);
    expect(media).toHaveLength(30);
    for (let i = 1; i < media.length; i++) expect(media[i]!).toBeGreaterThan(media[i - 1]!);
  });
});

describe('the restream ffmpeg', () => {
  it('copies audio and video without re-encoding, and verifies an RTMPS target\'s certificate', () => {
    const rtmp = restreamFfmpegArgs('rtmp://example.com/app/key');
    expect(rtmp.join(' ')).toContain('-map 0:v? -map 0:a? -c copy');
    expect(rtmp).not.toContain('-tls_verify');
    expect(restreamFfmpegArgs('rtmps://example.com/app/key').join(' ')).toContain('-tls_verify 1');
    expect(restreamFfmpegArgs('rtmps://example.com/app/key', { caFile: '/ca.pem' }).join(' ')).toContain('-tls_verify 1 -ca_file /ca.pem');
  });
});
