/**
 * Joins identical concurrent low-latency waits in this isolate (or this Node/Deno process) into
 * one call on the stream's live state: a thousand viewers blocked on the same part cost one
 * Durable Object call, and all of them get its answer. Runtime-neutral (timers only).
 *
 * What is shared is plain data only (the answer: strings, bytes, numbers), never a Response or a
 * stream: on Workers an I/O object belongs to the request that made it ("Cannot perform I/O on
 * behalf of a different request").
 *
 * How a joiner learns the answer depends on the runtime (`handOff`):
 * - Node and Deno have no request contexts: joiners await the call's promise itself.
 * - Workers: a request must not await a promise another request settles. A continuation
 *   attached to another request's promise runs in that request's context, so the joiner's
 *   response is made there and fails ("Cannot perform I/O on behalf of a different request":
 *   the 20-minute soak of 2026-11-25, BENCHMARKS.md "Soak"). So each joiner waits on a promise
 *   of its own, which the owner settles with the answer: workerd delivers a resolution made from
 *   another request to the request that made the promise and runs its continuation there
 *   (`handle_cross_request_promise_resolution`, on by default; @cloudflare/vitest-plugin turns it
 *   off, so the tests in workerd run their viewers in one request context). The alternative
 *   that crosses no promise, each joiner looking for the answer on timers of its own, costs a
 *   timer callback per joiner per interval while it waits (4 000 waiting requests polling every
 *   50 ms: 80 000 callbacks a second in one isolate) and up to an interval of latency; it was
 *   not kept (README, "Low-latency viewers at scale").
 *
 * Guards:
 * - the owner keeps its request alive until the call settles (`keepAlive`: Workers' waitUntil,
 *   which outlives a disconnected viewer by up to 30 s), so its viewer leaving ends nobody's wait;
 * - each joiner waits at most `patienceMs` from the call's start; then (its owner vanished) it
 *   calls for itself, and nobody joins a call that old;
 * - at most `maxCalls` joinable calls at once; beyond, a call is made without being joinable.
 */

/** Workers: `ctx.waitUntil`. Node and Deno have none and need none: no request context ends a call there. */
export type KeepAlive = (work: Promise<unknown>) => void;

export interface JoinedWaitsOptions {
  /** Joinable calls at once (each a distinct key); beyond, calls are made alone. */
  maxCalls: number;
  /** Workers: each joiner waits on a promise of its own, settled by the owner; unset: joiners await the call (Node, Deno). */
  handOff?: boolean;
  now?: () => number;
}

export interface JoinOptions {
  /** Keeps the owner's request alive while the call runs (Workers' waitUntil). */
  keepAlive?: KeepAlive;
  /** How long a joiner waits for the call before making its own: more than the call's own hold limit. */
  patienceMs: number;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

interface SharedCall<T> {
  startedAt: number;
  patienceMs: number;
  /** Joiners' own promises' resolvers (Workers), settled by the owner with the outcome. */
  wake: Set<(outcome: Outcome<T> | undefined) => void>;
  /** The call itself: what joiners on Node and Deno await. */
  settled: Promise<Outcome<T>>;
}

export interface JoinedWaitsStats {
  /** Calls made (each one call on the live state). */
  calls: number;
  /** Requests answered by another request's call. */
  joined: number;
  /** Joiners that gave up waiting and called for themselves. */
  impatient: number;
}

export class JoinedWaits<T> {
  private readonly calls = new Map<string, SharedCall<T>>();
  private readonly options: JoinedWaitsOptions;
  private readonly now: () => number;
  readonly stats: JoinedWaitsStats = { calls: 0, joined: 0, impatient: 0 };

  constructor(options: JoinedWaitsOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Joinable calls in progress. */
  get size(): number {
    return this.calls.size;
  }

  /** `call`'s answer: from a call in progress under `key`, or from a new one others may join. */
  run(key: string, call: () => Promise<T>, options: JoinOptions): Promise<T> {
    const shared = this.calls.get(key);
    if (shared && this.now() - shared.startedAt < shared.patienceMs) return this.join(shared, key, call, options);
    return this.lead(key, call, options);
  }

  private lead(key: string, call: () => Promise<T>, options: JoinOptions): Promise<T> {
    this.forgetAbandoned();
    this.stats.calls += 1;
    if (this.calls.size >= this.options.maxCalls) return call();
    const shared = { startedAt: this.now(), patienceMs: options.patienceMs, wake: new Set() } as unknown as SharedCall<T>;
    shared.settled = invoke(call).then((outcome) => {
      if (this.calls.get(key) === shared) this.calls.delete(key);
      for (const wake of shared.wake) wake(outcome);
      shared.wake.clear();
      return outcome;
    });
    this.calls.set(key, shared);
    options.keepAlive?.(shared.settled);
    return shared.settled.then(unwrap);
  }

  private async join(shared: SharedCall<T>, key: string, call: () => Promise<T>, options: JoinOptions): Promise<T> {
    const deadline = shared.startedAt + shared.patienceMs;
    const outcome = this.options.handOff ? await this.handedOver(shared, deadline) : await this.awaitCall(shared, deadline);
    if (!outcome) {
      // The call it joined outlived its patience (its owner vanished): nobody joins it any more.
      this.stats.impatient += 1;
      if (this.calls.get(key) === shared) this.calls.delete(key);
      return this.run(key, call, options);
    }
    this.stats.joined += 1;
    return unwrap(outcome);
  }

  /** Node and Deno: the call's own promise, or nothing once patience runs out. */
  private async awaitCall(shared: SharedCall<T>, deadline: number): Promise<Outcome<T> | undefined> {
    let timer!: ReturnType<typeof setTimeout>;
    const patience = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - this.now()))));
    try {
      return await Promise.race([shared.settled, patience]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Workers: a promise of this request's own, settled by the owner (or by this request's own timer once patience runs out). */
  private async handedOver(shared: SharedCall<T>, deadline: number): Promise<Outcome<T> | undefined> {
    let wake!: (outcome: Outcome<T> | undefined) => void;
    const woken = new Promise<Outcome<T> | undefined>((resolve) => (wake = resolve));
    shared.wake.add(wake);
    const timer = setTimeout(() => wake(undefined), Math.max(0, deadline - this.now()));
    const outcome = await woken;
    shared.wake.delete(wake);
    clearTimeout(timer);
    return outcome;
  }

  /** Calls whose owner vanished (a call never outlives its patience otherwise) are joined no more. */
  private forgetAbandoned(): void {
    const now = this.now();
    for (const [key, shared] of this.calls) {
      if (now - shared.startedAt >= shared.patienceMs) this.calls.delete(key);
    }
  }
}

function invoke<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return call().then(
      (value) => ({ ok: true, value }),
      (error: unknown) => ({ ok: false, error }),
    );
  } catch (error) {
    return Promise.resolve({ ok: false, error });
  }
}

function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}
