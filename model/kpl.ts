/**
 * The KPL aggregated record format, for the whole lake: the publisher packs many small user records into
 * one Kinesis record (`--aggregate`), and everything that reads a stream (subscriber, processors, the local
 * wire-tap) unpacks them again with `deaggregate`.
 *
 * Format (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md):
 * the 4 magic bytes F3 89 9A C2, a protobuf `AggregatedRecord` (partition key table, explicit hash key
 * table, records each with a key index and data), then the MD5 of the protobuf bytes. The protobuf
 * schema and codec are those of awslabs' `aws-kinesis-agg` (the library AWS publishes for Node.js), so
 * what we write is what the KPL, the KCL, Lambda's `aws-kinesis-agg` and Firehose read, and the other way
 * round.
 *
 * Like the KCL, a record that starts with the magic bytes but whose checksum or protobuf does not check
 * out is passed on as one plain record: nothing is dropped.
 *
 *   import { deaggregate, isAggregated } from "../model/kpl";
 *   for (const user of deaggregate({ partitionKey, data })) handle(user.partitionKey, user.data);
 */
import { createHash } from "crypto";

/** The library's protobuf model (lib/common.js is not in its typings; its own aggregator and de-aggregator use it). */
interface ProtobufModel {
  AggregatedRecord: {
    encode(message: unknown): { finish(): Uint8Array };
    decode(bytes: Uint8Array): {
      partition_key_table: string[];
      explicit_hash_key_table: string[];
      records: { partition_key_index: number | { toNumber(): number }; explicit_hash_key_index?: number | { toNumber(): number } | null; data: Uint8Array }[];
    };
  };
}

let model: ProtobufModel | undefined;
/**
 * Loaded at the first aggregated record: protobufjs and the library cost ~60 ms at start-up, which every
 * app would pay while most streams carry no aggregated record.
 */
function protobuf(): ProtobufModel {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (model ??= require("aws-kinesis-agg/lib/common") as ProtobufModel);
}

/** The first 4 bytes of every KPL aggregated record. */
export const KPL_MAGIC = Buffer.from([0xf3, 0x89, 0x9a, 0xc2]);
const DIGEST_BYTES = 16;

/** A user record: what a publisher hands in and a reader gets out. */
export interface UserRecord {
  partitionKey: string;
  data: Uint8Array;
  /** Decimal 128-bit hash key that overrides the partition key's MD5 for shard choice. */
  explicitHashKey?: string;
}

/** True when `data` is a KPL aggregated record (magic bytes and room for a checksum). */
export function isAggregated(data: Uint8Array): boolean {
  return (
    data.byteLength >= KPL_MAGIC.length + DIGEST_BYTES &&
    data[0] === 0xf3 &&
    data[1] === 0x89 &&
    data[2] === 0x9a &&
    data[3] === 0xc2
  );
}

const toNumber = (v: number | { toNumber(): number } | null | undefined): number | undefined =>
  v === null || v === undefined ? undefined : typeof v === "number" ? v : v.toNumber();

/**
 * The user records inside a Kinesis record, in order. A record that is not aggregated comes back as it
 * is (one element); so does one with the magic bytes but a bad checksum or body (as the KCL does).
 */
export function deaggregate(record: UserRecord): UserRecord[] {
  const data = record.data;
  if (!isAggregated(data)) return [record];
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const body = bytes.subarray(KPL_MAGIC.length, bytes.length - DIGEST_BYTES);
  const digest = createHash("md5").update(body).digest();
  if (!digest.equals(bytes.subarray(bytes.length - DIGEST_BYTES))) return [record];
  let message;
  try {
    message = protobuf().AggregatedRecord.decode(body);
  } catch {
    return [record];
  }
  const keys = message.partition_key_table;
  const hashKeys = message.explicit_hash_key_table;
  const out: UserRecord[] = new Array(message.records.length);
  for (let i = 0; i < message.records.length; i++) {
    const r = message.records[i];
    const partitionKey = keys[toNumber(r.partition_key_index) ?? 0];
    if (partitionKey === undefined) return [record];
    // proto2 optional: an absent index reads as the prototype's default 0, so ask for presence.
    const ehkIndex = Object.prototype.hasOwnProperty.call(r, "explicit_hash_key_index") ? toNumber(r.explicit_hash_key_index) : undefined;
    const user: UserRecord = { partitionKey, data: r.data };
    if (ehkIndex !== undefined && hashKeys[ehkIndex] !== undefined) user.explicitHashKey = hashKeys[ehkIndex];
    out[i] = user;
  }
  return out;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** The aggregated Kinesis record that carries user records. */
export interface AggregatedKinesisRecord {
  /** The first user record's partition key (as the KPL does). */
  partitionKey: string;
  /** The first user record's explicit hash key, when it has one. */
  explicitHashKey?: string;
  data: Buffer;
  /** User records inside. */
  count: number;
}

/**
 * Collects user records into one aggregated record, knowing its exact size at every step, so a caller can
 * fill records up to a byte budget. Records packed together land on one shard (the first record's), so
 * only pack records that map to the same shard.
 */
export class Aggregator {
  private keys = new Map<string, number>();
  private hashKeys = new Map<string, number>();
  private records: { partition_key_index: number; explicit_hash_key_index?: number; data: Uint8Array }[] = [];
  private protobufBytes = 0;
  private firstKey = "";
  private firstHashKey: string | undefined;

  /** User records collected so far. */
  get count(): number {
    return this.records.length;
  }

  /** What Kinesis would count for the aggregated record now: data (magic + protobuf + MD5) + partition key. */
  get size(): number {
    return this.records.length === 0 ? 0 : KPL_MAGIC.length + this.protobufBytes + DIGEST_BYTES + Buffer.byteLength(this.firstKey, "utf8");
  }

  /** The size the aggregated record would have with `record` added. */
  sizeWith(record: UserRecord): number {
    const keyBytes = Buffer.byteLength(record.partitionKey, "utf8");
    let added = 0;
    let keyIndex = this.keys.get(record.partitionKey);
    if (keyIndex === undefined) {
      keyIndex = this.keys.size;
      added += 1 + varintSize(keyBytes) + keyBytes;
    }
    let inner = 1 + varintSize(keyIndex) + 1 + varintSize(record.data.byteLength) + record.data.byteLength;
    if (record.explicitHashKey !== undefined) {
      let hashIndex = this.hashKeys.get(record.explicitHashKey);
      if (hashIndex === undefined) {
        hashIndex = this.hashKeys.size;
        const n = Buffer.byteLength(record.explicitHashKey, "utf8");
        added += 1 + varintSize(n) + n;
      }
      inner += 1 + varintSize(hashIndex);
    }
    added += 1 + varintSize(inner) + inner;
    const outerKey = this.records.length === 0 ? keyBytes : Buffer.byteLength(this.firstKey, "utf8");
    return KPL_MAGIC.length + this.protobufBytes + added + DIGEST_BYTES + outerKey;
  }

  add(record: UserRecord): void {
    const next = this.sizeWith(record);
    if (this.records.length === 0) {
      this.firstKey = record.partitionKey;
      this.firstHashKey = record.explicitHashKey;
    }
    let keyIndex = this.keys.get(record.partitionKey);
    if (keyIndex === undefined) this.keys.set(record.partitionKey, (keyIndex = this.keys.size));
    const entry: { partition_key_index: number; explicit_hash_key_index?: number; data: Uint8Array } = {
      partition_key_index: keyIndex,
      data: record.data,
    };
    if (record.explicitHashKey !== undefined) {
      let hashIndex = this.hashKeys.get(record.explicitHashKey);
      if (hashIndex === undefined) this.hashKeys.set(record.explicitHashKey, (hashIndex = this.hashKeys.size));
      entry.explicit_hash_key_index = hashIndex;
    }
    this.records.push(entry);
    this.protobufBytes = next - KPL_MAGIC.length - DIGEST_BYTES - Buffer.byteLength(this.firstKey, "utf8");
  }

  /** Encodes what was collected and starts over. */
  build(): AggregatedKinesisRecord {
    if (this.records.length === 0) throw new Error("Aggregator.build: no records");
    const body = protobuf().AggregatedRecord.encode({
      partition_key_table: [...this.keys.keys()],
      explicit_hash_key_table: [...this.hashKeys.keys()],
      records: this.records,
    }).finish();
    const digest = createHash("md5").update(body).digest();
    const data = Buffer.concat([KPL_MAGIC, body, digest]);
    const out: AggregatedKinesisRecord = { partitionKey: this.firstKey, data, count: this.records.length };
    if (this.firstHashKey !== undefined) out.explicitHashKey = this.firstHashKey;
    this.keys = new Map();
    this.hashKeys = new Map();
    this.records = [];
    this.protobufBytes = 0;
    this.firstKey = "";
    this.firstHashKey = undefined;
    return out;
  }
}

/** All of `records` in one aggregated record (the caller keeps it under 1 MiB). */
export function aggregate(records: UserRecord[]): AggregatedKinesisRecord {
  const agg = new Aggregator();
  for (const r of records) agg.add(r);
  return agg.build();
}
