/**
 * Turns lines of text (JSON Lines or raw lines) into records for the publisher: one record per line, the
 * line's bytes without its line break, the partition key from a JSON field or spread over the shards.
 * A line that cannot become a record is named by its line number.
 */
import { createReadStream } from "fs";
import * as readline from "readline";
import { Readable } from "stream";
import { KINESIS_LIMITS, recordSize } from "../lib/records";
import type { PublishRecord } from "../publisher/publisher";

export interface LineOptions {
  /** JSON field whose value (string or number) is the partition key; lines must then be JSON objects. @default none: spread */
  keyField?: string;
  /** Prefix of the spread partition keys (`<prefix>-<line number>`). */
  keyPrefix: string;
}

/** Why a line cannot be published, with its line number. */
export interface LineProblem {
  line: number;
  message: string;
}

/** Either the record of a line, or the reason it has none; `skip` for empty lines. */
export function lineToRecord(text: string, lineNo: number, options: LineOptions): PublishRecord | LineProblem | "skip" {
  if (text.length === 0) return "skip";
  let partitionKey: string;
  if (options.keyField) {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { line: lineNo, message: `is not JSON, so it has no field "${options.keyField}" (drop --key-field to publish raw lines)` };
    }
    const field = value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>)[options.keyField] : undefined;
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
  const data = Buffer.from(text, "utf8");
  const size = recordSize(data, partitionKey);
  if (size > KINESIS_LIMITS.maxRecordBytes) {
    return { line: lineNo, message: `is ${size} bytes with its partition key, over Kinesis' record limit of ${KINESIS_LIMITS.maxRecordBytes} bytes (1 MiB)` };
  }
  return { data, partitionKey };
}

/** Lines of a file or stream, numbered from 1; CRLF and LF both end a line. */
export async function* numberedLines(input: Readable): AsyncGenerator<{ text: string; lineNo: number }> {
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  for await (const text of rl) {
    lineNo++;
    yield { text, lineNo };
  }
}

/** Every problem of a file, up to `limit`, and how many records it holds: the up-front check of `--file`. */
export async function checkFile(file: string, options: LineOptions, limit = 5): Promise<{ records: number; problems: LineProblem[] }> {
  const problems: LineProblem[] = [];
  let records = 0;
  for await (const { text, lineNo } of numberedLines(createReadStream(file))) {
    const result = lineToRecord(text, lineNo, options);
    if (result === "skip") continue;
    if ("message" in result) {
      if (problems.length < limit) problems.push(result);
      continue;
    }
    records++;
  }
  return { records, problems };
}

/**
 * The records of `input`, lazily. At the first line that cannot be published it stops and leaves the
 * problem in `state.problem`: the publisher delivers what it already took and the run fails naming the line.
 */
export async function* recordsOf(input: Readable, options: LineOptions, state: { problem?: LineProblem; skipped: number }): AsyncGenerator<PublishRecord> {
  for await (const { text, lineNo } of numberedLines(input)) {
    const result = lineToRecord(text, lineNo, options);
    if (result === "skip") {
      state.skipped++;
      continue;
    }
    if ("message" in result) {
      state.problem = result;
      return;
    }
    yield result;
  }
}
