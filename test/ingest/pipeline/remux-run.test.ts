import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CmafSegment } from '../../../ingest/package/cmaf-segmenter.ts';
import type { CmafTrack } from '../../../ingest/package/cmaf-track.ts';
import type { StreamOutput } from '../../../ingest/publish/stream-output.ts';
import { RemuxRun } from '../../../ingest/pipeline/remux-run.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { readTags, writeFlv } from '../../helpers/flv-synth.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';

/** What a run told its stream's output, in order. */
function recordingOutput() {
  const calls: { call: string; session: string; rendition?: string; track?: CmafTrack; segment?: CmafSegment }[] = [];
  const output = {
    beginSession: (session: string) => void calls.push({ call: 'beginSession', session }),
    noteChunkReceived: () => {},
    publishInit: (session: string, rendition: string, _init: Uint8Array, track: CmafTrack) => void calls.push({ call: 'init', session, rendition, track }),
    publishPart: (session: string, rendition: string) => void calls.push({ call: 'part', session, rendition }),
    publishSegment: (session: string, rendition: string, segment: CmafSegment) => void calls.push({ call: 'segment', session, rendition, segment }),
  };
  // Only the methods a run calls: the rest of StreamOutput is not reached.
  return { calls, output: output as unknown as StreamOutput };
}

function run(output: StreamOutput, exits: string[]): RemuxRun {
  return new RemuxRun({
    renditions: PASSTHROUGH_ONLY,
    targetSegmentDuration: 2,
    chunkDuration: 0.333,
    maxPassthroughSegmentDuration: 2.45,
    output,
    log: pino({ level: 'silent' }),
    onChunk: () => {},
    onSegment: () => {},
    onKeyframeOverdue: () => {},
    onUnexpectedExit: (reason) => exits.push(reason),
  });
}

describe('remux run: the encoder run contract without ffmpeg', () => {
  it('a reconnect with a new resolution is a new session with new init segments', async () => {
    const { calls, output } = recordingOutput();
    const exits: string[] = [];
    const first = run(output, exits);
    first.write(await makeFlv({ seconds: 3, gopFrames: 60 }));
    await first.drain();
    const second = run(output, exits);
    second.write(await makeFlv({ seconds: 3, gopFrames: 60, size: '320x240' }));
    await second.drain();
    expect(first.session).not.toBe(second.session);
    expect(first.pid).toBeUndefined();
    expect(exits).toEqual([]);
    const inits = calls.filter((call) => call.call === 'init');
    expect(inits.map((call) => [call.session, call.rendition, call.track!.width ?? call.track!.sampleRate])).toEqual([
      [first.session, 'source', 640],
      [first.session, 'audio', 48000],
      [second.session, 'source', 320],
      [second.session, 'audio', 48000],
    ]);
    expect(second.tracks.get('source')).toMatchObject({ width: 320, height: 240 });
    // Every session's segments come after its init and its beginSession; drain flushed the last ones (3 s: 2 + 1).
    for (const session of [first.session, second.session]) {
      const ofSession = calls.filter((call) => call.session === session);
      expect(ofSession[0]!.call).toBe('beginSession');
      const segments = ofSession.filter((call) => call.call === 'segment' && call.rendition === 'source');
      expect(segments.map((call) => Math.round(call.segment!.duration / 90_000))).toEqual([2, 1]);
    }
  });

  it('stops at a mid-run codec change, keeps what came before, and asks for a new run', async () => {
    const { calls, output } = recordingOutput();
    const exits: string[] = [];
    const changing = run(output, exits);
    const [a, b] = await Promise.all([makeFlv({ seconds: 2.5, gopFrames: 60 }), makeFlv({ seconds: 1, gopFrames: 30, size: '320x240' })]);
    changing.write(writeFlv([...readTags(a), ...readTags(b).map((tag) => ({ ...tag, timestamp: tag.timestamp + 2600 }))]));
    changing.write(a); // ignored once stopped
    await Promise.resolve();
    expect(exits).toEqual([expect.stringMatching(/^in-process remux stopped: the source's H.264 configuration changed \(640x360 to 320x240\)/)]);
    const frames = calls.filter((call) => call.call === 'segment' && call.rendition === 'source').reduce((n, call) => n + call.segment!.chunks.reduce((m, chunk) => m + chunk.sampleCount, 0), 0);
    expect(frames).toBe(75);
  });
});
