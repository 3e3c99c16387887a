import { describe, expect, it } from 'vitest';
import { outputStatusLine, parseOutputStatesReport } from '../../shared/output-states.ts';
import { currentOutputState } from '../../edge/platform/stream-outputs.ts';

describe('restream output state reports', () => {
  it('reads a report of a stream with outputs in each state', () => {
    const report = { playbackId: 'pbsimulcast', outputs: [{ id: 'out_0000000a', state: 'live' }, { id: 'youtube', state: 'failed', reason: 'Server returned 403 Forbidden' }] };
    expect(parseOutputStatesReport(report)).toEqual({ ok: true, report });
  });

  it.each([
    { name: 'a list', value: [], reason: /JSON object/ },
    { name: 'a path as playback id', value: { playbackId: '../x', outputs: [] }, reason: /playbackId/ },
    { name: 'eleven outputs', value: { playbackId: 'pb', outputs: Array.from({ length: 11 }, (_, i) => ({ id: `o${i}`, state: 'live' })) }, reason: /at most 10/ },
    { name: 'an unknown state', value: { playbackId: 'pb', outputs: [{ id: 'o1', state: 'paused' }] }, reason: /state/ },
    { name: 'an id with a slash', value: { playbackId: 'pb', outputs: [{ id: 'o/1', state: 'live' }] }, reason: /id/ },
    { name: 'a reason of two lines', value: { playbackId: 'pb', outputs: [{ id: 'o1', state: 'failed', reason: 'a\nb' }] }, reason: /one line/ },
    { name: 'an overlong reason', value: { playbackId: 'pb', outputs: [{ id: 'o1', state: 'failed', reason: 'x'.repeat(301) }] }, reason: /300/ },
  ])('refuses $name', ({ value, reason }) => {
    const parsed = parseOutputStatesReport(value);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });

  it('says a state in one line, with its reason when it is retrying or failed', () => {
    expect(outputStatusLine('failed', 'connection refused')).toBe('failed: connection refused');
    expect(outputStatusLine('retrying', 'connection reset')).toBe('retrying: connection reset');
    expect(outputStatusLine('live', 'stale')).toBe('live');
    expect(outputStatusLine('idle')).toBe('idle');
  });

  it('shows an output idle when nothing reported it or its last report is older than 90 s', () => {
    const base = { id: 'out_0000000a', url: 'rtmp://x/live', key: 'k', createdAt: '2026-12-06T08:00:00.000Z' };
    const now = new Date('2026-12-06T09:00:00.000Z');
    expect(currentOutputState(base, now)).toEqual({ state: 'idle' });
    const fresh = { ...base, reported: { state: 'retrying' as const, reason: 'refused', at: '2026-12-06T08:59:00.000Z' } };
    expect(currentOutputState(fresh, now)).toEqual({ state: 'retrying', reason: 'refused', at: '2026-12-06T08:59:00.000Z' });
    const stale = { ...base, reported: { state: 'live' as const, at: '2026-12-06T08:58:29.000Z' } };
    expect(currentOutputState(stale, now)).toEqual({ state: 'idle', at: '2026-12-06T08:58:29.000Z' });
  });
});
