/**
 * One call per key at a time, its result shared with every caller that asks meanwhile (the
 * isolate's coalescing of storage reads and of waits on the stream's Durable Object).
 *
 * On Workers a promise belongs to the request whose I/O made it: when that request ends first
 * (its viewer went away: hls.js abandons a held playlist request after 0.8 target durations),
 * every other request awaiting it fails with "This promise was created by a request that has
 * since ended, so it can never settle", and the dead promise never settles in its own request
 * either. So a caller that joined someone else's call and saw it fail makes its own call, and a
 * call stays shared only while it is pending in the map: a failure takes it out at once.
 */
export class InFlight<T> {
  private readonly calls = new Map<string, Promise<T>>();

  /** Calls in flight right now. */
  get size(): number {
    return this.calls.size;
  }

  /** `joins`: how many calls of others it may wait on in turn before it makes its own. */
  run(key: string, call: () => Promise<T>, joins = 2): Promise<T> {
    const joined = this.calls.get(key);
    if (!joined || joins === 0) return this.start(key, call);
    return joined.catch(() => {
      if (this.calls.get(key) === joined) this.calls.delete(key);
      // The next call under way (another waiter's retry), or its own, shared with whoever asks next.
      return this.run(key, call, joins - 1);
    });
  }

  private start(key: string, call: () => Promise<T>): Promise<T> {
    const promise = call();
    this.calls.set(key, promise);
    const forget = () => {
      if (this.calls.get(key) === promise) this.calls.delete(key);
    };
    promise.then(forget, forget);
    return promise;
  }
}
