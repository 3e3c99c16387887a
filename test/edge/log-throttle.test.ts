import { describe, expect, it } from 'vitest';
import { LogThrottle } from '../../edge/log-throttle.ts';

describe('a complaint said at most once per interval', () => {
  it('says the first at once, holds back the rest of the interval, and says the next with how many were held back', () => {
    let clock = 1_000;
    const throttle = new LogThrottle(10_000, () => clock);
    expect(throttle.say('a failed')).toBe('a failed');
    expect(throttle.say('b failed')).toBeUndefined();
    clock += 9_999;
    expect(throttle.say('c failed')).toBeUndefined();
    clock += 1;
    expect(throttle.say('d failed')).toBe('d failed (and 2 more like it since the last such line)');
    // Nothing held back since: said plainly.
    clock += 10_000;
    expect(throttle.say('e failed')).toBe('e failed');
  });
});
