/**
 * Builds events exactly as Lambda's Kinesis event source mapping delivers them (shape from the Lambda
 * developer guide, "Using AWS Lambda with Amazon Kinesis": example record event and KinesisTimeWindowEvent).
 * The local lake invokes the handler with these; the tests use them too.
 */
import type { KinesisStreamRecord } from "aws-lambda";
import { ProcessorEvent } from "./handler";

export interface SourceRecord {
  data: Uint8Array;
  partitionKey: string;
  sequenceNumber: string;
  /** When Kinesis accepted the record. */
  approximateArrivalTimestamp: Date;
}

export interface SourceContext {
  shardId: string;
  streamArn: string;
  region: string;
  /** The function's execution role (Lambda puts it in every record). */
  invokeIdentityArn: string;
}

/** One record of a Kinesis event: base64 data, seconds-with-milliseconds arrival time, "shard:sequence" id. */
export function kinesisEventRecord(r: SourceRecord, ctx: SourceContext): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: r.partitionKey,
      sequenceNumber: r.sequenceNumber,
      data: Buffer.from(r.data).toString("base64"),
      approximateArrivalTimestamp: r.approximateArrivalTimestamp.getTime() / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `${ctx.shardId}:${r.sequenceNumber}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: ctx.invokeIdentityArn,
    awsRegion: ctx.region,
    eventSourceARN: ctx.streamArn,
  };
}

/** A plain batch event. */
export function kinesisEvent(records: SourceRecord[], ctx: SourceContext): ProcessorEvent {
  return { Records: records.map((r) => kinesisEventRecord(r, ctx)) };
}

/** Lambda's window bounds format: ISO-8601 UTC without milliseconds ("2020-12-09T07:04:00Z"). */
export function windowTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The tumbling window (of `windowSeconds`) a record arriving at `arrivalMs` belongs to. */
export function windowOf(arrivalMs: number, windowSeconds: number): { startMs: number; endMs: number } {
  const size = windowSeconds * 1000;
  const startMs = Math.floor(arrivalMs / size) * size;
  return { startMs, endMs: startMs + size };
}

/** A tumbling-window event: the batch plus window bounds, carried state, shard and final flags. */
export function tumblingWindowEvent(
  records: SourceRecord[],
  ctx: SourceContext,
  w: { startMs: number; endMs: number; state: Record<string, unknown>; isFinalInvokeForWindow: boolean; isWindowTerminatedEarly: boolean },
): ProcessorEvent {
  return {
    Records: records.map((r) => kinesisEventRecord(r, ctx)),
    window: { start: windowTime(w.startMs), end: windowTime(w.endMs) },
    state: w.state,
    shardId: ctx.shardId,
    eventSourceARN: ctx.streamArn,
    isFinalInvokeForWindow: w.isFinalInvokeForWindow,
    isWindowTerminatedEarly: w.isWindowTerminatedEarly,
  };
}
