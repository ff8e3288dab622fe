/**
 * Paces the writes to one shard: two token buckets (records and bytes) filled at the shard's write limits
 * (1,000 records/s and 1 MiB/s) times a share that adapts to throttling, AIMD-style: a throttled write
 * cuts the share (multiplicative decrease, at most once per interval, and empties the buckets), and time
 * without throttling grows it back (additive increase) up to the whole limit. A shard written only by
 * this publisher is filled to its limit without being throttled; one shared with other writers settles at
 * what is left.
 *
 * Pure and clock-driven (`now` is injectable), so it is tested on a fake clock.
 */
import { SHARD_WRITE_BYTES_PER_SECOND, SHARD_WRITE_RECORDS_PER_SECOND } from "../../model/limits";

/** Per-shard write limits of Kinesis Data Streams. */
export interface ShardWriteLimits {
  /** @default 1000 */
  recordsPerSecond: number;
  /** Data plus partition key bytes. @default 1 MiB */
  bytesPerSecond: number;
}

export const KINESIS_SHARD_WRITE_LIMITS: ShardWriteLimits = { recordsPerSecond: SHARD_WRITE_RECORDS_PER_SECOND, bytesPerSecond: SHARD_WRITE_BYTES_PER_SECOND };

export interface PacerOptions {
  /**
   * Seconds of the rate a bucket holds (the largest burst). Half the shard's one-second budget, so the
   * shard always keeps slack for requests that arrive closer together than they were sent.
   * @default 0.5
   */
  burstSeconds?: number;
  /** Share of the limit kept after a throttle. @default 0.8 */
  decrease?: number;
  /** Share of the limit regained per second without throttling. @default 0.1 */
  increasePerSecond?: number;
  /** Smallest share. @default 0.05 */
  minShare?: number;
  /** Throttles within this many ms of a decrease count as the same event. @default 1000 */
  decreaseIntervalMs?: number;
  /** Clock in ms. @default Date.now */
  now?: () => number;
}

export class ShardPacer {
  /** Share of the limit in use, (0, 1]. */
  share = 1;
  /** Throttle events that cut the share. */
  decreases = 0;
  /** Record tokens that overflowed a full bucket: capacity this shard left unused (idle or starved). */
  unusedRecords = 0;
  private records: number;
  private bytes: number;
  private updated: number;
  private lastDecrease = -Infinity;
  private readonly now: () => number;
  private readonly burst: number;

  private readonly decreaseFactor: number;
  private readonly increasePerSecond: number;
  private readonly minShare: number;
  private readonly decreaseIntervalMs: number;

  constructor(
    readonly limits: ShardWriteLimits = KINESIS_SHARD_WRITE_LIMITS,
    options: PacerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.burst = options.burstSeconds ?? 0.5;
    this.decreaseFactor = options.decrease ?? 0.8;
    this.increasePerSecond = options.increasePerSecond ?? 0.1;
    this.minShare = options.minShare ?? 0.05;
    this.decreaseIntervalMs = options.decreaseIntervalMs ?? 1000;
    this.records = this.capacityRecords;
    this.bytes = this.capacityBytes;
    this.updated = this.now();
  }

  get recordsPerSecond(): number {
    return this.limits.recordsPerSecond * this.share;
  }
  get bytesPerSecond(): number {
    return this.limits.bytesPerSecond * this.share;
  }
  /** The most records one write may carry (a full bucket), at least 1. */
  get capacityRecords(): number {
    return Math.max(1, Math.floor(this.recordsPerSecond * this.burst));
  }
  /** The most bytes one write may carry (a full bucket); a bigger single record waits for a full bucket. */
  get capacityBytes(): number {
    return Math.max(1, Math.floor(this.bytesPerSecond * this.burst));
  }

  /**
   * Records a shard with a backlog waits for before it sends: half a bucket, so a shard whose request is
   * still in flight, or whose sender wakes late (a busy event loop), has room for the tokens that accrue
   * meanwhile instead of overflowing a full bucket.
   */
  get batchRecords(): number {
    return Math.max(1, Math.floor(this.capacityRecords / 2));
  }
  /** Bytes a shard with a backlog waits for before it sends (half a bucket). */
  get batchBytes(): number {
    return Math.max(1, Math.floor(this.capacityBytes / 2));
  }

  private refill(): void {
    const t = this.now();
    const elapsed = t - this.updated;
    if (elapsed <= 0) return;
    this.updated = t;
    const refilled = this.records + (elapsed * this.recordsPerSecond) / 1000;
    if (refilled > this.capacityRecords) this.unusedRecords += refilled - this.capacityRecords;
    this.records = Math.min(this.capacityRecords, refilled);
    this.bytes = Math.min(this.capacityBytes, this.bytes + (elapsed * this.bytesPerSecond) / 1000);
  }

  /** Record tokens now (may be negative after a write over a full bucket). */
  availableRecords(): number {
    this.refill();
    return this.records;
  }
  /** Record tokens there will be at time `t` (ms) if nothing is taken before. */
  availableRecordsAt(t: number): number {
    this.refill();
    const elapsed = Math.max(0, t - this.updated);
    return Math.min(this.capacityRecords, this.records + (elapsed * this.recordsPerSecond) / 1000);
  }
  /** Byte tokens now. */
  availableBytes(): number {
    this.refill();
    return this.bytes;
  }

  /** Ms until a write of `records` records and `bytes` bytes may go (0: now). Requests over a full bucket wait for a full one. */
  waitMs(records: number, bytes: number): number {
    this.refill();
    const needRecords = Math.min(records, this.capacityRecords) - this.records;
    const needBytes = Math.min(bytes, this.capacityBytes) - this.bytes;
    const ms = Math.max((needRecords * 1000) / this.recordsPerSecond, (needBytes * 1000) / this.bytesPerSecond, 0);
    return ms > 0 ? Math.ceil(ms) : 0;
  }

  /** Takes the tokens of a write (call when `waitMs` is 0; a write over a full bucket leaves it in debt). */
  take(records: number, bytes: number): void {
    this.refill();
    this.records -= records;
    this.bytes -= bytes;
  }

  /** Some of a write was throttled: use less of the limit and wait for the buckets to refill. */
  throttled(): void {
    this.refill();
    const t = this.now();
    if (t - this.lastDecrease >= this.decreaseIntervalMs) {
      this.lastDecrease = t;
      this.share = Math.max(this.minShare, this.share * this.decreaseFactor);
      this.decreases++;
    }
    this.records = Math.min(this.records, 0);
    this.bytes = Math.min(this.bytes, 0);
  }

  /** A write went through unthrottled: grow the share with the time since the last change. */
  succeeded(): void {
    if (this.share >= 1) return;
    this.refill();
    const t = this.now();
    const since = Math.max(t - Math.max(this.lastDecrease, this.lastIncrease), 0);
    this.lastIncrease = t;
    this.share = Math.min(1, this.share + (since / 1000) * this.increasePerSecond);
  }
  private lastIncrease = -Infinity;
}
