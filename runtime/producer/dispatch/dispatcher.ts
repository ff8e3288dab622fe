/** `Dispatcher`: the senders that build PutRecords requests from the ready queues, send them and put failures back. */
import { PutRecordsCommand, PutRecordsCommandOutput } from "@aws-sdk/client-kinesis";
import { backoffDelay } from "../../backoff";
import { KINESIS_LIMITS } from "../records";
import { errorCode, isRetryableEntryCode, isRetryableRequestError } from "../retry-policy";
import { Entry, type RunContext } from "./entry";
import { Notifier } from "./notifier";
import { type QueueOptions, ShardQueue } from "./shard-queue";

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
