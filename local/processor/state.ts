/**
 * The bottom layer of the local processor (local/processor.ts): its options, counters, the handler it
 * invokes, what it knows of each shard (saved through the consumer engine's checkpointer: the position with
 * the open window, checkpoint-file.ts) and its dead-letter file. The invocation layer (processor/invoke.ts)
 * and the batch consumer (LocalProcessor) extend it.
 */
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { RouteConfig } from "../../model/config";
import { SourceContext, SourceRecord } from "../../model/processor/events";
import { DeadLetterMessage, deadLetterBody } from "../../model/processor/dead-letter";
import { createHandler, ProcessorEvent, ProcessorResponse } from "../../model/processor/handler";
import { processorSpec } from "../../model/processor/spec";
import type { Position, ShardCheckpointer } from "../../runtime/consumer/batches";
import { LocalProcessorOptions, OpenWindow, ProcessorStats, ShardProgress } from "./options";

export abstract class ProcessorState {
  readonly route: RouteConfig;
  readonly stats: ProcessorStats = { seen: 0, invoked: 0, forwarded: 0, failed: 0 };
  /** `<dataDir>/processors/<route>/dead-letter.jsonl`: the local dead-letter queue. */
  readonly deadLetterFile: string;
  readonly checkpointFile: string;
  protected readonly handler: (event: ProcessorEvent) => Promise<ProcessorResponse>;
  protected readonly ctx: Omit<SourceContext, "shardId">;
  protected readonly log: (line: string) => void;
  protected readonly now: () => number;
  /** Per shard read in this run. */
  private readonly shards = new Map<string, ShardProgress>();

  constructor(protected readonly o: LocalProcessorOptions) {
    this.route = o.route;
    const dir = path.join(o.dataDir, "processors", o.route.name);
    fs.mkdirSync(dir, { recursive: true });
    this.deadLetterFile = path.join(dir, "dead-letter.jsonl");
    this.checkpointFile = path.join(dir, "checkpoint.json");
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
   * The shard's progress; the first time in a run, taken from its checkpointer (the open window saved with
   * the position, so a restart continues the window).
   */
  protected track(shardId: string, checkpoint: ShardCheckpointer): ShardProgress {
    let progress = this.shards.get(shardId);
    if (!progress) {
      const saved = checkpoint.state as { window?: OpenWindow } | undefined;
      progress = { checkpoint, orders: new Map(), ...(saved?.window ? { window: saved.window } : {}) };
      this.shards.set(shardId, progress);
    }
    return progress;
  }

  /** The shard's saved position was unknown to the stream: it is read again from its start, its window dropped. */
  protected forget(shardId: string): void {
    this.shards.delete(shardId);
  }

  protected shardState(shardId: string): ShardProgress {
    const progress = this.shards.get(shardId);
    if (!progress) throw new Error(`local processor: shard ${shardId} is not being processed`);
    return progress;
  }

  /** `sequenceNumber`, a record of the batch being processed, as a position (for checkpoints). */
  protected positionOf(shardId: string, sequenceNumber: string): Position {
    const order = this.shardState(shardId).orders.get(sequenceNumber);
    if (order === undefined) throw new Error(`local processor: record ${sequenceNumber} is not in the batch of ${shardId}`);
    return { sequenceNumber, order };
  }

  /** Saves the shard's position (its last record done) and its open window together; resolves once on disk. */
  protected saveCheckpoint(shardId: string): Promise<void> {
    const progress = this.shardState(shardId);
    return progress.checkpoint.save(progress.done, { value: progress.window ? { window: progress.window } : undefined });
  }

  /** Reports records the mapping gives up on, as Lambda's on-failure destination receives them, and moves on. */
  protected async giveUp(shardId: string, records: SourceRecord[], condition: string, invokeCount: number): Promise<void> {
    this.stats.failed += records.length;
    this.deadLetter(this.invocationRecord(shardId, records, condition, invokeCount));
    this.shardState(shardId).done = this.positionOf(shardId, records[records.length - 1].sequenceNumber);
    await this.saveCheckpoint(shardId);
    this.log(`route ${this.route.name}: gave up on ${records.length} records of ${shardId} (${condition}); details in ${this.deadLetterFile}`);
  }

  /** Lambda's invocation record for a discarded Kinesis batch (the records themselves are not in it). */
  protected invocationRecord(shardId: string, records: SourceRecord[], condition: string, invokeCount: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
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
  protected deadLetter(message: unknown): void {
    fs.appendFileSync(this.deadLetterFile, `${JSON.stringify(message)}\n`);
  }
}
