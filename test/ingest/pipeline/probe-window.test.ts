import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ProbeWindow } from '../../../ingest/pipeline/probe-window.ts';
import type { SourceFacts } from '../../../ingest/transcode/ladder.ts';
import { aacTag, avcTag, writeFlv } from '../../helpers/flv-synth.ts';

const HEADER_BYTES = 13;
const header = () => writeFlv([]);
/** Tags as they follow the header on the wire. */
const tags = (...list: Parameters<typeof writeFlv>[0]) => writeFlv(list).subarray(HEADER_BYTES);

describe('probe window', () => {
  let settled: SourceFacts[];
  let window: ProbeWindow;
  beforeEach(() => {
    vi.useFakeTimers();
    settled = [];
    window = new ProbeWindow({ targetSegmentDuration: 2, noMediaLimitMs: 10_000 }, (_probe, facts) => settled.push(facts));
    window.begin();
  });
  afterEach(() => {
    window.close();
    vi.useRealTimers();
  });

  it('waits for a publisher whose first frame is slow to come, and times its wall-clock limit from that frame', () => {
    window.push(header(), Date.now());
    vi.advanceTimersByTime(8000);
    // A segment + 3 s from the start would have judged the stream on nothing.
    expect(settled).toEqual([]);
    window.push(tags(aacTag(0, { sequenceHeader: true }), aacTag(0, {}), avcTag(0, { keyframe: true })), Date.now());
    vi.advanceTimersByTime(4900);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ audio: true, video: { keyframeInterval: undefined, probedSeconds: 0 } });
  });

  it('settles on nothing when no frame came within its limit (the pipeline then disconnects the publisher)', () => {
    window.push(header(), Date.now());
    vi.advanceTimersByTime(9900);
    expect(settled).toEqual([]);
    vi.advanceTimersByTime(200);
    expect(settled).toEqual([{ video: undefined, audio: false }]);
  });

  it('settles at once on the second keyframe', () => {
    window.push(header(), Date.now());
    window.push(tags(avcTag(0, { keyframe: true }), avcTag(1000, {}), avcTag(2000, { keyframe: true })), Date.now());
    expect(settled).toHaveLength(1);
    expect(settled[0]!.video).toMatchObject({ keyframeInterval: 2 });
    expect(window.open).toBe(false);
  });
});
