/**
 * `lake.consume()`: a segment's records handed to the caller's function in batches, each with a
 * checkpointer, the way the Kinesis Client Library hands them to a record processor.
 *
 * A thin layer over the consumer engine's batch mode (runtime/consumer/batches.ts), which does the reading
 * (every shard, parents read to their end before their children, new shards found as they appear, polling
 * within the shard's read budget or enhanced fan-out, expired iterators renewed, bounded retries), groups
 * the records per shard into batches (the records of one read), runs one batch of a shard at a time
 * (backpressure), holds a child shard's first batch until its parents' batches are done, and saves only
 * what was checkpointed (runtime/consumer/committed-positions.ts). This layer unpacks KPL aggregated
 * records, gives each batch its `checkpoint(record?)`, and checkpoints after each batch (autoCheckpoint).
 */
import { deaggregate } from "../model/kpl";
import type { KinesisSender } from "../runtime/consumer/shards";
import type { KinesisRecord } from "../runtime/consumer/engine-options";
import type { CommittedPositions } from "../runtime/consumer/committed-positions";
import { BatchEngineOptions, BatchRunSummary, BatchStopReason, Position, runShardBatches, ShardBatch, ShardCheckpointer } from "../runtime/consumer/batches";
import { ConfigurationError } from "./errors";

/** One record as the caller gets it: a user record (a KPL aggregated record is unpacked into its records). */
export interface ConsumedRecord {
  /** The record's bytes (`record.data.toString()` for text). */
  data: Buffer;
  partitionKey: string;
  /** The Kinesis record's sequence number (shared by the user records of one aggregated record). */
  sequenceNumber: string;
  /** The user record's index inside a KPL aggregated record; undefined for a plain record. */
  subSequenceNumber?: number;
  /** When Kinesis accepted the record. */
  arrivedAt?: Date;
}

/** What the caller's `eachBatch` gets: the records of one read of one shard, in order. */
export interface Batch {
  shardId: string;
  records: ConsumedRecord[];
  /**
   * Saves the position after `record` (default: the batch's last record) in the checkpoint file and resolves
   * once it is on disk: a restart with the same checkpoint never hands that record, or an earlier one of this
   * shard, again. Positions only move forward. Without a checkpoint file it does nothing.
   * @default the batch's last record
   */
  checkpoint(record?: ConsumedRecord): Promise<void>;
  /** Aborted when the consumer stops; a batch left unfinished is handed again after a restart. */
  signal: AbortSignal;
}

/** How a consume run ended: stopped by its signal, idle for `idleTimeoutMs`, every shard closed and read. */
export type ConsumeStopReason = BatchStopReason;

/** What a consume run did: the batch run's summary, its records counted as the caller got them. */
export interface ConsumeSummary extends BatchRunSummary {
  /** Records handed to `eachBatch`: user records (a KPL aggregated record counts as the records inside). */
  records: number;
  stopReason: ConsumeStopReason;
}

/** The batch mode's settings this layer sets, plus its own. */
export interface BatchRunOptions {
  eachBatch(batch: Batch): Promise<void> | void;
  /** Checkpoint after each batch the function finished. @default true */
  autoCheckpoint: boolean;
  /** The store the engine and the checkpointer share, when a checkpoint file is in use. */
  positions?: CommittedPositions;
  /** Records (Kinesis records) of one shard waiting for the function at most; the shard's reads wait beyond. */
  maxBufferedRecords: number;
  /**
   * Stop once no record arrived for this long, counted only while no batch is running or waiting and no
   * call is under way (a batch that holds its shard's reads back is not idleness). @default never
   */
  idleTimeoutMs?: number;
  signal: AbortSignal;
}

/** `eachBatch` rejected (with `error`, the caller's own): the run stops and `consume` rejects with `error`. */
export class BatchFailed {
  constructor(readonly error: unknown) {}
}

/** Runs the engine with `engine` options and hands its records to `eachBatch`; resolves once every batch settled. */
export async function runBatches(client: KinesisSender, streamName: string, engine: BatchEngineOptions, options: BatchRunOptions): Promise<ConsumeSummary> {
  let userRecords = 0;
  const summary = await runShardBatches(client, streamName, engine, {
    positions: options.positions,
    maxBufferedRecords: options.maxBufferedRecords,
    idleTimeoutMs: options.idleTimeoutMs,
    signal: options.signal,
    eachBatch: async (shardBatch, checkpointer) => {
      const { batch, last } = toBatch(shardBatch, checkpointer);
      userRecords += batch.records.length;
      try {
        await options.eachBatch(batch);
      } catch (err) {
        throw new BatchFailed(err);
      }
      if (options.autoCheckpoint && last) await checkpointer.save(last);
    },
  });
  return { ...summary, records: userRecords };
}

/**
 * The caller's batch of a shard's records: KPL aggregated records unpacked, and for each user record the
 * position a checkpoint at it may save: its Kinesis record when it is that record's last user record, else
 * the Kinesis record before (all user records of an aggregated record share its sequence number, and a
 * restart reads a Kinesis record again whole).
 */
function toBatch(shardBatch: ShardBatch, checkpointer: ShardCheckpointer) {
  const shardId = shardBatch.shard.id;
  const out: ConsumedRecord[] = [];
  const safeAt = new Map<ConsumedRecord, Position | undefined>();
  let previous = shardBatch.previous;
  shardBatch.records.forEach((record: KinesisRecord, k) => {
    const position: Position = { sequenceNumber: record.SequenceNumber ?? "", order: shardBatch.firstOrder + k };
    const data = record.Data ?? new Uint8Array();
    const users = deaggregate({ partitionKey: record.PartitionKey ?? "", data });
    const aggregated = users.length !== 1 || users[0].data !== data;
    users.forEach((user, i) => {
      const consumed: ConsumedRecord = {
        data: Buffer.from(user.data.buffer, user.data.byteOffset, user.data.byteLength),
        partitionKey: user.partitionKey,
        sequenceNumber: position.sequenceNumber,
        ...(aggregated ? { subSequenceNumber: i } : {}),
        ...(record.ApproximateArrivalTimestamp ? { arrivedAt: record.ApproximateArrivalTimestamp } : {}),
      };
      out.push(consumed);
      safeAt.set(consumed, i === users.length - 1 ? position : previous);
    });
    previous = position;
  });
  const last = previous;
  const batch: Batch = {
    shardId,
    records: out,
    signal: shardBatch.signal,
    checkpoint: async (record?: ConsumedRecord) => {
      if (record !== undefined && !safeAt.has(record)) {
        throw new ConfigurationError(`checkpoint(record) of shard ${shardId}: the record is not one of this batch's records; pass one of batch.records`);
      }
      const at = record === undefined ? last : safeAt.get(record);
      if (at) await checkpointer.save(at);
    },
  };
  return { batch, last };
}
