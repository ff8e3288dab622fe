/**
 * The bottom layer of the local processor (local/processor.ts): its options, counters, the handler it
 * invokes, its per-shard checkpoint file and its dead-letter file. The invocation layer
 * (processor/invoke.ts) and the shard reader (LocalProcessor) extend it.
 */
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { writeFileAtomic } from "../../runtime/files";
import { RouteConfig } from "../../model/config";
import { SourceContext, SourceRecord } from "../../model/processor/events";
import { DeadLetterMessage, deadLetterBody } from "../../model/processor/dead-letter";
import { createHandler, ProcessorEvent, ProcessorResponse } from "../../model/processor/handler";
import { processorSpec } from "../../model/processor/spec";
import { Checkpoint, LocalProcessorOptions, ProcessorStats, ShardCheckpoint } from "./options";

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
  protected checkpoint: Checkpoint;

  constructor(protected readonly o: LocalProcessorOptions) {
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

  protected shardState(shardId: string): ShardCheckpoint {
    return (this.checkpoint.shards[shardId] ??= {});
  }

  /** Reports records the mapping gives up on, as Lambda's on-failure destination receives them, and moves on. */
  protected giveUp(shardId: string, records: SourceRecord[], condition: string, invokeCount: number): void {
    this.stats.failed += records.length;
    this.deadLetter(this.invocationRecord(shardId, records, condition, invokeCount));
    const cp = this.shardState(shardId);
    cp.sequenceNumber = records[records.length - 1].sequenceNumber;
    this.saveCheckpoint();
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

  private loadCheckpoint(): Checkpoint {
    try {
      const value = JSON.parse(fs.readFileSync(this.checkpointFile, "utf8")) as Checkpoint;
      if (value && typeof value.shards === "object") return value;
    } catch {
      // none yet, or unreadable: start from the route's startAt
    }
    return { shards: {} };
  }

  protected saveCheckpoint(): void {
    writeFileAtomic(this.checkpointFile, JSON.stringify(this.checkpoint));
  }
}
