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
import { writeFileAtomic } from "../runtime/files";
import { sleep } from "../runtime/backoff";
import { listAllShards } from "../runtime/list-shards";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordsCommand, Shard, _Record } from "@aws-sdk/client-kinesis";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { RouteConfig } from "../model/config";
import { kinesisEvent, SourceContext, SourceRecord, tumblingWindowEvent, windowOf, windowTime } from "../model/processor/events";
import { recordPassesFilter } from "../model/processor/filter";
import { DeadLetterMessage, deadLetterBody } from "../model/processor/dead-letter";
import { createHandler, ProcessorEvent, ProcessorResponse } from "../model/processor/handler";
import { processorSpec } from "../model/processor/spec";

/** Lambda's payload limit for a synchronous invocation: a batch never exceeds it. */
export const INVOKE_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/** The most state a tumbling window may carry per shard before Lambda ends the window early. */
export const WINDOW_STATE_LIMIT = 1024 * 1024;

export interface LocalProcessorOptions {
  route: RouteConfig;
  client: KinesisClient;
  sourceStream: string;
  targetStream: string;
  /** The source stream's ARN, as events carry it. */
  sourceStreamArn: string;
  /** The lake's folder: state goes to `<dataDir>/processors/<route>/`. */
  dataDir: string;
  /** Region put in events. @default "us-east-1" */
  region?: string;
  /** Account of the role ARN put in events. @default "000000000000" */
  accountId?: string;
  /** Pause after an empty read, as Lambda's base rate of one poll per second per shard. @default 1000 */
  idlePollMs?: number;
  /** Receives one line per notable event. @default discard */
  log?: (line: string) => void;
  /** The clock (for windows and record age). @default Date.now */
  now?: () => number;
}

export interface ProcessorStats {
  /** Records read from the source. */
  seen: number;
  /** Records handed to the handler (after the filter). */
  invoked: number;
  /** Records written to the target (window results for aggregating routes). */
  forwarded: number;
  /** Records given up on (in the dead-letter file). */
  failed: number;
}

interface ShardCheckpoint {
  /** Last source record whose processing is done (delivered, filtered out or dead-lettered). */
  sequenceNumber?: string;
  /** Where a shard without a sequence number starts (set at the first start, so a restart keeps it). */
  start?: { type: "TRIM_HORIZON" } | { type: "AT_TIMESTAMP"; timestamp: string };
  closed?: boolean;
  /** The open tumbling window and the state the handler returned for it. */
  window?: { startMs: number; state: Record<string, unknown> };
}

interface Checkpoint {
  shards: Record<string, ShardCheckpoint>;
}


/** A JSON round trip, as Lambda's invoke does: nothing but JSON crosses it. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

export class LocalProcessor {
  readonly route: RouteConfig;
  readonly stats: ProcessorStats = { seen: 0, invoked: 0, forwarded: 0, failed: 0 };
  /** `<dataDir>/processors/<route>/dead-letter.jsonl`: the local dead-letter queue. */
  readonly deadLetterFile: string;
  readonly checkpointFile: string;
  private readonly handler: (event: ProcessorEvent) => Promise<ProcessorResponse>;
  private readonly ctx: Omit<SourceContext, "shardId">;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  private checkpoint: Checkpoint;

  constructor(private readonly o: LocalProcessorOptions) {
    this.route = o.route;
    const dir = path.join(o.dataDir, "processors", o.route.name);
    fs.mkdirSync(dir, { recursive: true });
    this.deadLetterFile = path.join(dir, "dead-letter.jsonl");
    this.checkpointFile = path.join(dir, "checkpoint.json");
    this.checkpoint = this.loadCheckpoint();
    this.log = o.log ?? (() => undefined);
    this.now = o.now ?? Date.now;
    const accountId = o.accountId ?? "000000000000";
    this.ctx = {
      streamArn: o.sourceStreamArn,
      region: o.region ?? "us-east-1",
      invokeIdentityArn: `arn:aws:iam::${accountId}:role/${o.route.name}-route`,
    };
    this.handler = createHandler({
      spec: processorSpec(o.route),
      putRecords: async (records) => {
        const out = await o.client.send(
          new PutRecordsCommand({
            StreamName: o.targetStream,
            Records: records.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey, ExplicitHashKey: r.explicitHashKey })),
          }),
        );
        const results = (out.Records ?? []).map((r) => ({ errorCode: r.ErrorCode, errorMessage: r.ErrorMessage }));
        this.stats.forwarded += results.filter((r) => !r.errorCode).length;
        return results;
      },
      deadLetter: (message) => this.sendToDeadLetterQueue(message),
      log: (line) => this.log(line),
    });
  }

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

  private shardState(shardId: string): ShardCheckpoint {
    return (this.checkpoint.shards[shardId] ??= {});
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

  /** One batch with the mapping's retry, bisect and dead-letter semantics. */
  private async invokeBatch(shardId: string, records: SourceRecord[]): Promise<void> {
    const queue: { records: SourceRecord[]; retries: number }[] = [{ records, retries: 0 }];
    while (queue.length > 0) {
      const job = queue.shift()!;
      const failedAt = await this.invokeOnce(shardId, job.records);
      if (failedAt === undefined) continue;
      const rest = job.records.slice(failedAt);
      if (this.route.failure.bisectBatchOnFunctionError && rest.length > 1) {
        // Splitting does not count as a retry (Lambda: "Splitting a batch does not count towards the retry quota").
        const half = Math.ceil(rest.length / 2);
        queue.unshift({ records: rest.slice(0, half), retries: job.retries }, { records: rest.slice(half), retries: job.retries });
      } else if (job.retries < this.route.failure.maximumRetryAttempts) {
        queue.unshift({ records: rest, retries: job.retries + 1 });
      } else {
        // Only this piece is discarded; pieces split off after it still run, in order.
        this.giveUp(shardId, rest, "RetryAttemptsExhausted", job.retries + 1);
      }
    }
  }

  /** Invokes once; returns the index of the first record to retry, or undefined on success. */
  private async invokeOnce(shardId: string, records: SourceRecord[]): Promise<number | undefined> {
    const ctx = { ...this.ctx, shardId };
    const cp = this.shardState(shardId);
    let event: ProcessorEvent;
    if (this.route.aggregate) {
      const w = windowOf(records[0].approximateArrivalTimestamp.getTime(), this.route.aggregate.windowSeconds);
      cp.window ??= { startMs: w.startMs, state: {} };
      event = tumblingWindowEvent(records, ctx, { ...w, state: cp.window.state, isFinalInvokeForWindow: false, isWindowTerminatedEarly: false });
    } else {
      event = kinesisEvent(records, ctx);
    }
    this.stats.invoked += records.length;
    let response: ProcessorResponse;
    try {
      response = wire(await this.handler(wire(event)));
    } catch (err) {
      this.log(`route ${this.route.name}: the handler failed on ${records.length} records of ${shardId}: ${(err as Error).message}`);
      return 0;
    }
    const failures = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
    const index = failures.length === 0 ? undefined : Math.min(...failures.map((id) => records.findIndex((r) => r.sequenceNumber === id)));
    if (index !== undefined && index < 0) return 0; // an identifier Lambda cannot match: the whole batch failed
    if (this.route.aggregate) {
      if (!response || typeof response.state !== "object" || response.state === null) return 0; // no state: a failure for Lambda
      cp.window!.state = response.state;
    }
    const done = index === undefined ? records.length : index;
    if (done > 0) cp.sequenceNumber = records[done - 1].sequenceNumber;
    this.saveCheckpoint();
    if (this.route.aggregate && JSON.stringify(cp.window!.state).length > WINDOW_STATE_LIMIT) await this.finalInvoke(shardId, true);
    return index;
  }

  /** Ends the shard's open window when its end has passed (or always, when `force`). */
  private async closeWindow(shardId: string, force: boolean): Promise<void> {
    const open = this.shardState(shardId).window;
    if (!open || !this.route.aggregate) return;
    const endMs = open.startMs + this.route.aggregate.windowSeconds * 1000;
    if (force || this.now() >= endMs) await this.finalInvoke(shardId, false);
  }

  /** The window's final invocation (no records), retried like any other; then the state is dropped. */
  private async finalInvoke(shardId: string, terminatedEarly: boolean): Promise<void> {
    const cp = this.shardState(shardId);
    const open = cp.window;
    if (!open || !this.route.aggregate) return;
    const endMs = open.startMs + this.route.aggregate.windowSeconds * 1000;
    const event = tumblingWindowEvent([], { ...this.ctx, shardId }, {
      startMs: open.startMs,
      endMs,
      state: open.state,
      isFinalInvokeForWindow: true,
      isWindowTerminatedEarly: terminatedEarly,
    });
    for (let attempt = 0; attempt <= this.route.failure.maximumRetryAttempts; attempt++) {
      try {
        wire(await this.handler(wire(event)));
        // An early end continues the same window with a fresh state; a normal end closes it.
        cp.window = terminatedEarly ? { startMs: open.startMs, state: {} } : undefined;
        this.saveCheckpoint();
        return;
      } catch (err) {
        this.log(`route ${this.route.name}: final invocation of window ${windowTime(open.startMs)} on ${shardId} failed: ${(err as Error).message}`);
      }
    }
    this.stats.failed++;
    this.deadLetter(this.invocationRecord(shardId, [], "RetryAttemptsExhausted", this.route.failure.maximumRetryAttempts + 1, { window: { start: windowTime(open.startMs), end: windowTime(endMs) } }));
    cp.window = undefined;
    this.saveCheckpoint();
  }

  /** Reports records the mapping gives up on, as Lambda's on-failure destination receives them, and moves on. */
  private giveUp(shardId: string, records: SourceRecord[], condition: string, invokeCount: number): void {
    this.stats.failed += records.length;
    this.deadLetter(this.invocationRecord(shardId, records, condition, invokeCount));
    const cp = this.shardState(shardId);
    cp.sequenceNumber = records[records.length - 1].sequenceNumber;
    this.saveCheckpoint();
    this.log(`route ${this.route.name}: gave up on ${records.length} records of ${shardId} (${condition}); details in ${this.deadLetterFile}`);
  }

  /** Lambda's invocation record for a discarded Kinesis batch (the records themselves are not in it). */
  private invocationRecord(shardId: string, records: SourceRecord[], condition: string, invokeCount: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
    const first = records[0];
    const last = records[records.length - 1];
    return {
      requestContext: { requestId: randomUUID(), functionArn: `local:function:${this.route.name}`, condition, approximateInvokeCount: invokeCount },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: new Date(this.now()).toISOString(),
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first?.sequenceNumber,
        endSequenceNumber: last?.sequenceNumber,
        approximateArrivalOfFirstRecord: first?.approximateArrivalTimestamp.toISOString(),
        approximateArrivalOfLastRecord: last?.approximateArrivalTimestamp.toISOString(),
        batchSize: records.length,
        streamArn: this.o.sourceStreamArn,
      },
      ...extra,
    };
  }

  /**
   * The stand-in for SendMessage to the route's queue, used by the handler: refuses a message over the
   * queue's limit (256 KiB) as SQS does, so the handler takes the same way as on AWS.
   * @throws DeadLetterTooLargeError when the message is over the limit (nothing is written)
   */
  async sendToDeadLetterQueue(message: DeadLetterMessage): Promise<void> {
    fs.appendFileSync(this.deadLetterFile, `${deadLetterBody(message)}\n`);
    this.stats.failed++;
  }

  /** Lambda's own on-failure records (small: no record data in them). */
  private deadLetter(message: unknown): void {
    fs.appendFileSync(this.deadLetterFile, `${JSON.stringify(message)}\n`);
  }

  private loadCheckpoint(): Checkpoint {
    try {
      const value = JSON.parse(fs.readFileSync(this.checkpointFile, "utf8")) as Checkpoint;
      if (value && typeof value.shards === "object") return value;
    } catch {
      // none yet, or unreadable: start from the route's startAt
    }
    return { shards: {} };
  }

  private saveCheckpoint(): void {
    writeFileAtomic(this.checkpointFile, JSON.stringify(this.checkpoint));
  }
}
