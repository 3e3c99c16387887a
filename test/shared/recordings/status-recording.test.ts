import { describe, expect, it } from 'vitest';
import { buildStreamStatus } from '../../../ingest/publish/stream-manifests.ts';
import { recordingUrls } from '../../../shared/recordings/recording-layout.ts';
import { parseStreamStatus } from '../../../shared/stream-status.ts';

const facts = { playbackId: 'colors', state: 'ended' as const, startedAt: 1, now: 2, targetDuration: 2, sessions: 1, playback: 'public' as const };

describe("the status document's recording (what the player page plays once the stream ended)", () => {
  it('reads back the latest broadcast\'s recording with its id, state and URLs', () => {
    const recording = { id: 'r00000000xyz', state: 'ready' as const, ...recordingUrls('colors', 'r00000000xyz') };
    const status = buildStreamStatus({ ...facts, recording }, []);
    expect(status.recording).toEqual({ id: 'r00000000xyz', state: 'ready', hls: '/recordings/colors/r00000000xyz/index.m3u8', dash: '/recordings/colors/r00000000xyz/manifest.mpd', mp4: '/recordings/colors/r00000000xyz.mp4' });
    expect(parseStreamStatus(JSON.parse(JSON.stringify(status)))).toEqual({ ok: true, status });
  });

  it('a stream that does not record has none', () => {
    expect(buildStreamStatus(facts, []).recording).toBeUndefined();
  });

  it.each([
    { name: 'an unknown state', recording: { id: 'r00000000xyz', state: 'done', ...recordingUrls('colors', 'r00000000xyz') } },
    { name: 'a URL on another site', recording: { id: 'r00000000xyz', state: 'ready', ...recordingUrls('colors', 'r00000000xyz'), hls: 'https://evil.example/x.m3u8' } },
    { name: 'no URLs', recording: { id: 'r00000000xyz', state: 'ready' } },
  ])('refuses a recording with $name', ({ recording }) => {
    expect(parseStreamStatus({ ...buildStreamStatus(facts, []), recording })).toEqual({ ok: false, reason: 'recording is not {id, state: recording|ready, hls, dash, mp4}' });
  });
});
