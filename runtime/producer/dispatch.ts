/**
 * The publisher's delivery core: one queue per shard (or, without a shard map, per hash bucket of the
 * partition key), and `concurrency` senders that each build a PutRecords request from the queues that
 * are ready and send it.
 *
 * - Pacing: a shard's records leave its queue only when its pacer has the tokens (records and bytes).
 * - Batching across shards: one request carries records of many shards (up to 500 records / 5 MiB), so
 *   a stream of many shards costs few requests.
 * - Per-key order: a queue is in at most one request in flight at a time, so a key (which belongs to one
 *   queue) is never in two requests at once; entries that fail are resent alone, before any later record
 *   of their queue, so a resend is never overtaken by a later record of the same key.
 * - Aggregation: a queue packs its user records into KPL aggregated records (model/kpl.ts).
 */
import { PutRecordsCommand, PutRecordsCommandOutput, PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";
import { backoffDelay, BackoffOptions } from "../backoff";
import { KINESIS_LIMITS } from "./records";
import { Aggregator } from "../../model/kpl";
import { ShardPacer } from "./pacer";
import { errorCode, isRetryableEntryCode, isRetryableRequestError } from "./retry-policy";

/** The part of a Kinesis client the publisher uses (PutRecords; ListShards when it can, for pacing). */
export interface PutRecordsSender {
  send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput>;
}

/**
 * A record on its way: what Kinesis gets (the PutRecords entry itself, so a request's record list is the
 * entries, not copies of them), plus its bookkeeping. A class with every field set up front, since one is
 * made per record at hundreds of thousands a second.
 */
export class Entry implements PutRecordsRequestEntry {
  /** Set at the first attempt: after this time the record counts as failed. */
  deadline: number | undefined = undefined;
  /** Error code of the last failed attempt. */
  lastError: string | undefined = undefined;
  /** Records the run had delivered at this entry's first attempt (to tell a stalled stream). */
  sentBefore: number | undefined = undefined;
  /** For an aggregated record: the user records inside it. */
  users: Entry[] | undefined = undefined;
  constructor(
    readonly Data: Uint8Array,
    readonly PartitionKey: string,
    readonly ExplicitHashKey: string | undefined,
    /** Data plus partition key bytes, as Kinesis counts them. */
    readonly size: number,
  ) {}
}

/** What the queues of one run share: the client, the settings, and the counters. */
export interface RunContext {
  readonly client: PutRecordsSender;
  readonly streamName: string;
  readonly recordTimeoutMs: number;
  readonly backoff: BackoffOptions;
  /** Aborted when the run must end now (non-retryable error). */
  readonly signal: AbortSignal;
  /** True once any request of the run has succeeded. */
  readonly anyDelivered: boolean;
  /** Records delivered so far. */
  readonly sent: number;
  request(): void;
  /** User records Kinesis accepted. */
  delivered(entries: Entry[]): void;
  failed(entry: Entry, reason: string): void;
  resent(count: number): void;
  throttled(): void;
  /** Entries of a PutRecords response that came back throttled. */
  throttledEntries(count: number): void;
  /** Kinesis records (aggregates count once) and their bytes accepted. */
  kinesisRecords(count: number, bytes: number): void;
  /** Kinesis put a record in a shard other than the one it was queued for: the shard map is stale. */
  shardMismatch(shardId: string): void;
  /** Ends the run with this error. */
  abort(err: unknown): void;
}

/** Queue index of a partition key: FNV-1a with a murmur3 finaliser, spread evenly over `queues`. */
export function laneOf(partitionKey: string, queues: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < partitionKey.length; i++) {
    h ^= partitionKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % queues;
}

/** Wakes everybody waiting, once per notify(). */
class Notifier {
  private waiters: Array<() => void> = [];
  wait(timeoutMs?: number): Promise<void> {
    return new Promise((resolve) => {
      if (timeoutMs === undefined) {
        this.waiters.push(resolve);
        return;
      }
      const timer = setTimeout(resolve, Math.max(1, timeoutMs));
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
  notify(): void {
    if (this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

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
    private readonly dispatcher: Dispatcher,
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

/** A request at least this full does not make the next one linger. */
const FULL_BATCH = 400;

/** Ms a sender waits for records to gather after a small request. */
const LINGER_MS = 5;

/** Records a request takes before it leaves the remaining queues to the other senders. */
const MIN_SHARED_BATCH = 100;


/** The senders: each builds a request from the ready queues, sends it, and puts failures back. */
export class Dispatcher {
  /** Signalled when a queue gets work or a request ends. */
  readonly work = new Notifier();
  /** Signalled when queue space frees up. */
  readonly space = new Notifier();
  private queues: ShardQueue[] = [];
  private next = 0;
  private closed = false;
  private inFlight = 0;
  /** Records in the last request built (small requests make the next one linger). */
  private lastBatch = 0;
  /** User records waiting in all the queues (not yet taken into a request). */
  queuedRecords = 0;
  /**
   * Records all unaggregated queues may hold together: two full requests per sender. With many shards
   * the per-queue bound alone would let a fast source park hundreds of thousands of records in memory,
   * and garbage collection of that long-lived heap costs more than the records' own work.
   */
  readonly maxQueuedRecords: number;
  readonly signal: AbortSignal;

  /**
   * @param senders requests in flight at once; a request takes records from at most
   *   ceil(queues / senders) queues, so that the senders share the queues out between them.
   */
  constructor(
    private readonly run: RunContext,
    private readonly senders: number,
  ) {
    this.signal = run.signal;
    this.maxQueuedRecords = 2 * senders * KINESIS_LIMITS.maxRecordsPerRequest;
    run.signal.addEventListener(
      "abort",
      () => {
        this.work.notify();
        this.space.notify();
      },
      { once: true },
    );
  }

  /** Replaces the set of queues (a new shard map); the old ones must be idle. */
  setQueues(queues: ShardQueue[]): void {
    this.queues = queues;
    this.next = 0;
    this.work.notify();
  }

  newQueue(options: QueueOptions): ShardQueue {
    return new ShardQueue(this, options);
  }

  /** Resolves when every queue is idle (nothing queued, to resend or in flight). */
  async idle(): Promise<void> {
    while (!this.signal.aborted && (this.inFlight > 0 || this.queues.some((q) => !q.idle))) await this.work.wait(50);
  }

  close(): void {
    this.closed = true;
    this.work.notify();
  }

  /** One sender: builds and sends requests until closed and drained, or aborted. Never rejects. */
  async sender(): Promise<void> {
    try {
      for (;;) {
        if (this.signal.aborted) return;
        const batch = await this.collect();
        if (!batch) return;
        this.inFlight++;
        try {
          await this.send(batch);
        } finally {
          this.inFlight--;
          this.work.notify();
        }
      }
    } catch (err) {
      this.run.abort(err);
    }
  }

  /** The next request's entries, by queue; undefined when closed and everything is delivered. */
  private async collect(): Promise<Map<ShardQueue, Entry[]> | undefined> {
    // Let a fast source fill the queues first (it runs on microtasks): one event-loop turn, or a few ms
    // after a small request, since a request costs far more than a record (the KPL lingers 100 ms).
    if (!this.closed) {
      if (this.lastBatch < FULL_BATCH) await new Promise((r) => setTimeout(r, LINGER_MS));
      else await new Promise(setImmediate);
    }
    for (;;) {
      if (this.signal.aborted) return undefined;
      const now = Date.now();
      const batch = new Map<ShardQueue, Entry[]>();
      let records = 0;
      let bytes = 0;
      let soonest = Infinity;
      let pendingWork = false;
      const n = this.queues.length;
      // With few queues, each request takes its share of them so the senders work in parallel; with many
      // (a stream of many shards), requests fill up across them.
      const maxQueues = n <= 4 * this.senders ? Math.max(1, Math.ceil(n / this.senders)) : n;
      // A request fills up to 500 records from as many queues as it takes (a request costs far more than a
      // record); past its share of the queues it stops at a reasonable size, leaving the rest to the other
      // senders.
      for (let i = 0; i < n && records < KINESIS_LIMITS.maxRecordsPerRequest && (batch.size < maxQueues || records < MIN_SHARED_BATCH); i++) {
        const q = this.queues[(this.next + i) % n];
        if (!q.idle) pendingWork = true;
        const wait = q.readyIn(now);
        if (wait === undefined) continue;
        if (wait > 0) {
          soonest = Math.min(soonest, wait);
          continue;
        }
        const taken = q.take(KINESIS_LIMITS.maxRecordsPerRequest - records, KINESIS_LIMITS.maxBytesPerRequest - bytes);
        if (taken.length === 0) continue;
        batch.set(q, taken);
        records += taken.length;
        for (const e of taken) bytes += e.size;
        if (bytes >= KINESIS_LIMITS.maxBytesPerRequest - 1024) break;
      }
      this.next = n > 0 ? (this.next + 1) % n : 0;
      if (batch.size > 0) {
        this.lastBatch = records;
        return batch;
      }
      if (!pendingWork && this.inFlight === 0 && this.closed) {
        this.work.notify();
        return undefined;
      }
      await this.work.wait(soonest === Infinity ? undefined : soonest);
      // Woken by a first record or a finished request: give the source a moment to add more.
      if (!this.closed && this.lastBatch < FULL_BATCH) await new Promise((r) => setTimeout(r, LINGER_MS));
    }
  }

  /** One PutRecords call for a batch; failed entries go back to their queue's resend list. */
  private async send(batch: Map<ShardQueue, Entry[]>): Promise<void> {
    const run = this.run;
    const now = Date.now();
    // Sized up front: grown by push, each request's two arrays would leave ~1,000 slots of garbage.
    let total = 0;
    for (const taken of batch.values()) total += taken.length;
    const entries = new Array<Entry>(total);
    const owners = new Array<ShardQueue>(total);
    let n = 0;
    for (const [q, taken] of batch) {
      for (const e of taken) {
        if (e.deadline === undefined) {
          e.deadline = now + run.recordTimeoutMs;
          e.sentBefore = run.sent;
          if (e.users) for (const u of e.users) u.sentBefore ??= run.sent;
        }
        entries[n] = e;
        owners[n++] = q;
      }
    }
    run.request();
    let out: PutRecordsCommandOutput;
    try {
      // The entries are the request's records (the SDK writes only PutRecordsRequestEntry's members).
      out = await run.client.send(new PutRecordsCommand({ StreamName: run.streamName, Records: entries }));
    } catch (err) {
      if (run.signal.aborted) return this.release(batch);
      if (!isRetryableRequestError(err, run.anyDelivered)) {
        run.abort(err);
        return this.release(batch);
      }
      run.throttled();
      const code = errorCode(err);
      const isThrottle = /Throughput|Throttl|LimitExceeded/.test(code);
      for (const [q, taken] of batch) {
        for (const e of taken) e.lastError = code;
        if (isThrottle) q.options.pacer?.throttled();
        this.resend(q, taken, !(isThrottle && q.options.pacer));
      }
      return;
    }
    const results = out.Records ?? [];
    if (results.length !== entries.length) {
      throw new Error(`PutRecords answered ${results.length} results for ${entries.length} records`);
    }
    const failedByQueue = new Map<ShardQueue, Entry[]>();
    const throttledQueues = new Set<ShardQueue>();
    const delivered: Entry[] = [];
    const permanent: [Entry, string][] = [];
    let throttled = 0;
    let kinesisRecords = 0;
    let kinesisBytes = 0;
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      const entry = entries[i];
      const q = owners[i];
      if (!result.ErrorCode) {
        kinesisRecords++;
        kinesisBytes += entry.size;
        if (entry.users) for (const u of entry.users) delivered.push(u);
        else delivered.push(entry);
        const shardId = q.options.shardId;
        if (shardId !== undefined && result.ShardId !== undefined && result.ShardId !== shardId) run.shardMismatch(result.ShardId);
      } else if (!isRetryableEntryCode(result.ErrorCode)) {
        permanent.push([entry, result.ErrorCode]);
      } else {
        if (result.ErrorCode === "ProvisionedThroughputExceededException") {
          throttled++;
          throttledQueues.add(q);
        }
        entry.lastError = result.ErrorCode;
        if (entry.users) for (const u of entry.users) u.lastError = result.ErrorCode;
        let list = failedByQueue.get(q);
        if (!list) failedByQueue.set(q, (list = []));
        list.push(entry);
      }
    }
    if (throttled > 0) run.throttledEntries(throttled);
    if (kinesisRecords > 0) run.kinesisRecords(kinesisRecords, kinesisBytes);
    for (const q of batch.keys()) {
      const pacer = q.options.pacer;
      const failed = failedByQueue.get(q);
      if (throttledQueues.has(q)) pacer?.throttled();
      else pacer?.succeeded();
      if (failed) this.resend(q, failed, !(throttledQueues.has(q) && pacer));
      else {
        q.retryAttempt = 0;
        q.busy = false;
      }
    }
    if (delivered.length > 0) run.delivered(delivered);
    for (const [entry, code] of permanent) {
      if (entry.users) for (const u of entry.users) run.failed(u, code);
      else run.failed(entry, code);
    }
  }

  /** Puts failed entries back at the head of their queue (resent alone), dropping those out of time. */
  private resend(q: ShardQueue, failed: Entry[], backoff: boolean): void {
    const now = Date.now();
    const keep: Entry[] = [];
    for (const e of failed) {
      if (e.deadline !== undefined && now >= e.deadline) {
        const reason = e.lastError ?? "Timeout";
        if (e.users) for (const u of e.users) this.run.failed(u, reason);
        else this.run.failed(e, reason);
      } else keep.push(e);
    }
    if (keep.length > 0) {
      this.run.resent(keep.reduce((n, e) => n + (e.users?.length ?? 1), 0));
      q.retry = keep.concat(q.retry);
      // A paced queue waits for its tokens after throttling; anything else backs off.
      const delay = backoff ? backoffDelay(q.retryAttempt, this.run.backoff) : 0;
      const soonestDeadline = Math.min(...keep.map((e) => e.deadline ?? Infinity));
      q.notBefore = now + Math.min(delay, Math.max(0, soonestDeadline - now));
      q.retryAttempt++;
    } else q.retryAttempt = 0;
    q.busy = false;
  }

  private release(batch: Map<ShardQueue, Entry[]>): void {
    for (const q of batch.keys()) q.busy = false;
  }
}
