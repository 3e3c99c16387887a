/** At most N tasks at once; the others wait their turn, first come first served. */
export class ConcurrencyLimit {
  private readonly limit: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running += 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes straight to the next in line, or frees up.
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}
