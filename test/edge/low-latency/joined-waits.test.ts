/** Identical concurrent waits joined into one call: what joiners get, and when they call for themselves. */
import { describe, expect, it } from 'vitest';
import { JoinedWaits } from '../../../edge/low-latency/joined-waits.ts';

/** A call that settles when told to, counting how often it was made. */
function controlledCall<T>() {
  const pending: Array<{ resolve: (value: T) => void; reject: (error: unknown) => void }> = [];
  return {
    made: () => pending.length,
    call: () => new Promise<T>((resolve, reject) => pending.push({ resolve, reject })),
    resolve: (value: T, which = 0) => pending[which]!.resolve(value),
    reject: (error: unknown, which = 0) => pending[which]!.reject(error),
  };
}

for (const pollMs of [undefined, 5]) {
  describe(`joined waits (${pollMs ? 'joiners look for the answer on timers of their own, as on Workers' : 'joiners await the call, as on Node and Deno'})`, () => {
    it('makes one call for identical concurrent waits, and every waiter gets its answer', async () => {
      const waits = new JoinedWaits<string>({ maxCalls: 100, pollMs });
      const target = controlledCall<string>();
      const answers = Promise.all(Array.from({ length: 500 }, () => waits.run('video/3.1', target.call, { patienceMs: 5000 })));
      const other = waits.run('audio/3.1', async () => 'audio answer', { patienceMs: 5000 });
      expect(target.made()).toBe(1);
      target.resolve('the playlist');
      expect(new Set(await answers)).toEqual(new Set(['the playlist']));
      expect(await other).toBe('audio answer');
      expect(waits.stats).toEqual({ calls: 2, joined: 499, impatient: 0 });
      // Settled calls are forgotten: a later wait makes a new call.
      expect(waits.size).toBe(0);
    });

    it("gives every waiter the call's failure", async () => {
      const waits = new JoinedWaits<string>({ maxCalls: 100, pollMs });
      const target = controlledCall<string>();
      const answers = Array.from({ length: 3 }, () => waits.run('k', target.call, { patienceMs: 5000 }));
      target.reject(new Error('object unreachable'));
      for (const answer of answers) await expect(answer).rejects.toThrow('object unreachable');
    });

    it('lets a joiner whose call never settles (its owner vanished) call for itself after its patience, and nobody joins that call after', async () => {
      const waits = new JoinedWaits<string>({ maxCalls: 100, pollMs });
      const target = controlledCall<string>();
      void waits.run('k', target.call, { patienceMs: 200 }).catch(() => undefined);
      const joiner = waits.run('k', target.call, { patienceMs: 200 });
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(target.made()).toBe(2);
      target.resolve('from its own call', 1);
      expect(await joiner).toBe('from its own call');
      expect(waits.stats.impatient).toBe(1);
      // A wait after the abandoned call's patience starts its own call.
      void waits.run('k', target.call, { patienceMs: 200 });
      expect(target.made()).toBe(3);
    });

    it('makes calls alone beyond its cap of joinable calls', async () => {
      const waits = new JoinedWaits<number>({ maxCalls: 2, pollMs });
      let made = 0;
      const call = () => new Promise<number>((resolve) => setTimeout(() => resolve((made += 1)), 20));
      const answers = await Promise.all(['a', 'b', 'c', 'c'].map((key) => waits.run(key, call, { patienceMs: 5000 })));
      // a and b are joinable; both waits for c go alone (two calls).
      expect(made).toBe(4);
      expect(answers.slice(0, 2).every((answer) => answer >= 1)).toBe(true);
    });

    it('keeps the owner alive while the call runs (Workers: waitUntil)', async () => {
      const waits = new JoinedWaits<string>({ maxCalls: 100, pollMs });
      const kept: Array<Promise<unknown>> = [];
      const answer = waits.run('k', async () => 'x', { patienceMs: 1000, keepAlive: (work) => kept.push(work) });
      expect(kept).toHaveLength(1);
      expect(await answer).toBe('x');
    });
  });
}
