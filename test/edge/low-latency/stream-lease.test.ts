/** Who gets a stream's lease: the decision table (issue 16 item 3). */
import { describe, expect, it } from 'vitest';
import { decideLease } from '../../../edge/low-latency/stream-lease.ts';

const held = { sidecar: 'a', broadcast: 'one', expiresAt: 10_000 };

describe('stream lease', () => {
  it('goes to anyone while nobody holds the stream', () => {
    expect(decideLease(undefined, { sidecar: 'b', broadcast: 'x' }, 0)).toEqual({ grant: true });
  });

  it('is refused to another sidecar while held, with the time it has left', () => {
    const decision = decideLease(held, { sidecar: 'b', broadcast: 'x' }, 7_500);
    expect(decision).toEqual({ grant: false, reason: expect.stringMatching(/another sidecar.*3 s/) });
  });

  it('goes again to the holding sidecar (a reconnecting channel, its next broadcast)', () => {
    expect(decideLease(held, { sidecar: 'a', broadcast: 'two' }, 9_999)).toEqual({ grant: true, replaces: held });
  });

  it('goes to anyone once expired (its holder stopped renewing it)', () => {
    expect(decideLease(held, { sidecar: 'b', broadcast: 'x' }, 10_000)).toEqual({ grant: true });
  });
});
