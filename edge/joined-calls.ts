/**
 * Joins identical concurrent calls in this isolate into one (a thousand viewers of a new segment,
 * or blocked on the same part, cost one storage read or one Durable Object call) without sharing
 * a promise between requests.
 *
 * Why not share the promise: on Workers a promise belongs to the request whose I/O settles it.
 * When that request ends first (its viewer went away), every other request awaiting it fails
 * ("This promise was created by a request that has since ended, so it can never settle"), and the
 * dead entry fails every later request for its key: the 20-minute soak found exactly that.
 * Instead each joiner waits on a promise of its own, which the call's owner settles with the
 * outcome: the runtime delivers a resolution made from another request to the request that
 * waits, and runs its continuation there (workerd's default, `handle_cross_request_promise_resolution`;
 * @cloudflare/vitest-plugin turns it off, so only `wrangler dev` and Cloudflare can show this). The owner asks its request to live until the call settles (`keepAlive`, Workers'
 * waitUntil: it outlives a disconnected client for up to 30 s). Should an owner still vanish, its
 * joiners stop waiting `patienceMs` after the call began and call for themselves, and nobody
 * joins a call older than `joinWithinMs`.
 */

/** Workers: `ctx.waitUntil`. Node and Deno need none: nothing ends a call with its request there. */
export type KeepAlive = (work: Promise<unknown>) => void;

export interface JoinedCallsOptions {
  /** A call older than this takes no new joiners: a new one starts. */
  joinWithinMs: number;
  /** A joiner whose call has not settled this long after it began calls for itself. */
  patienceMs: number;
  now?: () => number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface SharedCall<T> {
  startedAt: number;
  wake: Set<(outcome: Outcome<T>) => void>;
}

export class JoinedCalls<T> {
  private readonly calls = new Map<string, SharedCall<T>>();
  private readonly options: JoinedCallsOptions;
  private readonly now: () => number;

  constructor(options: JoinedCallsOptions) {
    // A joiner must be able to wait at least as long as others may still join (else it could give up on a live call at once).
    if (options.patienceMs < options.joinWithinMs) throw new RangeError('patienceMs must be at least joinWithinMs');
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Calls in progress (including any whose owner vanished and which no one has replaced yet). */
  get size(): number {
    return this.calls.size;
  }

  run(key: string, call: () => Promise<T>, keepAlive?: KeepAlive): Promise<T> {
    const shared = this.calls.get(key);
    const age = shared ? this.now() - shared.startedAt : Infinity;
    if (shared && age < this.options.joinWithinMs) return this.join(shared, key, call, keepAlive, this.options.patienceMs - age);
    return this.lead(key, call, keepAlive);
  }

  private lead(key: string, call: () => Promise<T>, keepAlive: KeepAlive | undefined): Promise<T> {
    this.forgetAbandoned();
    const shared: SharedCall<T> = { startedAt: this.now(), wake: new Set() };
    this.calls.set(key, shared);
    const settled = invoke(call).then((outcome) => {
      if (this.calls.get(key) === shared) this.calls.delete(key);
      for (const wake of shared.wake) wake(outcome);
      return outcome;
    });
    keepAlive?.(settled);
    return settled.then(unwrap);
  }

  private async join(shared: SharedCall<T>, key: string, call: () => Promise<T>, keepAlive: KeepAlive | undefined, waitMs: number): Promise<T> {
    let wake!: (outcome: Outcome<T> | undefined) => void;
    const woken = new Promise<Outcome<T> | undefined>((resolve) => (wake = resolve));
    shared.wake.add(wake);
    // The timer is this request's own, so the runtime never takes it for a request that hung.
    const timer = setTimeout(() => wake(undefined), Math.max(0, waitMs));
    const outcome = await woken;
    clearTimeout(timer);
    shared.wake.delete(wake);
    return outcome ? unwrap(outcome) : this.run(key, call, keepAlive);
  }

  /** Entries whose owner vanished (a call never outlives patience otherwise) are dropped. */
  private forgetAbandoned(): void {
    const now = this.now();
    for (const [key, shared] of this.calls) {
      if (now - shared.startedAt > this.options.patienceMs) this.calls.delete(key);
    }
  }
}

function invoke<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return call().then((value) => ({ ok: true, value }), (error: unknown) => ({ ok: false, error }));
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
}

function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}
