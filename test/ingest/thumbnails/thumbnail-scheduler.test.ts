import { describe, expect, it } from 'vitest';
import { ThumbnailScheduler } from '../../../ingest/thumbnails/thumbnail-scheduler.ts';

function scheduler(maxConcurrent = 2) {
  const clock = { now: 1_000_000 };
  return { clock, scheduler: new ThumbnailScheduler({ intervalMs: 10_000, maxConcurrent, retryMs: 1_000, now: () => clock.now }) };
}

describe('thumbnail scheduler', () => {
  it('makes a stream one thumbnail per interval, counted from the start of the last', () => {
    const { clock, scheduler: s } = scheduler();
    expect(s.begin('a')).toBe(true);
    clock.now += 300;
    s.end('a');
    clock.now += 9_699;
    expect(s.isDue('a')).toBe(false);
    expect(s.begin('a')).toBe(false);
    clock.now += 1;
    expect(s.isDue('a')).toBe(true);
    expect(s.begin('a')).toBe(true);
  });

  it('runs at most one per stream at a time, even when the interval has passed', () => {
    const { clock, scheduler: s } = scheduler();
    expect(s.begin('a')).toBe(true);
    clock.now += 30_000;
    expect(s.isDue('a')).toBe(false);
    expect(s.begin('a')).toBe(false);
    s.end('a');
    expect(s.begin('a')).toBe(true);
  });

  it('runs at most maxConcurrent across the sidecar; a stream turned away asks again a second later', () => {
    const { clock, scheduler: s } = scheduler(2);
    expect(s.begin('a')).toBe(true);
    expect(s.begin('b')).toBe(true);
    expect(s.begin('c')).toBe(false);
    expect(s.busy).toBe(2);
    // Its next keyframe within the second is not taken, even with a slot free again.
    s.end('a');
    clock.now += 999;
    expect(s.isDue('c')).toBe(false);
    clock.now += 1;
    expect(s.begin('c')).toBe(true);
    expect(s.busy).toBe(2);
  });

  it('forgets a stream that ended: the same id live again is due at once', () => {
    const { scheduler: s } = scheduler();
    expect(s.begin('a')).toBe(true);
    s.end('a');
    s.forget('a');
    expect(s.begin('a')).toBe(true);
  });

  it('one stream every 10 s for a minute of keyframes every 2 s: 6 thumbnails', () => {
    const { clock, scheduler: s } = scheduler();
    let made = 0;
    for (let t = 0; t < 60_000; t += 2_000) {
      clock.now = 1_000_000 + t;
      if (s.begin('a')) {
        made += 1;
        s.end('a');
      }
    }
    expect(made).toBe(6);
  });
});
