/**
 * The demo's person records, how records are encoded on the wire, and the Kinesis limits the
 * publisher batches against.
 */
import { randomBytes } from "crypto";
import { putBytes } from "../bytes";
import { PARTITION_KEY_MAX_LENGTH, PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, RECORD_MAX_BYTES } from "../../model/limits";

/** PutRecords and record size limits of Kinesis Data Streams (stream defaults). */
export const KINESIS_LIMITS = {
  /** Records per PutRecords request. */
  maxRecordsPerRequest: PUT_RECORDS_MAX_RECORDS,
  /** Bytes per PutRecords request, data plus partition keys: 5 MiB. */
  maxBytesPerRequest: PUT_RECORDS_MAX_BYTES,
  /** Bytes per record, data plus partition key: 1 MiB. */
  maxRecordBytes: RECORD_MAX_BYTES,
  /** Partition keys are 1..256 Unicode characters. */
  minPartitionKeyLength: 1,
  maxPartitionKeyLength: PARTITION_KEY_MAX_LENGTH,
} as const;

/** A demo record. `id` is unique per record (across runs too) so consumers can de-duplicate. */
export interface PersonRecord {
  id: string;
  name: string;
  age: number;
}

/** A run id that sorts by time and does not repeat: `20250101T120000Z-1a2b3c`. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return `${stamp}-${randomBytes(3).toString("hex")}`;
}

/** The i-th demo person of a run: `{"id":"<runId>-<i>","name":"dennis <i>","age":<i>}`. */
export function personRecord(runId: string, i: number): PersonRecord {
  return { id: `${runId}-${i}`, name: `dennis ${i}`, age: i };
}

/** Demo persons 1..count, produced lazily so a million records cost no memory. */
export function* personRecords(runId: string, count: number): Generator<PersonRecord> {
  for (let i = 1; i <= count; i++) yield personRecord(runId, i);
}

/**
 * One JSON object, without a line break: the wire-tap appends the new line (Firehose's
 * AppendDelimiterToRecord, and the local wire-tap likewise), so each record is one line of the archive.
 * A record that ended in its own new line would leave an empty line after it, which the docs do not say
 * Athena's JSON SerDe skips.
 */
export function encodeRecord(obj: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(obj), "utf8");
}

/** Size Kinesis counts against the record and request limits: data bytes plus partition key bytes. */
export function recordSize(data: Uint8Array, partitionKey: string): number {
  return data.byteLength + Buffer.byteLength(partitionKey, "utf8");
}

/**
 * Why Kinesis would refuse this record outright, or undefined when it is acceptable. `size` is the
 * record's recordSize when the caller has it already (the publisher computes it once per record).
 */
export function recordProblem(
  data: Uint8Array,
  partitionKey: string,
  maxRecordBytes: number = KINESIS_LIMITS.maxRecordBytes,
  size: number = recordSize(data, partitionKey),
): string | undefined {
  // Code points; a UTF-16 length of 1..256 already settles it without splitting the string (hot path).
  const keyLength = partitionKey.length >= 1 && partitionKey.length <= 256 ? partitionKey.length : [...partitionKey].length;
  if (keyLength < KINESIS_LIMITS.minPartitionKeyLength || keyLength > KINESIS_LIMITS.maxPartitionKeyLength) {
    return "InvalidPartitionKey";
  }
  if (size > maxRecordBytes) return "RecordTooLarge";
  return undefined;
}

/** Bytes of the slabs the demo's records are written into (one allocation serves about 900 records). */
const DEMO_SLAB_BYTES = 64 * 1024;

/**
 * The demo's records ready to publish, produced lazily. The partition key is the record id (spreads
 * evenly over all shards) or, with `keys`, one of `keys` keys "0".."keys-1" in turn.
 */
export function* demoRecords(
  runId: string,
  count: number,
  keys?: number,
): Generator<{ data: Uint8Array; partitionKey: string }> {
  const key = (i: number) => (keys === undefined ? `${runId}-${i}` : String((i - 1) % keys));
  if (!/^[A-Za-z0-9_.:-]*$/.test(runId)) {
    for (let i = 1; i <= count; i++) yield { data: encodeRecord(personRecord(runId, i)), partitionKey: key(i) };
    return;
  }
  // The same bytes as encodeRecord(personRecord(runId, i)), written straight into shared slabs: the
  // publisher takes hundreds of thousands a second, and a JSON string, a number string per field and a
  // Buffer.from per record were a third of the garbage it made. Run ids with only characters JSON does
  // not escape (every id newRunId makes) take this path.
  const head = Buffer.from(`{"id":"${runId}-`, "latin1");
  const name = Buffer.from('","name":"dennis ', "latin1");
  const age = Buffer.from('","age":', "latin1");
  const digits = new Uint8Array(20);
  let slab = Buffer.allocUnsafe(DEMO_SLAB_BYTES);
  let pos = 0;
  for (let i = 1; i <= count; i++) {
    let d = 0;
    for (let n = i; d === 0 || n > 0; n = Math.floor(n / 10)) digits[d++] = 0x30 + (n % 10);
    const size = head.length + name.length + age.length + 3 * d + 1;
    if (pos + size > slab.length) {
      slab = Buffer.allocUnsafe(Math.max(DEMO_SLAB_BYTES, size));
      pos = 0;
    }
    const start = pos;
    pos = putBytes(head, slab, pos);
    for (let k = d - 1; k >= 0; k--) slab[pos++] = digits[k];
    pos = putBytes(name, slab, pos);
    for (let k = d - 1; k >= 0; k--) slab[pos++] = digits[k];
    pos = putBytes(age, slab, pos);
    for (let k = d - 1; k >= 0; k--) slab[pos++] = digits[k];
    slab[pos++] = 0x7d;
    yield { data: slab.subarray(start, pos), partitionKey: key(i) };
  }
}
