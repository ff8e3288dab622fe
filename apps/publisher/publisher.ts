/**
 * Publishes records to a Kinesis stream with PutRecords: batched (500 records / 5 MiB per request),
 * several requests in flight, failed entries resent with backoff until each record's time budget runs
 * out, and every record accounted for as sent or failed. Independent of the CLI.
 */
import { setMaxListeners } from "events";
import { BackoffOptions } from "../lib/backoff";
import { recordProblem, recordSize } from "../lib/records";
import { Entry, Lane, laneOf, LaneRun, PutRecordsSender } from "./lane";

export { PutRecordsSender } from "./lane";

/** A record to publish. */
export interface PublishRecord {
  data: Uint8Array;
  /** Decides the shard; records with the same key stay in order. 1..256 characters. */
  partitionKey: string;
}

export interface PublishOptions {
  /**
   * Requests in flight at once. Records are routed to this many lanes by a hash of their partition key;
   * each lane sends one request at a time.
   * @default 8
   */
  concurrency?: number;
  /** Time a record may take, from its first attempt, before it counts as failed. @default 120000 */
  recordTimeoutMs?: number;
  /** Backoff between resends (capped exponential, full jitter). @default { baseMs: 100, capMs: 5000 } */
  backoff?: BackoffOptions;
  /** How many records the source yields, handed to `onProgress`. @default undefined (unknown) */
  total?: number;
  /** Called after each request that delivered records, with the running count. @default none */
  onProgress?: (sent: number, total?: number) => void;
  /**
   * Stops taking records from the source (e.g. on Ctrl-C). Records already taken are still delivered
   * or counted as failed, and the summary says `interrupted`.
   * @default none
   */
  signal?: AbortSignal;
}

export interface PublishSummary {
  /** Records taken from the source. */
  records: number;
  /** Records Kinesis accepted. */
  sent: number;
  /** Data bytes of the records sent (partition keys not included). */
  bytes: number;
  durationMs: number;
  recordsPerSecond: number;
  /** PutRecords calls, resends included. */
  requests: number;
  retries: {
    /** Entries sent again after a partial failure or a throttled request. */
    resentRecords: number;
    /** Whole requests that failed with a retryable error (throttling, 5xx, network). */
    throttledRequests: number;
  };
  /** Records not delivered; reasons map an error code (the last one seen) to a count. */
  failed: { count: number; reasons: Record<string, number> };
  /** True when `signal` stopped the run before the source was exhausted. */
  interrupted: boolean;
}

/** The stream accepted nothing for a whole record time budget; the run stops instead of retrying on. */
export class StalledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StalledError";
  }
}

/** Counters and the abort switch shared by the lanes of one run. */
class Run implements LaneRun {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  error: unknown;
  anyDelivered = false;
  records = 0;
  sent = 0;
  bytes = 0;
  requests = 0;
  resentRecords = 0;
  throttledRequests = 0;
  failedCount = 0;
  readonly reasons: Record<string, number> = {};

  constructor(
    readonly client: PutRecordsSender,
    readonly streamName: string,
    readonly recordTimeoutMs: number,
    readonly backoff: BackoffOptions,
    private readonly options: PublishOptions,
    lanes: number,
  ) {
    // Each lane listens once, plus once more while it backs off.
    setMaxListeners(2 * lanes + 10, this.signal);
  }

  request(): void {
    this.requests++;
  }
  delivered(entries: Entry[]): void {
    this.anyDelivered = true;
    this.sent += entries.length;
    for (const entry of entries) this.bytes += entry.data.byteLength;
    this.options.onProgress?.(this.sent, this.options.total);
  }
  failed(entry: Entry | undefined, reason: string): void {
    this.failedCount++;
    this.reasons[reason] = (this.reasons[reason] ?? 0) + 1;
    // Nothing at all was delivered during this record's whole budget while others wait: the stream is
    // down or misconfigured. Give up now rather than spend a full budget on every remaining batch (hours
    // for a million records).
    const waiting = this.records - this.sent - this.failedCount;
    if (entry?.sentBefore !== undefined && this.sent === entry.sentBefore && waiting > 0) {
      this.abort(
        new StalledError(
          `Kinesis accepted no record for ${Math.round(this.recordTimeoutMs / 1000)} s (last error ${reason}); stopped after delivering ${this.sent} of ${this.records} records taken`,
        ),
      );
    }
  }
  resent(count: number): void {
    this.resentRecords += count;
  }
  throttled(): void {
    this.throttledRequests++;
  }
  abort(err: unknown): void {
    if (this.signal.aborted) return;
    this.error = err;
    this.controller.abort();
  }
}

function checkOptions(concurrency: number, recordTimeoutMs: number): void {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  if (!(recordTimeoutMs > 0)) throw new RangeError(`recordTimeoutMs must be positive, got ${recordTimeoutMs}`);
}

/**
 * Publishes every record of `records` (pulled lazily, so memory stays bounded) and resolves with what
 * happened to them. Rejects only when the run cannot go on: a non-retryable error (missing stream,
 * access denied, invalid request, no credentials) or an error thrown by the source.
 */
export async function publish(
  client: PutRecordsSender,
  streamName: string,
  records: Iterable<PublishRecord> | AsyncIterable<PublishRecord>,
  options: PublishOptions = {},
): Promise<PublishSummary> {
  const concurrency = options.concurrency ?? 8;
  const recordTimeoutMs = options.recordTimeoutMs ?? 120_000;
  checkOptions(concurrency, recordTimeoutMs);
  const run = new Run(client, streamName, recordTimeoutMs, options.backoff ?? {}, options, concurrency);
  const started = Date.now();
  const lanes = Array.from({ length: concurrency }, () => new Lane(run));
  const draining = lanes.map((lane) => lane.drain());
  let interrupted = false;
  try {
    for await (const record of records) {
      if (run.signal.aborted) break;
      if (options.signal?.aborted) {
        interrupted = true;
        break;
      }
      run.records++;
      const problem = recordProblem(record.data, record.partitionKey);
      if (problem) {
        run.failed(undefined, problem);
        continue;
      }
      const entry: Entry = { data: record.data, partitionKey: record.partitionKey, size: recordSize(record.data, record.partitionKey) };
      await lanes[laneOf(record.partitionKey, concurrency)].push(entry);
    }
  } catch (err) {
    run.abort(err);
  }
  for (const lane of lanes) lane.close();
  await Promise.all(draining);
  if (run.signal.aborted) throw run.error;
  const durationMs = Date.now() - started;
  return {
    records: run.records,
    sent: run.sent,
    bytes: run.bytes,
    durationMs,
    recordsPerSecond: durationMs > 0 ? Math.round((run.sent * 1000) / durationMs) : run.sent,
    requests: run.requests,
    retries: { resentRecords: run.resentRecords, throttledRequests: run.throttledRequests },
    failed: { count: run.failedCount, reasons: { ...run.reasons } },
    interrupted,
  };
}
