/**
 * Publishes records to a Kinesis stream with PutRecords: routed to the shard Kinesis will put them in
 * (shard map from ListShards) and paced per shard at the shard's write limits, adapting to throttling;
 * batched (500 records / 5 MiB per request), optionally packed into KPL aggregated records; failed
 * entries resent until each record's time budget runs out, and every record accounted for as sent or
 * failed. Independent of the CLI and of where the records come from (any iterable or async iterable).
 */
import { setMaxListeners } from "events";
import { BackoffOptions } from "../backoff";
import { recordProblem, recordSize } from "./records";
import { Entry, PutRecordsSender, RunContext } from "./dispatch";
import { KINESIS_SHARD_WRITE_LIMITS, PacerOptions, ShardWriteLimits } from "./pacer";
import { ShardRouter } from "./shard-router";

export { PutRecordsSender } from "./dispatch";

/** A record to publish. */
export interface PublishRecord {
  data: Uint8Array;
  /** Decides the shard; records with the same key stay in order. 1..256 characters. */
  partitionKey: string;
  /** Decimal 128-bit hash key that picks the shard instead of the partition key's MD5. @default none */
  explicitHashKey?: string;
}

export interface PublishOptions {
  /**
   * Requests in flight at once, spread over the shards (each shard gets at least one lane; a lane sends
   * one request at a time). Without a shard map, records go to this many lanes by a hash of their key.
   * @default 8
   */
  concurrency?: number;
  /**
   * Pace writes per shard at the shard's write limits, adapting to throttling (needs
   * `kinesis:ListShards`; without it the publisher falls back to unpaced lanes and says so).
   * @default true
   */
  pacing?: boolean;
  /** Per-shard write limits to pace at. @default 1,000 records/s and 1 MiB/s (Kinesis's) */
  shardLimits?: ShardWriteLimits;
  /** Tuning of the per-shard pacer (AIMD and burst). @default see PacerOptions */
  pacer?: PacerOptions;
  /** Ms between shard-map refreshes (also refreshed at once when a reshard shows). @default 30000 */
  shardMapRefreshMs?: number;
  /**
   * Pack user records into KPL aggregated records (model/kpl.ts) of at most this many bytes; readers
   * de-aggregate. `true` means 64 KiB.
   * @default false
   */
  aggregate?: boolean | { maxBytes: number };
  /** Receives notices (pacing off, shard map refreshed) for stderr. @default discard */
  log?: (line: string) => void;
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
  /** Kinesis records accepted (an aggregated record counts once) and their bytes (data + partition key). */
  kinesisRecords: number;
  kinesisBytes: number;
  /** Entries of PutRecords responses rejected with ProvisionedThroughputExceededException. */
  throttledEntries: number;
  /** Open shards paced (0: no shard map, unpaced), and shard maps installed after the first. */
  shards: number;
  shardMapRefreshes: number;
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
class Run implements RunContext {
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
  throttledEntryCount = 0;
  kinesisRecordCount = 0;
  kinesisByteCount = 0;
  router?: ShardRouter;
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
    setMaxListeners(0, this.signal);
  }

  request(): void {
    this.requests++;
  }
  delivered(entries: Entry[]): void {
    this.anyDelivered = true;
    this.sent += entries.length;
    for (const entry of entries) this.bytes += entry.Data.byteLength;
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
  throttledEntries(count: number): void {
    this.throttledEntryCount += count;
  }
  kinesisRecords(count: number, bytes: number): void {
    this.kinesisRecordCount += count;
    this.kinesisByteCount += bytes;
  }
  shardMismatch(): void {
    this.router?.refresh();
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
  const aggregate = options.aggregate === true ? { maxBytes: 64 * 1024 } : options.aggregate || undefined;
  const router = new ShardRouter(run, client, streamName, {
    concurrency,
    pacing: options.pacing ?? true,
    limits: options.shardLimits ?? KINESIS_SHARD_WRITE_LIMITS,
    pacer: options.pacer,
    refreshMs: options.shardMapRefreshMs ?? 30_000,
    aggregateMaxBytes: aggregate?.maxBytes,
    log: options.log ?? (() => undefined),
  });
  run.router = router;
  let interrupted = false;
  let lastYield = Date.now();
  try {
    await router.start();
    /** Queues `entry` once the shard map is current and the event loop had its turn; resolves true. */
    const queueSlowly = async (entry: Entry, yieldFirst: boolean): Promise<boolean> => {
      if (router.switchPending) await router.switchMap();
      if (yieldFirst) {
        await new Promise(setImmediate);
        lastYield = Date.now();
      }
      await router.queueFor(entry).push(entry);
      return true;
    };
    /**
     * Takes one record: true to go on, false when the run must stop taking records, or a promise of that
     * when it has to wait (a full queue, a shard-map switch, a turn for the event loop).
     */
    const take = (record: PublishRecord): boolean | Promise<boolean> => {
      if (run.signal.aborted) return false;
      if (options.signal?.aborted) {
        interrupted = true;
        return false;
      }
      run.records++;
      const size = recordSize(record.data, record.partitionKey);
      const problem = recordProblem(record.data, record.partitionKey, undefined, size);
      if (problem) {
        run.failed(undefined, problem);
        return true;
      }
      const entry = new Entry(record.data, record.partitionKey, record.explicitHashKey, size);
      // A source that never waits and queues with room run on microtasks alone, which would starve timers
      // and sockets (the pacers' wake-ups, responses) for as long as the queues take records: yield now
      // and then.
      const yieldFirst = (run.records & 255) === 0 && Date.now() - lastYield > 5;
      if (!router.switchPending && !yieldFirst && router.queueFor(entry).tryPush(entry)) return true;
      return queueSlowly(entry, yieldFirst);
    };
    if (Symbol.asyncIterator in records) {
      for await (const record of records as AsyncIterable<PublishRecord>) if (!(await take(record))) break;
    } else {
      // A plain iterable is read without an await per record (`for await` would add microtask turns to each).
      for (const record of records as Iterable<PublishRecord>) {
        const going = take(record);
        if (going === false || (going !== true && !(await going))) break;
      }
    }
  } catch (err) {
    run.abort(err);
  }
  await router.close();
  if (run.signal.aborted) throw run.error;
  const durationMs = Date.now() - started;
  return {
    records: run.records,
    sent: run.sent,
    bytes: run.bytes,
    durationMs,
    recordsPerSecond: durationMs > 0 ? Math.round((run.sent * 1000) / durationMs) : run.sent,
    requests: run.requests,
    kinesisRecords: run.kinesisRecordCount,
    kinesisBytes: run.kinesisByteCount,
    throttledEntries: run.throttledEntryCount,
    shards: router.shardCount,
    shardMapRefreshes: router.refreshes,
    retries: { resentRecords: run.resentRecords, throttledRequests: run.throttledRequests },
    failed: { count: run.failedCount, reasons: { ...run.reasons } },
    interrupted,
  };
}
