/** Kinesis's request limits for PutRecords and PutRecord, checked before anything is accepted. */
import { PARTITION_KEY_MAX_LENGTH, PUT_RECORDS_MAX_BYTES, PUT_RECORDS_MAX_RECORDS, RECORD_MAX_BYTES } from "../../model/limits";
import { base64Length, PutEntry } from "./wire";

/** What is wrong with a request's entries (the `InvalidArgumentException` message), or undefined. */
export function validatePutRecords(records: PutEntry[]): string | undefined {
  if (records.length < 1 || records.length > PUT_RECORDS_MAX_RECORDS) {
    return `PutRecords takes 1 to ${PUT_RECORDS_MAX_RECORDS} records, got ${records.length}`;
  }
  let total = 0;
  for (const r of records) {
    if (typeof r.PartitionKey !== "string" || r.PartitionKey.length < 1 || r.PartitionKey.length > PARTITION_KEY_MAX_LENGTH) {
      return `partition keys must be 1 to ${PARTITION_KEY_MAX_LENGTH} characters`;
    }
    const size = base64Length(r.Data ?? "") + Buffer.byteLength(r.PartitionKey, "utf8");
    if (size > RECORD_MAX_BYTES) return `a record (data + partition key) is over ${RECORD_MAX_BYTES / (1024 * 1024)} MiB`;
    total += size;
  }
  if (total > PUT_RECORDS_MAX_BYTES) return `a PutRecords request is over ${PUT_RECORDS_MAX_BYTES / (1024 * 1024)} MiB`;
  return undefined;
}
