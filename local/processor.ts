/**
 * The local lake's stand-in for a route's Lambda function and its event source mapping: consumes the
 * source segment's stream through the consumer engine's batch mode (runtime/consumer/batches.ts), the
 * engine the subscriber, the wire-tap and the library read with (every shard, parents before children,
 * new shards found by relisting, the runtime's read budget, expired iterators renewed, bounded retries),
 * one read of at most `batchSize` records at a time per shard. It applies a `filterAt: mapping` route's
 * filter the way Lambda's filter criteria do, and invokes THE SAME handler the function runs
 * (model/processor/handler.ts) with events shaped exactly as Lambda delivers them
 * (model/processor/events.ts), JSON round trip included. It keeps the mapping's semantics and no kinder:
 * batches of at most `batchSize` records and 6 MB, partial batch failures checkpoint before the first
 * failed record, bisect on error (not counted as a retry), at most `maximumRetryAttempts` retries, records
 * older than `maximumRecordAgeInSeconds` discarded, and what is given up reported to the dead-letter queue:
 * a JSONL file, one line per message, in the SQS message format (the handler's poison records, and Lambda's
 * invocation records with `KinesisBatchInfo`).
 * Tumbling windows: per shard, by arrival time, state carried between invocations (at most 1 MB, or the
 * window ends early), one final invocation per window: when a record of a later window comes, when the
 * shard ends, or when the shard is read to its tip and the window's end has passed (so a lagging route
 * still writes once per window, however many batches the window takes).
 * Checkpoints (per shard, the position with the open window in one atomic save after each invocation,
 * processor/checkpoint-file.ts) let a restart continue where it was; a position the stream does not know
 * (its state was reset) makes that shard start over from its oldest record.
 */
import type { ShardInfo, StartFrom } from "../runtime/consumer/shards";
import { Position, runShardBatches, ShardBatch, ShardCheckpointer } from "../runtime/consumer/batches";
import { CommittedPositions } from "../runtime/consumer/committed-positions";
import { SourceRecord, windowOf } from "../model/processor/events";
import { recordPassesFilter } from "../model/processor/filter";
import type { StartAt } from "../model/processor/spec";
import { INVOKE_PAYLOAD_LIMIT } from "./processor/options";
import { ProcessorInvoker } from "./processor/invoke";
import { ProcessorCheckpointFile } from "./processor/checkpoint-file";

export { INVOKE_PAYLOAD_LIMIT, WINDOW_STATE_LIMIT } from "./processor/options";
export type { LocalProcessorOptions, ProcessorStats } from "./processor/options";

/** The route's `startAt` as the engine's start for shards without a checkpoint. */
function startFrom(startAt: StartAt): StartFrom {
  return startAt.type === "at-timestamp" ? { type: "at-timestamp", at: new Date(startAt.timestamp) } : { type: startAt.type };
}

export class LocalProcessor extends ProcessorInvoker {
  /**
   * True when the deployed mapping would hand this record to the function: always, unless the route
   * filters in the mapping (`filterAt: mapping`), where Lambda's rule applies to the record as stored. A
   * KPL aggregate is not JSON, so it is dropped with every user record inside: the reading of Lambda's
   * docs that loses records, taken here so that the local lake is never kinder than AWS may be.
   */
  accepts(data: Uint8Array): boolean {
    return this.route.filterAt !== "mapping" || recordPassesFilter(this.route.filter, data);
  }

  /**
   * Processes every shard until the signal aborts (or every shard is closed and read); resumes from the
   * checkpoint. Rejects when the engine gives up (a call failing beyond its retry bounds) or the processor
   * cannot go on (its checkpoint or dead-letter file cannot be written).
   */
  async run(signal: AbortSignal): Promise<void> {
    const batchSize = this.route.failure.batchSize;
    const idle = this.o.idlePollMs;
    const route = `route ${this.route.name}`;
    await runShardBatches(
      this.o.client,
      this.o.sourceStream,
      {
        from: startFrom(this.route.startAt),
        // One read is at most one batch of the mapping (process() may cut it further).
        getRecordsLimit: batchSize,
        ...(idle !== undefined ? { emptyReadPauseMs: idle, tipGetRecordsIntervalMs: idle } : {}),
        log: (line) => this.log(`${route}: ${line}`),
      },
      {
        positions: new CommittedPositions(new ProcessorCheckpointFile(this.checkpointFile, (line) => this.log(`${route}: ${line}`))),
        // One read waits while one is processed, as the mapping reads the next batch during an invocation.
        maxBufferedRecords: batchSize,
        signal,
        eachBatch: (batch, checkpoint) => this.process(batch, checkpoint),
        // Read to the tip, a window whose end the clock has passed is over: never on a read that merely
        // returned old records, or a route that lags would write a partial result per read instead of
        // Lambda's one per window (isFinalInvokeForWindow).
        atTip: this.route.aggregate ? (shard, checkpoint) => this.atTip(shard, checkpoint) : undefined,
        // Resharding closes the window.
        shardEnded: (shard, checkpoint) => this.shardEnded(shard, checkpoint),
        readAgain: (shardId) => this.forget(shardId),
      },
    );
  }

  private async atTip(shard: ShardInfo, checkpoint: ShardCheckpointer): Promise<void> {
    this.track(shard.id, checkpoint);
    await this.closeWindow(shard.id, false);
  }

  private async shardEnded(shard: ShardInfo, checkpoint: ShardCheckpointer): Promise<void> {
    this.track(shard.id, checkpoint);
    await this.closeWindow(shard.id, true);
    this.log(`route ${this.route.name}: ${shard.id} ended`);
  }

  /** Filters, ages and batches what one read returned, and invokes the handler for each batch. */
  private async process(read: ShardBatch, checkpoint: ShardCheckpointer): Promise<void> {
    const shardId = read.shard.id;
    const progress = this.track(shardId, checkpoint);
    progress.orders = new Map(read.records.map((r, k) => [r.SequenceNumber!, read.firstOrder + k]));
    this.stats.seen += read.records.length;
    const maxAgeMs = this.route.failure.maximumRecordAgeInSeconds * 1000;
    let batch: SourceRecord[] = [];
    let batchWindow: number | undefined;
    let bytes = 0;
    let lastSeen: Position | undefined;
    const flush = async () => {
      if (batch.length > 0) await this.invokeBatch(shardId, batch);
      batch = [];
      batchWindow = undefined;
      bytes = 0;
    };
    for (const r of read.records) {
      const source: SourceRecord = {
        data: r.Data ?? new Uint8Array(),
        partitionKey: r.PartitionKey ?? "",
        sequenceNumber: r.SequenceNumber!,
        approximateArrivalTimestamp: r.ApproximateArrivalTimestamp ?? new Date(this.now()),
      };
      lastSeen = this.positionOf(shardId, source.sequenceNumber);
      if (!this.accepts(source.data)) continue; // dropped by the filter: the iterator moves past it
      if (this.now() - source.approximateArrivalTimestamp.getTime() > maxAgeMs) {
        await flush();
        await this.giveUp(shardId, [source], "RecordAgeExceeded", 0);
        continue;
      }
      if (this.route.aggregate) {
        // A batch holds one window's records; a record of a later window ends the open one first.
        const w = windowOf(source.approximateArrivalTimestamp.getTime(), this.route.aggregate.windowSeconds);
        if (batchWindow !== undefined && batchWindow !== w.startMs) await flush();
        const open = progress.window;
        if (open && open.startMs !== w.startMs) await this.finalInvoke(shardId, false);
        batchWindow = w.startMs;
      }
      const size = Math.ceil(source.data.length / 3) * 4 + source.partitionKey.length + 400;
      if (batch.length >= this.route.failure.batchSize || bytes + size > INVOKE_PAYLOAD_LIMIT) await flush();
      batch.push(source);
      bytes += size;
    }
    await flush();
    // Records the filter dropped at the end of a read are done too.
    if (lastSeen && (!progress.done || lastSeen.order > progress.done.order)) {
      progress.done = lastSeen;
      await this.saveCheckpoint(shardId);
    }
  }
}
