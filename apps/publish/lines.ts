/**
 * Turns lines into records for the publisher: one record per line, the line's bytes exactly as they are
 * without its line break, the partition key from a JSON field or spread over the shards. Only LF and CRLF
 * end a line (a lone CR is data). By the lake's contract a record is a JSON object in UTF-8, and a line
 * that is not one is refused with its line number; `raw` publishes any bytes as they are.
 */
import { isUtf8 } from "buffer";
import { Readable } from "stream";
import { KINESIS_LIMITS, recordSize } from "../../runtime/producer/records";
import type { PublishRecord } from "../../runtime/producer/publisher";

export interface LineOptions {
  /** JSON field whose value (string or number) is the partition key; lines must then be JSON objects. @default none: spread */
  keyField?: string;
  /** Prefix of the spread partition keys (`<prefix>-<line number>`). */
  keyPrefix: string;
  /** Publish each line's bytes as they are, JSON or not, UTF-8 or not. @default false: UTF-8 JSON objects only */
  raw?: boolean;
}

/** Why a line cannot be published, with its line number. */
export interface LineProblem {
  line: number;
  message: string;
}

/** A line of the input: its bytes without the line break, and where it lies in the input. */
export interface Line {
  lineNo: number;
  bytes: Buffer;
  /** Byte offset of the line's first byte, and of the byte after its line break. */
  start: number;
  end: number;
  /** Set instead of `bytes` (then empty) for a line longer than any record may be: its length. */
  tooLong?: number;
}

/** No record is longer than this: a longer line is counted, not kept in memory. */
const MAX_LINE_BYTES = KINESIS_LIMITS.maxRecordBytes;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const RAW_HINT = "pass --raw to publish lines as they are";

/** Either the record of a line, or the reason it has none; `skip` for empty lines. */
export function lineToRecord(line: Line, options: LineOptions): PublishRecord | LineProblem | "skip" {
  const { lineNo, bytes } = line;
  if (line.tooLong !== undefined) {
    return { line: lineNo, message: `is ${line.tooLong} bytes, over Kinesis' record limit of ${KINESIS_LIMITS.maxRecordBytes} bytes (1 MiB)` };
  }
  if (bytes.length === 0) return "skip";
  let value: unknown;
  const needJson = !options.raw || options.keyField !== undefined;
  if (needJson) {
    const why = options.raw ? ` (--key-field reads a JSON field; drop it to spread raw lines)` : `; records are UTF-8 JSON objects, one per line (${RAW_HINT})`;
    if (bytes.subarray(0, 3).equals(UTF8_BOM)) return { line: lineNo, message: `starts with a UTF-8 byte order mark, which is not JSON: save the file without it${options.raw ? "" : ` (or ${RAW_HINT})`}` };
    if (!isUtf8(bytes)) return { line: lineNo, message: `is not valid UTF-8${why}` };
    try {
      value = JSON.parse(bytes.toString("utf8"));
    } catch {
      return { line: lineNo, message: `is not JSON${why}` };
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      return { line: lineNo, message: `is JSON but not an object ({...})${why}` };
    }
  }
  let partitionKey: string;
  if (options.keyField) {
    const field = (value as Record<string, unknown>)[options.keyField];
    if (field === undefined || field === null) return { line: lineNo, message: `has no field "${options.keyField}" for the partition key` };
    if (typeof field !== "string" && typeof field !== "number") {
      return { line: lineNo, message: `field "${options.keyField}" is ${Array.isArray(field) ? "an array" : typeof field}; a partition key must be a string or a number` };
    }
    partitionKey = String(field);
    const length = [...partitionKey].length;
    if (length < KINESIS_LIMITS.minPartitionKeyLength || length > KINESIS_LIMITS.maxPartitionKeyLength) {
      return { line: lineNo, message: `field "${options.keyField}" is ${length} characters; a partition key has 1 to 256` };
    }
  } else {
    partitionKey = `${options.keyPrefix}-${lineNo}`;
  }
  const size = recordSize(bytes, partitionKey);
  if (size > KINESIS_LIMITS.maxRecordBytes) {
    return { line: lineNo, message: `is ${size} bytes with its partition key, over Kinesis' record limit of ${KINESIS_LIMITS.maxRecordBytes} bytes (1 MiB)` };
  }
  // The line's own bytes, never decoded and encoded again.
  return { data: bytes, partitionKey };
}

/**
 * Lines of a stream of bytes, numbered from `firstLine`; LF and CRLF end a line, nothing else does (a CR
 * not followed by LF stays in the line). `offset` is the stream's first byte in the whole input.
 */
export async function* numberedLines(input: Readable, firstLine = 1, offset = 0): AsyncGenerator<Line> {
  let lineNo = firstLine;
  let start = offset;
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let tooLong = false;
  let position = offset;
  const take = (piece: Buffer) => {
    if (tooLong) {
      pendingLength += piece.length;
      return;
    }
    pending.push(piece);
    pendingLength += piece.length;
    // Beyond any record's size the line is only measured, so memory stays bounded whatever the input.
    if (pendingLength > MAX_LINE_BYTES + 1) {
      tooLong = true;
      pending = [];
    }
  };
  const finish = (end: number, breakLength: number): Line => {
    let bytes = tooLong ? Buffer.alloc(0) : pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLength);
    const length = pendingLength - breakLength;
    if (!tooLong) bytes = bytes.subarray(0, length);
    const line: Line = tooLong ? { lineNo, bytes, start, end, tooLong: length } : { lineNo, bytes, start, end };
    lineNo++;
    start = end;
    pending = [];
    pendingLength = 0;
    tooLong = false;
    return line;
  };
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
    let from = 0;
    for (let lf = buf.indexOf(0x0a, from); lf !== -1; lf = buf.indexOf(0x0a, from)) {
      take(buf.subarray(from, lf + 1));
      const end = position + lf + 1;
      // CRLF: the CR before the LF is part of the line break (it may have come in the previous chunk).
      const cr = !tooLong ? lastByteBeforeLf(pending) === 0x0d : false;
      yield finish(end, cr ? 2 : 1);
      from = lf + 1;
    }
    if (from < buf.length) take(buf.subarray(from));
    position += buf.length;
  }
  if (pendingLength > 0) yield finish(position, 0);
}

/** The byte before the final LF of the pieces of a line, or -1. */
function lastByteBeforeLf(pieces: Buffer[]): number {
  let skip = 1;
  for (let i = pieces.length - 1; i >= 0; i--) {
    const piece = pieces[i];
    if (piece.length > skip) return piece[piece.length - 1 - skip];
    skip -= piece.length;
  }
  return -1;
}

/**
 * The up-front check of `--file`: every problem up to `limit` and how many records the lines hold.
 */
export async function checkLines(lines: AsyncIterable<Line>, options: LineOptions, limit = 5): Promise<{ records: number; problems: LineProblem[] }> {
  const problems: LineProblem[] = [];
  let records = 0;
  for await (const line of lines) {
    const result = lineToRecord(line, options);
    if (result === "skip") continue;
    if ("message" in result) {
      if (problems.length < limit) problems.push(result);
      continue;
    }
    records++;
  }
  return { records, problems };
}

/** Where the records taken so far end: the last two records yielded, so the caller can tell which were taken. */
export interface RecordsState {
  problem?: LineProblem;
  skipped: number;
  /** Records yielded so far. */
  yielded: number;
  /** The lines of the last two records yielded, oldest first. */
  last: Line[];
}

export function newRecordsState(): RecordsState {
  return { skipped: 0, yielded: 0, last: [] };
}

/**
 * The line of the last record the publisher took, when it took `taken` records: the publisher pulls a
 * record before it decides to take it, so the last one yielded may not have been taken.
 */
export function lastTakenLine(state: RecordsState, taken: number): Line | undefined {
  const behind = state.yielded - taken;
  if (behind < 0 || behind >= state.last.length) return undefined;
  return state.last[state.last.length - 1 - behind];
}

/**
 * The records of `lines`, lazily. At the first line that cannot be published it stops and leaves the
 * problem in `state.problem`: the publisher delivers what it already took and the run fails naming the line.
 */
export async function* recordsOf(lines: AsyncIterable<Line>, options: LineOptions, state: RecordsState): AsyncGenerator<PublishRecord> {
  for await (const line of lines) {
    const result = lineToRecord(line, options);
    if (result === "skip") {
      state.skipped++;
      continue;
    }
    if ("message" in result) {
      state.problem = result;
      return;
    }
    state.yielded++;
    state.last.push({ ...line, bytes: Buffer.alloc(0) });
    if (state.last.length > 2) state.last.shift();
    yield result;
  }
}
