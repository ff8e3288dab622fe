/**
 * How a record becomes one line on stdout, and a stdout writer that honours backpressure and a closed
 * pipe (`subscribe ... | head`).
 */
import * as fs from "fs";
import * as tty from "tty";
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

/** Raised by a line writer when a write failed for another reason than a closed reader (ENOSPC, EIO, ...). */
export class OutputFailedError extends Error {
  constructor(readonly cause: unknown) {
    const e = cause as NodeJS.ErrnoException;
    super(`cannot write to stdout (${e?.code ? `${e.code}: ` : ""}${e?.message ?? String(cause)})`);
    this.name = "OutputFailedError";
  }
}

/** A closed reader (the normal end of `| head`) versus a real write failure (disk full, I/O error). */
function outputError(err: unknown): OutputClosedError | OutputFailedError {
  const code = (err as NodeJS.ErrnoException)?.code;
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED" ? new OutputClosedError(err) : new OutputFailedError(err);
}

/** Writes one line (a newline is appended); resolves with the bytes written once all of them were. */
export type LineWriter = (line: string) => Promise<number>;

/**
 * A function that writes one line and resolves once the stream has accepted it (its write callback ran),
 * so a slow reader slows the subscriber down instead of filling memory. After an error every call rejects
 * with the same error (OutputClosedError for EPIPE, else OutputFailedError), and the line it was given
 * counts as not written.
 */
export function createLineWriter(stream: NodeJS.WritableStream): LineWriter {
  let failed: OutputClosedError | OutputFailedError | undefined;
  stream.on("error", (err) => {
    failed ??= outputError(err);
  });
  return (line) => {
    if (failed) return Promise.reject(failed);
    const text = `${line}\n`;
    return new Promise<number>((resolve, reject) => {
      stream.write(text, (err) => {
        if (err) {
          failed ??= outputError(err);
          reject(failed);
        } else {
          resolve(Buffer.byteLength(text));
        }
      });
    });
  };
}

/**
 * A line writer on a file descriptor that is a file or a device (not a pipe, socket or terminal): each line
 * is written with write(2) until every byte is out, so a short write (a disk that fills up in the middle
 * of a line) is never taken for a whole one. Node's own stdout for files ignores short writes.
 */
export function createFdLineWriter(fd: number): LineWriter {
  let failed: OutputFailedError | OutputClosedError | undefined;
  return async (line) => {
    if (failed) throw failed;
    const bytes = Buffer.from(`${line}\n`);
    let offset = 0;
    try {
      while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (err) {
      failed = outputError(err);
      throw failed;
    }
    return bytes.length;
  };
}

/** What stdout is: a pipe or socket (a reader may hold what was written without having consumed it), or else. */
export function outputKind(fd: number): "pipe" | "file" | "tty" {
  try {
    if (tty.isatty(fd)) return "tty";
    const stat = fs.fstatSync(fd);
    return stat.isFIFO() || stat.isSocket() ? "pipe" : "file";
  } catch {
    return "pipe";
  }
}

/**
 * Bytes of output that may sit unread between this process and the reader's logic when the reader is a
 * pipe: the pipe's capacity (at most /proc/sys/fs/pipe-max-size on Linux, which a reader may raise its pipe
 * to; 1 MiB by default) plus 1 MiB for what the reader has read into its own buffers but not handed on.
 */
export function defaultPipeMargin(): number {
  let pipeMax = 1024 * 1024;
  try {
    const value = Number(fs.readFileSync("/proc/sys/fs/pipe-max-size", "utf8").trim());
    if (Number.isSafeInteger(value) && value > 0) pipeMax = value;
  } catch {
    // not Linux: pipes hold 64 KiB (macOS) or less; 1 MiB is generous.
  }
  return pipeMax + 1024 * 1024;
}
