/** A number of bytes shared by many holders: each reserves before it allocates and gives back when done. */
export class ByteBudget {
  readonly limit: number;
  private reserved = 0;

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.reserved;
  }

  /** False (and nothing reserved) when the bytes would take the total past the limit. */
  reserve(bytes: number): boolean {
    if (this.reserved + bytes > this.limit) return false;
    this.reserved += bytes;
    return true;
  }

  release(bytes: number): void {
    this.reserved = Math.max(0, this.reserved - bytes);
  }
}
