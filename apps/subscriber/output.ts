/**
 * How a record becomes one line on stdout, and a stdout writer that honours backpressure and a closed
 * pipe (`subscribe ... | head`).
 */
import { deaggregate, isAggregated } from "../../model/kpl";

/** The parts of a Kinesis record the output needs. */
export interface RecordLike {
  Data?: Uint8Array;
  PartitionKey?: string;
  SequenceNumber?: string;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * One JSON line (without the newline) for a record. Data that is UTF-8 JSON (the publisher writes one
 * JSON object plus "\n") is output as it is, trimmed; only JSON spread over several lines is re-encoded
 * compactly. Everything else becomes `{"partitionKey","sequenceNumber","dataBase64"}`.
 */
export function recordToLine(record: RecordLike): string {
  const data = record.Data ?? new Uint8Array();
  const text = decodeUtf8(data)?.trim();
  if (text) {
    try {
      const value: unknown = JSON.parse(text);
      // Raw line breaks can only be whitespace between JSON tokens; keeping the text as it is keeps
      // numbers beyond 2^53 exact.
      return /[\r\n]/.test(text) ? JSON.stringify(value) : text;
    } catch {
      // not JSON: fall through to the envelope
    }
  }
  return JSON.stringify({
    partitionKey: record.PartitionKey,
    sequenceNumber: record.SequenceNumber,
    dataBase64: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64"),
  });
}

/**
 * The lines for a Kinesis record: one per user record. A KPL aggregated record (the publisher's
 * `--aggregate`, the KPL, other aggregating producers) is unpacked with model/kpl.ts; its user records
 * share the Kinesis record's sequence number.
 */
export function recordToLines(record: RecordLike): string[] {
  const data = record.Data ?? new Uint8Array();
  if (!isAggregated(data)) return [recordToLine(record)];
  return deaggregate({ partitionKey: record.PartitionKey ?? "", data }).map((user) =>
    recordToLine({ Data: user.data, PartitionKey: user.partitionKey, SequenceNumber: record.SequenceNumber }),
  );
}

function decodeUtf8(data: Uint8Array): string | undefined {
  try {
    return utf8.decode(data);
  } catch {
    return undefined;
  }
}

/** Raised by a line writer once its stream is closed (EPIPE: the reader went away). */
export class OutputClosedError extends Error {
  constructor(cause: unknown) {
    super(`output closed (${(cause as NodeJS.ErrnoException)?.code ?? String(cause)})`);
    this.name = "OutputClosedError";
  }
}

/**
 * A function that writes one line and resolves once the stream has accepted it (its write callback ran),
 * so a slow reader slows the subscriber down instead of filling memory. After an error (EPIPE) every
 * call rejects with OutputClosedError, and the line it was given counts as not written.
 */
export function createLineWriter(stream: NodeJS.WritableStream): (line: string) => Promise<void> {
  let closed: OutputClosedError | undefined;
  stream.on("error", (err) => {
    closed ??= new OutputClosedError(err);
  });
  return (line) => {
    if (closed) return Promise.reject(closed);
    return new Promise<void>((resolve, reject) => {
      stream.write(`${line}\n`, (err) => {
        if (err) {
          closed ??= new OutputClosedError(err);
          reject(closed);
        } else {
          resolve();
        }
      });
    });
  };
}
