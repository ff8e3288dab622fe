/**
 * What the processor sends to its dead-letter queue, and the limits both ends hold to. Pure: the Lambda
 * adapter (lambda.ts) sends the body to SQS, the local lake (local/processor.ts) appends it to a file,
 * and both refuse a body over `DEAD_LETTER_MAX_BYTES`, as the queue would.
 *
 * Limits:
 * - Kinesis takes a record of at most 1 MiB, data plus partition key (`KINESIS_RECORD_MAX_BYTES`). A
 *   stream can be raised to 10 MiB (UpdateMaxRecordSize); the lake never does, so 1 MiB (the default of
 *   every stream) is the limit held to.
 * - SQS: SendMessage now documents 1 MiB, but a queue's MaximumMessageSize defaulted to 256 KiB for years
 *   and may still read so; the safe reading is 256 KiB, and each route's queue sets it explicitly
 *   (components/route.ts), so AWS and the local lake refuse the same messages.
 */
import { RECORD_MAX_BYTES } from "../limits";

/** Kinesis's limit for one record: data plus partition key (UTF-8), in bytes. */
export const KINESIS_RECORD_MAX_BYTES = RECORD_MAX_BYTES;
/** The dead-letter queue's message size limit held to (its MaximumMessageSize), in bytes. */
export const DEAD_LETTER_MAX_BYTES = 256 * 1024;

/** What every dead-letter message names: the route, why, and the source shard it came from. */
interface DeadLetterOrigin {
  route: string;
  from: string;
  to: string;
  reason: string;
  eventSourceARN: string;
  shardId: string;
}

/** What a poison record's dead-letter message holds: enough to find it, read it and replay it. */
export interface PoisonRecordMessage extends DeadLetterOrigin {
  kind: "poison-record";
  sequenceNumber: string;
  partitionKey: string;
  approximateArrivalTimestamp: number;
  /** Size of the record's bytes (a KPL user record's own). */
  dataBytes: number;
  /** The record's bytes, base64, exactly as published; absent when the message would exceed the queue's limit. */
  dataBase64?: string;
  /** Why `dataBase64` is absent: read the record from the source stream at this position instead. */
  dataOmitted?: string;
  /** Position of the user record inside a KPL aggregated record; absent for a plain record. */
  subRecordIndex?: number;
}

/** A window result the target cannot take (over Kinesis's record limit): the window's totals for one key. */
export interface UnwritableResultMessage extends DeadLetterOrigin {
  kind: "unwritable-window-result";
  window: { start: string; end: string };
  partitionKey: string;
  dataBytes: number;
  /** The result's JSON text; absent when the message would exceed the queue's limit. */
  data?: string;
  dataOmitted?: string;
}

export type DeadLetterMessage = PoisonRecordMessage | UnwritableResultMessage;

export class DeadLetterTooLargeError extends Error {
  constructor(bytes: number) {
    super(`the dead-letter message would be ${bytes} bytes, over the queue's limit of ${DEAD_LETTER_MAX_BYTES} bytes (256 KiB)`);
    this.name = "DeadLetterTooLargeError";
  }
}

const bytesOf = (m: unknown): number => Buffer.byteLength(JSON.stringify(m), "utf8");

/**
 * The message as sent: unchanged when it fits the queue, else without the record's bytes (kept: their
 * size and position, so the record can be read from the source stream while it retains it).
 */
export function fitDeadLetter(message: DeadLetterMessage): DeadLetterMessage {
  if (bytesOf(message) <= DEAD_LETTER_MAX_BYTES) return message;
  const omitted = `over the dead-letter queue's ${DEAD_LETTER_MAX_BYTES} bytes with the data; read it from ${message.from} (shard ${message.shardId}${
    message.kind === "poison-record" ? `, sequence number ${message.sequenceNumber}${message.subRecordIndex === undefined ? "" : `, user record ${message.subRecordIndex}`}` : `, window ${message.window.start}..${message.window.end}`
  }) while the stream retains it`;
  if (message.kind === "poison-record") {
    const { dataBase64: _omit, ...rest } = message;
    return { ...rest, dataOmitted: omitted };
  }
  const { data: _omit, ...rest } = message;
  return { ...rest, dataOmitted: omitted };
}

/** The SQS message body of a message. @throws DeadLetterTooLargeError when it is over the queue's limit */
export function deadLetterBody(message: unknown): string {
  const body = JSON.stringify(message);
  const bytes = Buffer.byteLength(body, "utf8");
  if (bytes > DEAD_LETTER_MAX_BYTES) throw new DeadLetterTooLargeError(bytes);
  return body;
}
