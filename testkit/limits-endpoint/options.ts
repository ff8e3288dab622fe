/** What the limits endpoint is started with, and the per-shard limits it enforces by default. */
import {
  SHARD_READ_BYTES_PER_SECOND,
  SHARD_READ_CALLS_PER_SECOND,
  SHARD_WRITE_BYTES_PER_SECOND,
  SHARD_WRITE_RECORDS_PER_SECOND,
} from "../../model/limits";

export type ShardLimits = Record<"writeRecordsPerSecond" | "writeBytesPerSecond" | "readCallsPerSecond" | "readBytesPerSecond", number>;

/** Kinesis Data Streams per-shard limits (from `model/limits.ts`). */
export const SHARD_LIMITS: ShardLimits = {
  writeRecordsPerSecond: SHARD_WRITE_RECORDS_PER_SECOND,
  writeBytesPerSecond: SHARD_WRITE_BYTES_PER_SECOND,
  readCallsPerSecond: SHARD_READ_CALLS_PER_SECOND,
  readBytesPerSecond: SHARD_READ_BYTES_PER_SECOND,
};

export interface NullBackendOptions {
  type: "null";
  /** Shards of a stream the null backend has not seen created. @default 1 */
  shards?: number;
  /**
   * Check the records accepted: each record's data is JSON and `field` a number that grows per partition
   * key; counts distinct values seen and order violations per key (see `LimitsStats.check`). @default off
   */
  checkField?: string;
}

export interface LimitsEndpointOptions {
  /** `http://host:port` of a Kinesis endpoint to forward to, or a null backend. */
  backend: string | NullBackendOptions;
  /** Enforce the limits. `false` passes everything (a client-ceiling measurement). @default true */
  enforce?: boolean;
  /** Per-shard limits. @default SHARD_LIMITS (Kinesis's) */
  limits?: Partial<ShardLimits>;
  /** Milliseconds between shard-map refreshes. @default 1000 */
  shardMapRefreshMs?: number;
  /** Clock in ms (tests). @default Date.now */
  now?: () => number;
  /** Port on 127.0.0.1. @default 0 (a free port) */
  port?: number;
}
