import { describe, expect, it } from 'vitest';
import { buildStreamStatus } from '../../ingest/publish/stream-manifests.ts';
import { parseStreamStatus } from '../../shared/stream-status.ts';

const facts = { playbackId: 'colors', state: 'live' as const, startedAt: 1, now: 2, targetDuration: 2, sessions: 1, playback: 'public' as const };

describe('the status document between the sidecar and the edge', () => {
  it('reads what the sidecar writes: live with low-latency parts, and ended', () => {
    for (const status of [buildStreamStatus({ ...facts, partTarget: 0.5 }, []), buildStreamStatus({ ...facts, state: 'ended' }, [])]) {
      expect(parseStreamStatus(JSON.parse(JSON.stringify(status)))).toEqual({ ok: true, status });
    }
  });

  it("reads a newer sidecar's document with fields of its own", () => {
    const status = { ...buildStreamStatus(facts, []), viewerCount: 3 };
    expect(parseStreamStatus(status).ok).toBe(true);
  });

  it('reads a document written before restarts had its name (reconnects), as restarts', () => {
    const { restarts, ...rest } = buildStreamStatus({ ...facts, sessions: 3 }, []);
    expect(restarts).toBe(2);
    expect(parseStreamStatus({ ...rest, reconnects: 2 })).toEqual({ ok: true, status: { ...rest, restarts: 2 } });
    expect(parseStreamStatus({ ...rest, reconnects: 'two' })).toEqual({ ok: false, reason: 'restarts is not a number' });
    expect(parseStreamStatus(rest)).toEqual({ ok: false, reason: 'restarts is not a number' });
  });

  it('reads a document written before the public id was called playbackId (streamId), as playbackId', () => {
    const { playbackId, ...rest } = buildStreamStatus(facts, []);
    expect(parseStreamStatus({ ...rest, streamId: playbackId })).toEqual({ ok: true, status: { ...rest, playbackId } });
    expect(parseStreamStatus({ ...rest, streamId: 7 })).toEqual({ ok: false, reason: 'playbackId is not a string' });
    expect(parseStreamStatus(rest)).toEqual({ ok: false, reason: 'playbackId is not a string' });
  });

  it.each([
    { name: 'null', value: null, reason: 'not a JSON object' },
    { name: 'a list', value: [], reason: 'not a JSON object' },
    { name: 'an unknown state', value: { ...buildStreamStatus(facts, []), state: 'paused' }, reason: 'unknown state "paused"' },
    { name: 'a number as a string', value: { ...buildStreamStatus(facts, []), startedAt: '1' }, reason: 'startedAt is not a number' },
    { name: 'renditions without kinds', value: { ...buildStreamStatus(facts, []), renditions: [{ name: 'source', codec: 'avc1' }] }, reason: 'renditions is not a list of renditions' },
    { name: 'parts of no length', value: { ...buildStreamStatus(facts, []), lowLatency: { partTarget: 0 } }, reason: 'lowLatency has no positive partTarget' },
  ])('says why $name is not one', ({ value, reason }) => {
    expect(parseStreamStatus(value)).toEqual({ ok: false, reason });
  });
});
