/**
 * What a shard reader (polling or enhanced fan-out) needs from the consumer engine that runs it: the
 * client and the stream, the options, the stop signal and clock, bounded retries, and the calls that
 * hand records and a shard's end back to the engine. The engine implements it; the readers import only
 * this, so the engine and its readers form no import circle.
 */
import type { Clock } from "../backoff";
import type { KinesisRecord, SubscribeOptions } from "./engine-options";
import type { KinesisSender, ShardInfo } from "./shards";

export interface ShardReaderContext {
  readonly client: KinesisSender;
  readonly streamName: string;
  readonly options: SubscribeOptions;
  readonly log: (line: string) => void;
  readonly stopSignal: AbortSignal;
  readonly clock: Clock;
  readonly counts: { records: number; bytes: number; throttles: number; retries: number };
  /** True once the run is stopping: readers end their loop. */
  readonly stopping: boolean;
  /** Runs a call with the engine's bounded retries; undefined when the run stopped meanwhile. */
  retrying<T>(what: string, call: () => Promise<T>): Promise<T | undefined>;
  /** Runs a read that may bring records (an idle timeout waits for it). */
  reading<T extends { Records?: unknown[] }>(send: () => Promise<T>): Promise<T>;
  /** A record arrived (for the idle timeout). */
  arrived(): void;
  /** Hands one record to the caller; false once the run stops taking records. */
  deliver(shardId: string, record: KinesisRecord): Promise<boolean>;
  /** The records of one read were written (`records` of them; `behind` the shard's tip or not). */
  readDone(shardId: string, records: number, behind: boolean): void;
  /**
   * The stream refused the shard's saved position (`why`): true when the shard is to be read again from
   * TRIM_HORIZON (`readAgainOnUnknownPosition`), false when the run stops with the refusal.
   */
  unknownPosition(shardId: string, why: string): boolean;
  /** The shard ended after `lastSequenceNumber`, with these children. */
  shardEnded(shardId: string, lastSequenceNumber: string | undefined, children: ShardInfo[]): void;
  /** The children of a shard already known to be closed, if listed. */
  closedShardChildren(shardId: string): ShardInfo[] | undefined;
}
