import { describe, expect, it } from 'vitest';
import { recordsBroadcasts } from '../../../ingest/recordings/recording-decision.ts';

describe('whether a stream records', () => {
  it.each([
    { name: 'no setting, retention window', setting: undefined, retention: 'window' as const, expected: false },
    { name: 'no setting (null), retention all', setting: null, retention: 'all' as const, expected: true },
    { name: 'on, with retention window (its media then kept from window retention)', setting: true, retention: 'window' as const, expected: true },
    { name: 'off, with retention all (everything kept, no recording made)', setting: false, retention: 'all' as const, expected: false },
  ])('$name: $expected', ({ setting, retention, expected }) => {
    expect(recordsBroadcasts(setting, retention)).toBe(expected);
  });
});
