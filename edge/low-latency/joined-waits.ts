/**
 * Joins identical concurrent low-latency waits in this isolate (or this Node/Deno process) into
 * one call on the stream's live state: a thousand viewers blocked on the same part cost one
 * Durable Object call, and all of them get its answer. Runtime-neutral (timers only).
 *
 * What is shared is plain data only (the answer: strings, bytes, numbers), never a Response or a
 * stream: on Workers an I/O object belongs to the request that made it ("Cannot perform I/O on
 * behalf of a different request").
 *
 * How a joiner learns the answer depends on the runtime (`pollMs`):
 * - Node and Deno have no request contexts: joiners await the call's promise itself.
 * - Workers: no promise crosses from one request to another. A continuation attached to another
 *   request's promise runs in that request's context, so the joiner's response is made there and
 *   fails ("Cannot perform I/O on behalf of a different request": the 20-minute soak of
 *   2026-11-25, BENCHMARKS.md "Soak"). Handing the answer to a promise of the joiner's own,
 *   settled by the owner (workerd's cross-request promise resolution), failed the same way under
 *   `wrangler dev`: 100 viewers following the live edge, one request in ten leaving after 30 ms,
 *   ran clean for 3.5 minutes, then got 2 484 500s and 17 518 log lines of requests waiting on
 *   each other within the next minute (2026-12-06). So the owner writes the answer (plain data) where its joiners look,
 *   and each joiner looks for it on timers of its own, every `pollMs`: only its own context ever
 *   runs its code. The cost: up to `pollMs` more wait for a joiner, and a timer callback per
 *   `pollMs` while it waits.
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
  /** Workers: joiners look for the answer this often, on timers of their own; unset: joiners await the call (Node, Deno). */
  pollMs?: number;
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
  /** Set by the owner when the call settles: where joiners on Workers look. */
  outcome?: Outcome<T>;
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
    const shared = { startedAt: this.now(), patienceMs: options.patienceMs } as SharedCall<T>;
    shared.settled = invoke(call).then((outcome) => {
      shared.outcome = outcome;
      if (this.calls.get(key) === shared) this.calls.delete(key);
      return outcome;
    });
    this.calls.set(key, shared);
    options.keepAlive?.(shared.settled);
    return shared.settled.then(unwrap);
  }

  private async join(shared: SharedCall<T>, key: string, call: () => Promise<T>, options: JoinOptions): Promise<T> {
    const deadline = shared.startedAt + shared.patienceMs;
    const outcome = this.options.pollMs === undefined ? await this.awaitCall(shared, deadline) : await this.lookFor(shared, deadline, this.options.pollMs);
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

  /** Workers: the answer where the owner writes it, looked for on this request's own timers. */
  private async lookFor(shared: SharedCall<T>, deadline: number, pollMs: number): Promise<Outcome<T> | undefined> {
    while (shared.outcome === undefined) {
      const left = deadline - this.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => setTimeout(() => resolve(), Math.min(pollMs, left)));
    }
    return shared.outcome;
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
