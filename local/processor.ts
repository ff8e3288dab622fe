/**
 * The local lake's stand-in for a route's Lambda function and its event source mapping: reads the
 * source segment's stream shard by shard, applies a `filterAt: mapping` route's filter the way Lambda's
 * filter criteria do, and invokes THE SAME handler the function runs (model/processor/handler.ts) with events shaped
 * exactly as Lambda delivers them (model/processor/events.ts), JSON round trip included. It keeps the
 * mapping's semantics and no kinder: batches of at most `batchSize` records and 6 MB, partial batch
 * failures checkpoint before the first failed record, bisect on error (not counted as a retry), at most
 * `maximumRetryAttempts` retries, records older than `maximumRecordAgeInSeconds` discarded, and what is
 * given up reported to the dead-letter queue: a JSONL file, one line per message, in the SQS message
 * format (the handler's poison records, and Lambda's invocation records with `KinesisBatchInfo`).
 * Tumbling windows: per shard, by arrival time, state carried between invocations (at most 1 MB, or the
 * window ends early), one final invocation per window: when a record of a later window comes, or when the
 * shard is read to its tip and the window's end has passed (so a lagging route still writes once per
 * window, however many batches the window takes).
 * Checkpoints (per shard, atomically saved after each invocation) let a restart continue where it was.
 */
import { READ_INTERVAL_AT_TIP_MS, READ_INTERVAL_BEHIND_MS } from "../runtime/consumer/read-budget";
import { sleep } from "../runtime/backoff";
import { listAllShards } from "../runtime/list-shards";
import { GetRecordsCommand, GetShardIteratorCommand, Shard, _Record } from "@aws-sdk/client-kinesis";
import { SourceRecord, windowOf } from "../model/processor/events";
import { recordPassesFilter } from "../model/processor/filter";
import { INVOKE_PAYLOAD_LIMIT } from "./processor/options";
import { ProcessorInvoker } from "./processor/invoke";

export { INVOKE_PAYLOAD_LIMIT, WINDOW_STATE_LIMIT } from "./processor/options";
export type { LocalProcessorOptions, ProcessorStats } from "./processor/options";

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

  /** Processes every shard until the signal aborts; resumes from the checkpoint. */
  async run(signal: AbortSignal): Promise<void> {
    const running = new Map<string, Promise<void>>();
    while (!signal.aborted) {
      let shards: Shard[];
      try {
        shards = await this.listShards();
      } catch (err) {
        this.log(`route ${this.route.name}: cannot list the shards of ${this.o.sourceStream}: ${(err as Error).message}`);
        await sleep(1000, signal);
        continue;
      }
      for (const shard of shards) {
        const id = shard.ShardId!;
        if (running.has(id) || this.checkpoint.shards[id]?.closed) continue;
        // After resharding a parent is read to its end before its children, as Lambda does.
        const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => !!p && shards.some((s) => s.ShardId === p));
        if (parents.some((p) => !this.checkpoint.shards[p]?.closed)) continue;
        running.set(id, this.runShard(id, signal));
      }
      await sleep(5000, signal);
    }
    await Promise.all(running.values());
  }

  private async listShards(): Promise<Shard[]> {
    return listAllShards(this.o.client, this.o.sourceStream);
  }

  private async iterator(shardId: string): Promise<string | undefined> {
    const cp = this.shardState(shardId);
    if (cp.sequenceNumber) {
      try {
        return (
          await this.o.client.send(
            new GetShardIteratorCommand({ StreamName: this.o.sourceStream, ShardId: shardId, ShardIteratorType: "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber: cp.sequenceNumber }),
          )
        ).ShardIterator;
      } catch (err) {
        // AWS answers InvalidArgumentException; kinesis-local ResourceNotFoundException naming the sequence number.
        const e = err as { name?: string; message?: string };
        const unknownRecord = e.name === "InvalidArgumentException" || (e.name === "ResourceNotFoundException" && /SequenceNumber/.test(e.message ?? ""));
        if (!unknownRecord) throw err;
        // The stream no longer knows that record (its state was reset): start over rather than skip.
        this.log(`route ${this.route.name}: checkpoint ${cp.sequenceNumber} of ${shardId} is unknown to the stream; reading it from the start again`);
        delete cp.sequenceNumber;
        delete cp.window;
        cp.start = { type: "TRIM_HORIZON" };
        this.saveCheckpoint();
      }
    }
    if (!cp.start) {
      const startAt = this.route.startAt;
      // LATEST is pinned to the first start's time, so a restart does not skip what arrived meanwhile.
      cp.start =
        startAt.type === "trim-horizon"
          ? { type: "TRIM_HORIZON" }
          : { type: "AT_TIMESTAMP", timestamp: startAt.type === "at-timestamp" ? startAt.timestamp : new Date(this.now()).toISOString() };
      this.saveCheckpoint();
    }
    const start = cp.start;
    return (
      await this.o.client.send(
        new GetShardIteratorCommand({
          StreamName: this.o.sourceStream,
          ShardId: shardId,
          ShardIteratorType: start.type,
          ...(start.type === "AT_TIMESTAMP" ? { Timestamp: new Date(start.timestamp) } : {}),
        }),
      )
    ).ShardIterator;
  }

  private async runShard(shardId: string, signal: AbortSignal): Promise<void> {
    const idle = this.o.idlePollMs ?? READ_INTERVAL_AT_TIP_MS;
    let iterator: string | undefined;
    while (!signal.aborted) {
      try {
        iterator ??= await this.iterator(shardId);
        if (!iterator) break;
        const page = await this.o.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: this.route.failure.batchSize }));
        iterator = page.NextShardIterator;
        const records = page.Records ?? [];
        this.stats.seen += records.length;
        await this.process(shardId, records);
        if (!iterator) {
          await this.closeWindow(shardId, true);
          this.shardState(shardId).closed = true;
          this.saveCheckpoint();
          this.log(`route ${this.route.name}: ${shardId} ended`);
          return;
        }
        // A window ends when a record of a later window comes (process) or, read to the tip, when the clock
        // has passed its end: never on a read that merely returned old records, or a route that lags would
        // write a partial result per read instead of Lambda's one per window (isFinalInvokeForWindow).
        // kinesis-local answers MillisBehindLatest 0 on every read, so the tip is an empty read too.
        const atTip = records.length === 0 && !((page.MillisBehindLatest ?? 0) > 0);
        if (this.route.aggregate && atTip) await this.closeWindow(shardId, false);
        // The runtime's read budget (2 of the shard's 5 calls/s while behind, leaving room for the wire-tap
        // and subscribers); an empty read waits like Lambda's poller, one poll per second.
        await sleep(records.length === 0 ? idle : READ_INTERVAL_BEHIND_MS, signal);
      } catch (err) {
        this.log(`route ${this.route.name}: reading ${shardId} failed, retrying: ${(err as Error).message}`);
        iterator = undefined; // re-created from the checkpoint, so nothing is skipped
        await sleep(1000, signal);
      }
    }
  }

  /** Filters, ages and batches what one read returned, and invokes the handler for each batch. */
  private async process(shardId: string, records: _Record[]): Promise<void> {
    const maxAgeMs = this.route.failure.maximumRecordAgeInSeconds * 1000;
    let batch: SourceRecord[] = [];
    let batchWindow: number | undefined;
    let bytes = 0;
    let lastSeen: string | undefined;
    const flush = async () => {
      if (batch.length > 0) await this.invokeBatch(shardId, batch);
      batch = [];
      batchWindow = undefined;
      bytes = 0;
    };
    for (const r of records) {
      const source: SourceRecord = {
        data: r.Data ?? new Uint8Array(),
        partitionKey: r.PartitionKey ?? "",
        sequenceNumber: r.SequenceNumber!,
        approximateArrivalTimestamp: r.ApproximateArrivalTimestamp ?? new Date(this.now()),
      };
      lastSeen = source.sequenceNumber;
      if (!this.accepts(source.data)) continue; // dropped by the filter: the iterator moves past it
      if (this.now() - source.approximateArrivalTimestamp.getTime() > maxAgeMs) {
        await flush();
        this.giveUp(shardId, [source], "RecordAgeExceeded", 0);
        continue;
      }
      if (this.route.aggregate) {
        // A batch holds one window's records; a record of a later window ends the open one first.
        const w = windowOf(source.approximateArrivalTimestamp.getTime(), this.route.aggregate.windowSeconds);
        if (batchWindow !== undefined && batchWindow !== w.startMs) await flush();
        const open = this.shardState(shardId).window;
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
    const cp = this.shardState(shardId);
    if (lastSeen && (!cp.sequenceNumber || BigInt(lastSeen) > BigInt(cp.sequenceNumber))) {
      cp.sequenceNumber = lastSeen;
      this.saveCheckpoint();
    }
  }

}
