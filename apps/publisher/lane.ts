/**
 * A lane owns the partition keys that hash to it and has at most one PutRecords request in flight, so no
 * two concurrent requests share a key. It resends a batch's failed entries (and only those) before it
 * starts the next batch, which keeps each key's records in order as far as Kinesis allows.
 */
import { PutRecordsCommand, PutRecordsCommandOutput } from "@aws-sdk/client-kinesis";
import { backoffDelay, BackoffOptions, sleep } from "../lib/backoff";
import { KINESIS_LIMITS } from "../lib/records";
import { errorCode, isRetryableEntryCode, isRetryableRequestError } from "./retry-policy";

/** The part of a Kinesis client the publisher uses. */
export interface PutRecordsSender {
  send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput>;
}

/** A record on its way: what Kinesis gets, plus its bookkeeping. */
export interface Entry {
  data: Uint8Array;
  partitionKey: string;
  /** Data plus partition key bytes, as Kinesis counts them. */
  size: number;
  /** Set at the first attempt: after this time the record counts as failed. */
  deadline?: number;
  /** Error code of the last failed attempt. */
  lastError?: string;
  /** Records the run had delivered at this entry's first attempt (to tell a stalled stream). */
  sentBefore?: number;
}

/** What the lanes of one run share: the client, the settings, and the counters. */
export interface LaneRun {
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
  delivered(entries: Entry[]): void;
  failed(entry: Entry, reason: string): void;
  resent(count: number): void;
  throttled(): void;
  /** Ends the run with this error. */
  abort(err: unknown): void;
}

/** Wakes everybody waiting, once per notify(). */
class Notifier {
  private waiters: Array<() => void> = [];
  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Lane index of a partition key: FNV-1a with a murmur3 finaliser, spread evenly over `lanes`. */
export function laneOf(partitionKey: string, lanes: number): number {
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
  return (h >>> 0) % lanes;
}

export class Lane {
  /** Records waiting for the next request: at most one request's worth, which bounds memory. */
  private queue: Entry[] = [];
  private queuedBytes = 0;
  private closed = false;
  private readonly changed = new Notifier();

  constructor(private readonly run: LaneRun) {
    run.signal.addEventListener("abort", () => this.changed.notify(), { once: true });
  }

  /** Queues a record, waiting while the queue already holds a full request. */
  async push(entry: Entry): Promise<void> {
    while (!this.run.signal.aborted && !this.hasRoomFor(entry)) await this.changed.wait();
    this.queue.push(entry);
    this.queuedBytes += entry.size;
    this.changed.notify();
  }

  /** No more records will come; run() returns once the queue is delivered. */
  close(): void {
    this.closed = true;
    this.changed.notify();
  }

  /** Sends batches one after the other until closed and drained, or the run is aborted. Never rejects. */
  async drain(): Promise<void> {
    try {
      for (;;) {
        const batch = await this.take();
        if (!batch || this.run.signal.aborted) return;
        await this.deliver(batch);
      }
    } catch (err) {
      this.run.abort(err);
    }
  }

  private hasRoomFor(entry: Entry): boolean {
    if (this.queue.length === 0) return true;
    return (
      this.queue.length < KINESIS_LIMITS.maxRecordsPerRequest &&
      this.queuedBytes + entry.size <= KINESIS_LIMITS.maxBytesPerRequest
    );
  }

  /** The next request's records: as many queued ones as fit in 500 records and 5 MiB. */
  private async take(): Promise<Entry[] | undefined> {
    while (this.queue.length === 0) {
      if (this.closed || this.run.signal.aborted) return undefined;
      await this.changed.wait();
    }
    // Let a fast source fill the request first (it runs on microtasks); costs one event-loop turn.
    if (!this.closed && this.queue.length < KINESIS_LIMITS.maxRecordsPerRequest) await new Promise(setImmediate);
    let count = 0;
    let bytes = 0;
    while (
      count < this.queue.length &&
      count < KINESIS_LIMITS.maxRecordsPerRequest &&
      bytes + this.queue[count].size <= KINESIS_LIMITS.maxBytesPerRequest
    ) {
      bytes += this.queue[count].size;
      count++;
    }
    const batch = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    this.changed.notify();
    return batch;
  }

  /** Sends a batch until every entry is delivered or out of time; resends exactly the failed entries. */
  private async deliver(batch: Entry[]): Promise<void> {
    const run = this.run;
    const deadline = Date.now() + run.recordTimeoutMs;
    for (const entry of batch) {
      entry.deadline ??= deadline;
      entry.sentBefore ??= run.sent;
    }
    let pending = batch;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 0) {
        await sleep(Math.min(backoffDelay(attempt - 1, run.backoff), deadline - Date.now()), run.signal);
        if (run.signal.aborted) return;
        pending = this.dropExpired(pending);
        if (pending.length === 0) return;
        run.resent(pending.length);
      }
      pending = await this.attempt(pending);
      if (run.signal.aborted) return;
    }
  }

  /** One PutRecords call; returns the entries to send again. */
  private async attempt(pending: Entry[]): Promise<Entry[]> {
    const run = this.run;
    let out: PutRecordsCommandOutput;
    run.request();
    try {
      out = await run.client.send(
        new PutRecordsCommand({
          StreamName: run.streamName,
          Records: pending.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey })),
        }),
      );
    } catch (err) {
      if (run.signal.aborted) return [];
      if (!isRetryableRequestError(err, run.anyDelivered)) {
        run.abort(err);
        return [];
      }
      run.throttled();
      const code = errorCode(err);
      for (const entry of pending) entry.lastError = code;
      return pending;
    }
    const results = out.Records ?? [];
    if (results.length !== pending.length) {
      throw new Error(`PutRecords answered ${results.length} results for ${pending.length} records`);
    }
    const retry: Entry[] = [];
    const delivered: Entry[] = [];
    results.forEach((result, i) => {
      const entry = pending[i];
      if (!result.ErrorCode) delivered.push(entry);
      else if (!isRetryableEntryCode(result.ErrorCode)) run.failed(entry, result.ErrorCode);
      else {
        entry.lastError = result.ErrorCode;
        retry.push(entry);
      }
    });
    if (delivered.length > 0) run.delivered(delivered);
    return retry;
  }

  private dropExpired(pending: Entry[]): Entry[] {
    const now = Date.now();
    return pending.filter((entry) => {
      if (entry.deadline === undefined || now < entry.deadline) return true;
      this.run.failed(entry, entry.lastError ?? "Timeout");
      return false;
    });
  }
}
