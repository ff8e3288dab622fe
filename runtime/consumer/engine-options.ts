/**
 * The consumer engine's options and results (runtime/consumer/engine.ts), apart from the engine so that
 * its shard readers can name them without importing it.
 */
import type { _Record } from "@aws-sdk/client-kinesis";
import type { BackoffOptions, Clock } from "../backoff";
import type { CheckpointStore } from "./checkpoint";
import type { KinesisSender, ShardInfo, StartFrom } from "./shards";

export type KinesisRecord = _Record;

export interface SubscribeOptions {
  /** Where shards without a checkpoint start. @default { type: "latest" } */
  from?: StartFrom;
  /**
   * Saved positions: resume after the last record written; saved periodically and at stop. A shard's start
   * (`latest` as the time the run began) is saved before its first read, so a restart reads a shard of which
   * nothing was written yet from that start, not from `from`. @default none
   */
  checkpoint?: CheckpointStore;
  /** Stop after exactly this many records were written. @default no limit */
  max?: number;
  /** Stop when no record was written for this long. @default no limit */
  idleTimeoutMs?: number;
  /** Aborting stops the subscriber cleanly (in-flight writes finish, the checkpoint is saved). */
  signal?: AbortSignal;
  /**
   * Writes one record. Called concurrently for different shards, in sequence-number order within a
   * shard: the shard's next record waits until the promise resolves (backpressure), and only then does
   * the checkpoint include this record. A rejection stops the subscriber with that error. `shard` is the
   * shard the record was read from, as listed (its parents tell a batching caller what must come first).
   */
  write(record: KinesisRecord, shard: ShardInfo): Promise<number | void> | number | void;
  /**
   * Called once the records of one read of a shard (a GetRecords answer, or a fan-out event) were written,
   * before the shard's next read: `records` is how many it brought, `behind` whether it was behind the
   * shard's tip (MillisBehindLatest > 0). A read that brought nothing and is not behind says the shard is
   * read to its tip (kinesis-local answers MillisBehindLatest 0 on every read). @default none
   */
  readDone?(shard: ShardInfo, read: { records: number; behind: boolean }): void;
  /** Called once a shard was read to its end, after its last record was written, before its children start. @default none */
  shardDone?(shard: ShardInfo): void;
  /**
   * A saved position the stream does not know (a sequence number outside the shard's range or refused by
   * GetShardIterator, an open shard saved as ended) stops the run by default. With this, that shard is read
   * again from TRIM_HORIZON instead (its records are handed again, never skipped), this is told which shard
   * and why, and shards the checkpoint names but the stream lacks are ignored. For a consumer whose state
   * may outlive the stream's (the local lake's processors, after the streams' state was reset). Polling
   * reads only. @default stop the run
   */
  readAgainOnUnknownPosition?(shardId: string, why: string): void;
  /**
   * Output bytes that may have been accepted by `write` without reaching the reader's logic (a pipe's
   * buffer plus the reader's own): the checkpoint only covers a record once this many bytes were written
   * after it (`write` must resolve with the bytes it wrote), so a restart re-delivers at most this much and
   * never skips a record a closed reader may not have consumed. A shard's end is covered the same way.
   * @default 0 (the checkpoint covers every record once `write` resolved)
   */
  holdBackBytes?: number;
  /** Progress and warnings, one line each. @default discard */
  log?(line: string): void;
  /**
   * Least time between two GetRecords calls on one shard while behind. A shard serves 5 calls/s to all
   * its polling readers together (wire-tap, routes, other subscribers), so the default takes 2.
   * @default 500
   */
  minGetRecordsIntervalMs?: number;
  /** Least time between two GetRecords calls on one shard at its tip (caught up): 1 call/s. @default 1000 */
  tipGetRecordsIntervalMs?: number;
  /** Pause after a read that returned nothing and is not behind the tip of the shard. @default 1000 */
  emptyReadPauseMs?: number;
  /** How often shards are listed again to discover new ones. @default 10000 */
  relistIntervalMs?: number;
  /** How often a changed checkpoint is saved. @default 2000 */
  checkpointIntervalMs?: number;
  /** Read bandwidth to stay under per shard (AWS allows 2 MiB/s). @default SHARD_READ_BYTES_PER_SECOND (model/limits.ts) */
  maxBytesPerSecondPerShard?: number;
  /** Records per GetRecords call (its `Limit`). @default GET_RECORDS_MAX_RECORDS (model/limits.ts, 10000) */
  getRecordsLimit?: number;
  /** Consecutive network or 5xx errors tolerated per call before giving up (throttling is retried forever). @default 10 */
  maxTransientRetries?: number;
  /**
   * Longest time one call may keep failing with network errors, timeouts or 5xx before the subscriber gives
   * up (exit 1), whatever `maxTransientRetries` allows; with the client's call deadline this bounds how long
   * a frozen endpoint can hold the subscriber. @default 120000
   */
  transientBudgetMs?: number;
  /** Backoff for throttling and transient errors. @default { baseMs: 100, capMs: 5000 } */
  backoff?: BackoffOptions;
  /** Time for pacing, backoff, pauses and timeouts; injectable for deterministic tests. @default real time */
  clock?: Clock;
  /**
   * Read through an enhanced fan-out consumer (SubscribeToShard) instead of polling GetRecords; every other
   * rule (shards, parents first, checkpoints, stop) is the same. @default polling
   */
  fanOut?: FanOut;
  /**
   * Read only these shards (a consumer group worker's leased shards, runtime/leases/engine-reader.ts); their
   * parents count as read (the group leases a child only after its parents' ends are checkpointed), and the
   * run ends with "all-shards-ended" once these are closed and read. @default every shard of the stream
   */
  onlyShards?: string[];
}

export type StopReason = "max" | "idle-timeout" | "aborted" | "all-shards-ended" | "error";

export interface SubscribeSummary {
  /** Records written. */
  records: number;
  /** Bytes of record data written. */
  bytes: number;
  /** Shards a reader ran on. */
  shardsRead: number;
  durationMs: number;
  /** Throttled calls (backed off and retried). */
  throttles: number;
  /** Other retried failures: network errors, 5xx, expired iterators. */
  retries: number;
  stopReason: StopReason;
}

export interface FanOut {
  /** The registered consumer's ARN (DescribeStreamConsumer). */
  consumerArn: string;
  /** A client for SubscribeToShard: HTTP/2 on AWS. */
  client: KinesisSender;
  /** A subscription that brings no event for this long is ended and made again. @default 60000 */
  eventTimeoutMs?: number;
}
