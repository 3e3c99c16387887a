import { describe, expect, it } from 'vitest';
import { JoinedCalls } from '../../edge/joined-calls.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A call that settles when told to, counting how often it was made. */
function controlledCall<T>() {
  let calls = 0;
  const pending: Array<{ resolve(value: T): void; reject(error: unknown): void }> = [];
  return {
    get calls() {
      return calls;
    },
    call: () => {
      calls += 1;
      return new Promise<T>((resolve, reject) => pending.push({ resolve, reject }));
    },
    settle: (index: number, value: T) => pending[index]!.resolve(value),
    fail: (index: number, error: unknown) => pending[index]!.reject(error),
  };
}

describe('JoinedCalls', () => {
  it('makes concurrent identical calls one, and gives every caller its result', async () => {
    const joined = new JoinedCalls<string>({ joinWithinMs: 1000, patienceMs: 1000 });
    const target = controlledCall<string>();
    const results = Promise.all(Array.from({ length: 50 }, () => joined.run('k', target.call)));
    target.settle(0, 'answer');
    expect(await results).toEqual(Array(50).fill('answer'));
    expect(target.calls).toBe(1);
    expect(joined.size).toBe(0);
  });

  it('keeps different keys apart, and calls again once a call has settled', async () => {
    const joined = new JoinedCalls<string>({ joinWithinMs: 1000, patienceMs: 1000 });
    let calls = 0;
    const call = (value: string) => async () => {
      calls += 1;
      return value;
    };
    expect(await Promise.all([joined.run('a', call('a')), joined.run('b', call('b'))])).toEqual(['a', 'b']);
    expect(await joined.run('a', call('again'))).toBe('again');
    expect(calls).toBe(3);
  });

  it('gives every joiner the failure of the call, without calling again', async () => {
    const joined = new JoinedCalls<string>({ joinWithinMs: 1000, patienceMs: 1000 });
    const target = controlledCall<string>();
    const results = Array.from({ length: 5 }, () => joined.run('k', target.call));
    target.fail(0, new Error('storage unavailable'));
    for (const result of results) await expect(result).rejects.toThrow('storage unavailable');
    expect(target.calls).toBe(1);
    expect(joined.size).toBe(0);
  });

  it('turns a call that throws before returning a promise into a failure for all', async () => {
    const joined = new JoinedCalls<string>({ joinWithinMs: 1000, patienceMs: 1000 });
    const broken = () => {
      throw new Error('no promise');
    };
    await expect(joined.run('k', broken)).rejects.toThrow('no promise');
    expect(joined.size).toBe(0);
  });

  it('hands the owner\'s keepAlive a promise that settles with the call and never rejects', async () => {
    const joined = new JoinedCalls<string>({ joinWithinMs: 1000, patienceMs: 1000 });
    const target = controlledCall<string>();
    const kept: Array<Promise<unknown>> = [];
    const owner = joined.run('k', target.call, (work) => kept.push(work));
    const joiner = joined.run('k', target.call, (work) => kept.push(work));
    expect(kept).toHaveLength(1);
    target.fail(0, new Error('gone'));
    await expect(owner).rejects.toThrow('gone');
    await expect(joiner).rejects.toThrow('gone');
    await expect(kept[0]).resolves.toBeDefined();
  });

  it('lets joiners of a call that never settles (its request vanished) call for themselves after their patience', async () => {
    const joined = new JoinedCalls<string>({ joinWithinMs: 40, patienceMs: 40 });
    const target = controlledCall<string>();
    void joined.run('k', target.call); // the owner, whose call will never settle
    const joiners = Promise.all(Array.from({ length: 10 }, () => joined.run('k', target.call)));
    await sleep(80);
    // The first joiner to give up started a new call; the others joined it.
    expect(target.calls).toBe(2);
    target.settle(1, 'fresh');
    expect(await joiners).toEqual(Array(10).fill('fresh'));
    expect(joined.size).toBe(0);
  });

  it('lets no one join a call older than joinWithinMs, and an old call settling leaves its successor in place', async () => {
    let clock = 0;
    const joined = new JoinedCalls<string>({ joinWithinMs: 20, patienceMs: 1000, now: () => clock });
    const target = controlledCall<string>();
    const first = joined.run('k', target.call);
    clock = 30;
    const second = joined.run('k', target.call);
    expect(target.calls).toBe(2);
    target.settle(0, 'old');
    expect(await first).toBe('old');
    expect(joined.size).toBe(1);
    clock = 40;
    const third = joined.run('k', target.call);
    expect(target.calls).toBe(2);
    target.settle(1, 'new');
    expect(await Promise.all([second, third])).toEqual(['new', 'new']);
    expect(joined.size).toBe(0);
  });
});
