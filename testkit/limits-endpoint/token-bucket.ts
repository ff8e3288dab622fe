/** The token bucket behind every per-shard limit of the limits endpoint (and the pacer's tests). */

/** A token bucket holding at most one second of `rate`; it may go into debt (`take(…, true)`). */
export class TokenBucket {
  private tokens: number;
  private updated: number;
  constructor(
    readonly rate: number,
    private readonly now: () => number,
    readonly capacity = rate,
  ) {
    this.tokens = capacity;
    this.updated = now();
  }
  available(): number {
    const t = this.now();
    if (t > this.updated) {
      this.tokens = Math.min(this.capacity, this.tokens + ((t - this.updated) * this.rate) / 1000);
      this.updated = t;
    }
    return this.tokens;
  }
  /** Takes `n` when available (or always, with `debt`); returns whether it was taken. */
  take(n: number, debt = false): boolean {
    if (!debt && this.available() < n) return false;
    if (debt) this.available();
    this.tokens -= n;
    return true;
  }
}
