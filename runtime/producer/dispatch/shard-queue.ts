/** `ShardQueue`: the records of one shard (or hash bucket) waiting to be sent, paced and optionally aggregated. */
import { Aggregator } from "../../../model/kpl";
import { ShardPacer } from "../pacer";
import { KINESIS_LIMITS } from "../records";
import { Entry } from "./entry";
import type { Notifier } from "./notifier";

/** User records a queue may hold: two full requests' worth (aggregating: two seconds of a shard's bytes in small records). */
const QUEUE_RECORDS = 2 * KINESIS_LIMITS.maxRecordsPerRequest;
const AGGREGATING_QUEUE_RECORDS = 20_000;
const QUEUE_BYTES = 2 * KINESIS_LIMITS.maxBytesPerRequest;

export interface QueueOptions {
  /** The shard this queue writes to, when the shard map is known. @default none */
  shardId?: string;
  /** Paces this queue. @default none: unpaced */
  pacer?: ShardPacer;
  /** Pack user records into KPL aggregated records of at most this many bytes. @default none */
  aggregateMaxBytes?: number;
}

/**
 * What a queue uses of the `Dispatcher` that owns it: the run's record count and limit, its two notifiers
 * and its abort signal. An interface, so that this file does not import dispatcher.ts, which imports it.
 */
export interface QueueOwner {
  queuedRecords: number;
  readonly maxQueuedRecords: number;
  readonly work: Notifier;
  readonly space: Notifier;
  readonly signal: AbortSignal;
}

/** The records of one shard (or hash bucket) waiting to be sent. */
export class ShardQueue {
  private queue: Entry[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** Entries that failed, to resend alone before anything else of this queue. */
  retry: Entry[] = [];
  retryAttempt = 0;
  /** No resend before this time (backoff after a non-throttle error). */
  notBefore = 0;
  /** In a request in flight. */
  busy = false;
  closed = false;
  private readonly aggregator?: Aggregator;
  /** The first `count` queued entries hold `bytes` (see headBytes); stale once the head moved. */
  private readonly window = { stale: true, limit: 0, count: 0, bytes: 0 };

  constructor(
    private readonly dispatcher: QueueOwner,
    readonly options: QueueOptions = {},
  ) {
    if (options.aggregateMaxBytes !== undefined) this.aggregator = new Aggregator();
  }

  get queued(): number {
    return this.queue.length - this.head;
  }
  get idle(): boolean {
    return this.queued === 0 && this.retry.length === 0 && !this.busy;
  }

  private hasRoomFor(entry: Entry): boolean {
    if (this.queued === 0) return true;
    if (this.aggregator) return this.queued < AGGREGATING_QUEUE_RECORDS && this.queuedBytes + entry.size <= QUEUE_BYTES;
    return this.queued < QUEUE_RECORDS && this.queuedBytes + entry.size <= QUEUE_BYTES && this.dispatcher.queuedRecords < this.dispatcher.maxQueuedRecords;
  }

  /** Queues a record when there is room now; false when the caller must `push` (and wait). */
  tryPush(entry: Entry): boolean {
    if (!this.hasRoomFor(entry)) return false;
    this.queue.push(entry);
    this.queuedBytes += entry.size;
    this.dispatcher.queuedRecords++;
    if (this.queued === 1) this.dispatcher.work.notify();
    return true;
  }

  /** Queues a record, waiting while the queue is full. */
  async push(entry: Entry): Promise<void> {
    while (!this.hasRoomFor(entry) && !this.dispatcher.signal.aborted) await this.dispatcher.space.wait();
    this.queue.push(entry);
    this.queuedBytes += entry.size;
    this.dispatcher.queuedRecords++;
    if (this.queued === 1) this.dispatcher.work.notify();
  }

  /**
   * Ms until this queue can contribute to a request (0: now), or undefined when it has nothing to send.
   * A paced queue with a backlog waits for a worthwhile batch (half its bucket) rather than dribbling.
   */
  readyIn(now: number): number | undefined {
    if (this.busy) return undefined;
    const pacer = this.options.pacer;
    if (this.retry.length > 0) {
      const backoff = Math.max(0, this.notBefore - now);
      if (!pacer) return backoff;
      const bytes = this.retry.reduce((n, e) => n + e.size, 0);
      return Math.max(backoff, pacer.waitMs(this.retry.length, bytes));
    }
    if (this.queued === 0) return undefined;
    if (!pacer) return 0;
    // Aggregating, the bytes bind (a few aggregated records carry thousands of user records): wait for
    // half a bucket of bytes, or all that is queued.
    if (this.aggregator) return pacer.waitMs(1, Math.min(this.queuedBytes, pacer.batchBytes));
    const limit = pacer.batchRecords;
    // Bytes of the first `records` entries, capped at the batch size (a big record waits for a full bucket).
    return pacer.waitMs(Math.min(this.queued, limit), Math.min(this.headBytes(limit), pacer.batchBytes));
  }

  /**
   * Bytes of the first min(queued, `limit`) queued entries. Every request scans every queue, so this is
   * kept between calls: extended as records arrive, summed afresh only after a take moved the head.
   */
  private headBytes(limit: number): number {
    if (this.window.stale || this.window.limit !== limit) {
      this.window.stale = false;
      this.window.limit = limit;
      this.window.count = 0;
      this.window.bytes = 0;
    }
    const end = Math.min(this.queued, limit);
    for (; this.window.count < end; this.window.count++) this.window.bytes += this.queue[this.head + this.window.count].size;
    return this.window.bytes;
  }

  /**
   * Takes this queue's contribution to a request of at most `maxRecords` Kinesis records and `maxBytes`:
   * the failed entries alone, or queued records within the pacer's tokens. Marks the queue busy.
   */
  take(maxRecords: number, maxBytes: number): Entry[] {
    const pacer = this.options.pacer;
    let out: Entry[];
    if (this.retry.length > 0) {
      let bytes = 0;
      let n = 0;
      while (n < this.retry.length && n < maxRecords && (n === 0 || bytes + this.retry[n].size <= maxBytes)) bytes += this.retry[n++].size;
      out = this.retry.slice(0, n);
      this.retry = this.retry.slice(n);
    } else {
      let recordBudget = maxRecords;
      let byteBudget = maxBytes;
      if (pacer) {
        recordBudget = Math.min(recordBudget, Math.max(1, Math.floor(pacer.availableRecords())));
        byteBudget = Math.min(byteBudget, Math.max(1, Math.floor(pacer.availableBytes())));
      }
      out = this.aggregator ? this.takeAggregated(recordBudget, byteBudget) : this.takePlain(recordBudget, byteBudget);
      this.window.stale = true;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.dispatcher.space.notify();
    }
    if (out.length > 0) {
      this.busy = true;
      let bytes = 0;
      for (const e of out) bytes += e.size;
      pacer?.take(out.length, bytes);
    }
    return out;
  }

  private takePlain(maxRecords: number, maxBytes: number): Entry[] {
    let count = 0;
    let bytes = 0;
    const q = this.queue;
    const start = this.head;
    while (start + count < q.length && count < maxRecords) {
      const size = q[start + count].size;
      if (count > 0 && bytes + size > maxBytes) break;
      bytes += size;
      count++;
    }
    const batch = count === q.length - start && start === 0 ? q : q.slice(start, start + count);
    this.head += count;
    this.queuedBytes -= bytes;
    this.dispatcher.queuedRecords -= count;
    if (this.head === q.length) {
      this.queue = [];
      this.head = 0;
    }
    return batch;
  }

  /** Packs queued user records, in order, into aggregated records of at most `aggregateMaxBytes`. */
  private takeAggregated(maxRecords: number, maxBytes: number): Entry[] {
    const agg = this.aggregator!;
    const limit = Math.min(this.options.aggregateMaxBytes!, KINESIS_LIMITS.maxRecordBytes);
    const batch: Entry[] = [];
    let bytes = 0;
    let users: Entry[] = [];
    const finish = () => {
      const built = agg.build();
      const size = built.data.byteLength + Buffer.byteLength(built.partitionKey, "utf8");
      const entry = new Entry(built.data, built.partitionKey, built.explicitHashKey, size);
      entry.users = users;
      batch.push(entry);
      bytes += size;
      users = [];
    };
    while (this.queued > 0 && batch.length < maxRecords) {
      const next = this.queue[this.head];
      const user = { partitionKey: next.PartitionKey, data: next.Data, explicitHashKey: next.ExplicitHashKey };
      const withNext = agg.sizeWith(user);
      if (agg.count > 0 && withNext > limit) {
        finish();
        continue;
      }
      // The request (and the pacer's tokens) must hold the aggregate with this record in it.
      if (bytes + withNext > maxBytes && (batch.length > 0 || agg.count > 0)) break;
      agg.add(user);
      users.push(next);
      this.head++;
      this.queuedBytes -= next.size;
      this.dispatcher.queuedRecords--;
    }
    if (agg.count > 0) finish();
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return batch;
  }
}
