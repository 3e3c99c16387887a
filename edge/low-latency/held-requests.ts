/**
 * Requests held until what they ask for exists, grouped by what they wait for: one release
 * answers a whole group, and each request gets its own time limit. Runtime-neutral (timers only).
 */
interface Held<T> {
  resolve(answer: T): void;
  timer: ReturnType<typeof setTimeout>;
}

interface Group<T, M> {
  /** What the group waits for (the same for every request in it). */
  wanted: M;
  held: Set<Held<T>>;
}

export class HeldRequests<T, M = undefined> {
  private readonly groups = new Map<string, Group<T, M>>();

  /** Requests held right now. */
  get size(): number {
    let count = 0;
    for (const group of this.groups.values()) count += group.held.size;
    return count;
  }

  /** Holds a request in group `key` until released, or answers `onTimeout` after `holdMs`. */
  hold(key: string, wanted: M, holdMs: number, onTimeout: T): Promise<T> {
    let group = this.groups.get(key);
    if (!group) {
      group = { wanted, held: new Set() };
      this.groups.set(key, group);
    }
    const { held } = group;
    return new Promise<T>((resolve) => {
      const request: Held<T> = {
        resolve,
        timer: setTimeout(() => {
          held.delete(request);
          if (held.size === 0 && this.groups.get(key)?.held === held) this.groups.delete(key);
          resolve(onTimeout);
        }, holdMs),
      };
      held.add(request);
    });
  }

  /** The groups waiting, with what each waits for. */
  waiting(): Array<[key: string, wanted: M]> {
    return [...this.groups].map(([key, group]) => [key, group.wanted]);
  }

  /** Answers every request of group `key`. */
  release(key: string, answer: T): void {
    const group = this.groups.get(key);
    if (!group) return;
    this.groups.delete(key);
    for (const request of group.held) {
      clearTimeout(request.timer);
      request.resolve(answer);
    }
  }

  releaseAll(answer: T): void {
    for (const key of [...this.groups.keys()]) this.release(key, answer);
  }
}

/** How many requests one stream may hold at once, in all and per client address. */
export interface HeldLimits {
  perStream: number;
  perAddress: number;
}

export type Admission = { ok: true; release: () => void } | { ok: false; limit: 'stream' | 'address' };

/**
 * Counts held requests against the limits: a request is admitted before it is held and gives its
 * place back once answered. Without an address (a runtime that does not tell, or loopback: see
 * client-address.ts) only the stream's limit applies.
 */
export class HeldCounter {
  private readonly limits: HeldLimits;
  private total = 0;
  private readonly byAddress = new Map<string, number>();

  constructor(limits: HeldLimits) {
    this.limits = limits;
  }

  get held(): number {
    return this.total;
  }

  admit(address: string | undefined): Admission {
    if (this.total >= this.limits.perStream) return { ok: false, limit: 'stream' };
    const mine = address === undefined ? 0 : (this.byAddress.get(address) ?? 0);
    if (address !== undefined && mine >= this.limits.perAddress) return { ok: false, limit: 'address' };
    this.total += 1;
    if (address !== undefined) this.byAddress.set(address, mine + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        this.total -= 1;
        if (address === undefined) return;
        const left = (this.byAddress.get(address) ?? 1) - 1;
        if (left === 0) this.byAddress.delete(address);
        else this.byAddress.set(address, left);
      },
    };
  }
}
