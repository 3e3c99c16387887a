import { describe, expect, it } from 'vitest';
import { InFlight } from '../../edge/in-flight.ts';

/** A call whose outcome the test decides. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('calls shared while in flight', () => {
  it('makes one call for every caller that asks while it is pending, and a new one after', async () => {
    const inFlight = new InFlight<string>();
    let calls = 0;
    const pending = deferred<string>();
    const call = () => {
      calls += 1;
      return pending.promise;
    };
    const answers = Promise.all([inFlight.run('k', call), inFlight.run('k', call), inFlight.run('k', call)]);
    expect(inFlight.size).toBe(1);
    pending.resolve('v');
    expect(await answers).toEqual(['v', 'v', 'v']);
    expect(calls).toBe(1);
    expect(inFlight.size).toBe(0);
    await inFlight.run('k', () => Promise.resolve('again'));
    expect(calls).toBe(1);
  });

  it("gives a caller that joined a call which failed for its owner (a Workers request that ended) its own call, and the owner its failure", async () => {
    const inFlight = new InFlight<string>();
    const owners = deferred<string>();
    const owner = inFlight.run('k', () => owners.promise);
    let joinerCalls = 0;
    const joiner = inFlight.run('k', () => {
      joinerCalls += 1;
      return Promise.resolve('from its own call');
    });
    owners.reject(new Error('This promise was created by a request that has since ended, so it can never settle.'));
    await expect(owner).rejects.toThrow(/can never settle/);
    expect(await joiner).toBe('from its own call');
    expect(joinerCalls).toBe(1);
  });

  it('lets later waiters share the retry of the first, and never keeps a failed call for the next caller', async () => {
    const inFlight = new InFlight<string>();
    const dead = deferred<string>();
    void inFlight.run('k', () => dead.promise).catch(() => undefined);
    const retry = deferred<string>();
    let retries = 0;
    const again = () => {
      retries += 1;
      return retry.promise;
    };
    const waiters = [inFlight.run('k', again), inFlight.run('k', again), inFlight.run('k', again)];
    dead.reject(new Error('gone'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    retry.resolve('fresh');
    expect(await Promise.all(waiters)).toEqual(['fresh', 'fresh', 'fresh']);
    expect(retries).toBe(1);
    expect(inFlight.size).toBe(0);
  });

  it('passes on a failure of a caller\'s own call (storage down is not hidden)', async () => {
    const inFlight = new InFlight<string>();
    await expect(inFlight.run('k', () => Promise.reject(new Error('storage down')))).rejects.toThrow('storage down');
    expect(inFlight.size).toBe(0);
  });
});
