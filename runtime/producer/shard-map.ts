/**
 * Where Kinesis puts a record: the MD5 of its partition key (or its ExplicitHashKey) read as a 128-bit
 * integer falls in exactly one open shard's hash key range. The publisher uses it to pace each shard, and
 * the local limits endpoint to charge each shard.
 */
import { Shard } from "@aws-sdk/client-kinesis";
import { createHash } from "crypto";

/** The largest 128-bit hash key. */
export const MAX_HASH_KEY = (1n << 128n) - 1n;

/** The hash key Kinesis uses for a partition key: MD5 of its UTF-8 bytes as a big-endian 128-bit integer. */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash("md5").update(partitionKey, "utf8").digest("hex")}`);
}

/** The hash key of a record: its ExplicitHashKey (decimal) when given, else its partition key's MD5. */
export function recordHashKey(partitionKey: string, explicitHashKey?: string): bigint {
  return explicitHashKey !== undefined ? BigInt(explicitHashKey) : hashKeyOf(partitionKey);
}

interface ShardRange {
  shardId: string;
  start: bigint;
  end: bigint;
}

/** The open shards of a stream (closed ones, with an EndingSequenceNumber, take no writes), by hash range. */
export class ShardMap {
  readonly ranges: readonly ShardRange[];
  constructor(shards: readonly Shard[]) {
    this.ranges = shards
      .filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined && s.HashKeyRange && s.ShardId)
      .map((s) => ({ shardId: s.ShardId!, start: BigInt(s.HashKeyRange!.StartingHashKey!), end: BigInt(s.HashKeyRange!.EndingHashKey!) }))
      .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }
  get shardIds(): string[] {
    return this.ranges.map((r) => r.shardId);
  }
  /** The open shard whose range holds `hashKey`, or undefined (a gap while a reshard completes). */
  shardOf(hashKey: bigint): string | undefined {
    let lo = 0;
    let hi = this.ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = this.ranges[mid];
      if (hashKey < r.start) hi = mid - 1;
      else if (hashKey > r.end) lo = mid + 1;
      else return r.shardId;
    }
    return undefined;
  }
  /** Same open shards with the same ranges. */
  sameAs(other: ShardMap | undefined): boolean {
    if (!other || other.ranges.length !== this.ranges.length) return false;
    return this.ranges.every((r, i) => r.shardId === other.ranges[i].shardId && r.start === other.ranges[i].start && r.end === other.ranges[i].end);
  }
}

/** `count` shards splitting the hash space evenly, as CreateStream does. */
export function evenShards(count: number): Shard[] {
  const step = (MAX_HASH_KEY + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, "0")}`,
    HashKeyRange: {
      StartingHashKey: String(step * BigInt(i)),
      EndingHashKey: String(i === count - 1 ? MAX_HASH_KEY : step * BigInt(i + 1) - 1n),
    },
    SequenceNumberRange: { StartingSequenceNumber: "0" },
  }));
}

// --- Fast shard lookup -------------------------------------------------------------------------------
// The publisher hashes every record's partition key. Node's crypto MD5 costs a few microseconds per
// call for short strings (binding overhead), which alone would cap one process near 200,000 records/s;
// a one-block MD5 in JavaScript for keys of up to 55 UTF-8 bytes costs a fraction of that. Longer keys
// use crypto. Tested against crypto's MD5.

const block = new Int32Array(16);
const blockBytes = new Uint8Array(block.buffer);
const out4 = new Int32Array(4);

/** MD5 of `key`'s UTF-8 bytes as four little-endian words in `out4`; false when the key is over 55 bytes. */
function md5Short(key: string): boolean {
  block.fill(0);
  let n = 0;
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i);
    if (c < 0x80) {
      if (n > 54) return false;
      blockBytes[n++] = c;
      continue;
    }
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < key.length) {
      const d = key.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c < 0xe000) c = 0xfffd; // a lone surrogate, as Buffer.from(key, "utf8") writes it
    const bytes = c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (n + bytes > 55) return false;
    if (bytes === 2) {
      blockBytes[n++] = 0xc0 | (c >> 6);
    } else if (bytes === 3) {
      blockBytes[n++] = 0xe0 | (c >> 12);
      blockBytes[n++] = 0x80 | ((c >> 6) & 0x3f);
    } else {
      blockBytes[n++] = 0xf0 | (c >> 18);
      blockBytes[n++] = 0x80 | ((c >> 12) & 0x3f);
      blockBytes[n++] = 0x80 | ((c >> 6) & 0x3f);
    }
    blockBytes[n++] = 0x80 | (c & 0x3f);
  }
  blockBytes[n] = 0x80;
  block[14] = n * 8; // little-endian on every platform Node runs on; checked below
  const w0 = block[0], w1 = block[1], w2 = block[2], w3 = block[3], w4 = block[4], w5 = block[5], w6 = block[6], w7 = block[7];
  const w8 = block[8], w9 = block[9], w10 = block[10], w11 = block[11], w12 = block[12], w13 = block[13], w14 = block[14], w15 = block[15];
  let a = 0x67452301 | 0;
  let b = 0xefcdab89 | 0;
  let c = 0x98badcfe | 0;
  let d = 0x10325476 | 0;
  let x: number;
  // The 64 steps unrolled (RFC 1321, section 3.4): constants and message words inline, no per-step branches.
  x = (a + ((b & c) | (~b & d)) + -680876936 + w0) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -389564586 + w1) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + 606105819 + w2) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -1044525330 + w3) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + -176418897 + w4) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + 1200080426 + w5) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -1473231341 + w6) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -45705983 + w7) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + 1770035416 + w8) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -1958414417 + w9) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -42063 + w10) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + -1990404162 + w11) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((b & c) | (~b & d)) + 1804603682 + w12) | 0; a = (b + ((x << 7) | (x >>> 25))) | 0;
  x = (d + ((a & b) | (~a & c)) + -40341101 + w13) | 0; d = (a + ((x << 12) | (x >>> 20))) | 0;
  x = (c + ((d & a) | (~d & b)) + -1502002290 + w14) | 0; c = (d + ((x << 17) | (x >>> 15))) | 0;
  x = (b + ((c & d) | (~c & a)) + 1236535329 + w15) | 0; b = (c + ((x << 22) | (x >>> 10))) | 0;
  x = (a + ((d & b) | (~d & c)) + -165796510 + w1) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -1069501632 + w6) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + 643717713 + w11) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -373897302 + w0) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + -701558691 + w5) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + 38016083 + w10) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + -660478335 + w15) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -405537848 + w4) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + 568446438 + w9) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -1019803690 + w14) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + -187363961 + w3) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + 1163531501 + w8) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + ((d & b) | (~d & c)) + -1444681467 + w13) | 0; a = (b + ((x << 5) | (x >>> 27))) | 0;
  x = (d + ((c & a) | (~c & b)) + -51403784 + w2) | 0; d = (a + ((x << 9) | (x >>> 23))) | 0;
  x = (c + ((b & d) | (~b & a)) + 1735328473 + w7) | 0; c = (d + ((x << 14) | (x >>> 18))) | 0;
  x = (b + ((a & c) | (~a & d)) + -1926607734 + w12) | 0; b = (c + ((x << 20) | (x >>> 12))) | 0;
  x = (a + (b ^ c ^ d) + -378558 + w5) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -2022574463 + w8) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + 1839030562 + w11) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -35309556 + w14) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + -1530992060 + w1) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + 1272893353 + w4) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + -155497632 + w7) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -1094730640 + w10) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + 681279174 + w13) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -358537222 + w0) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + -722521979 + w3) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + 76029189 + w6) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (b ^ c ^ d) + -640364487 + w9) | 0; a = (b + ((x << 4) | (x >>> 28))) | 0;
  x = (d + (a ^ b ^ c) + -421815835 + w12) | 0; d = (a + ((x << 11) | (x >>> 21))) | 0;
  x = (c + (d ^ a ^ b) + 530742520 + w15) | 0; c = (d + ((x << 16) | (x >>> 16))) | 0;
  x = (b + (c ^ d ^ a) + -995338651 + w2) | 0; b = (c + ((x << 23) | (x >>> 9))) | 0;
  x = (a + (c ^ (b | ~d)) + -198630844 + w0) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + 1126891415 + w7) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1416354905 + w14) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -57434055 + w5) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + 1700485571 + w12) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -1894986606 + w3) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1051523 + w10) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -2054922799 + w1) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + 1873313359 + w8) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -30611744 + w15) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + -1560198380 + w6) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + 1309151649 + w13) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  x = (a + (c ^ (b | ~d)) + -145523070 + w4) | 0; a = (b + ((x << 6) | (x >>> 26))) | 0;
  x = (d + (b ^ (a | ~c)) + -1120210379 + w11) | 0; d = (a + ((x << 10) | (x >>> 22))) | 0;
  x = (c + (a ^ (d | ~b)) + 718787259 + w2) | 0; c = (d + ((x << 15) | (x >>> 17))) | 0;
  x = (b + (d ^ (c | ~a)) + -343485551 + w9) | 0; b = (c + ((x << 21) | (x >>> 11))) | 0;
  out4[0] = (a + 0x67452301) | 0;
  out4[1] = (b + 0xefcdab89) | 0;
  out4[2] = (c + 0x98badcfe) | 0;
  out4[3] = (d + 0x10325476) | 0;
  return true;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const bswap = (x: number) => (((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) >>> 0;

/** The MD5 hash key of a partition key, like hashKeyOf, computed in JavaScript for short keys. */
export function fastHashKeyOf(partitionKey: string): bigint {
  if (!LITTLE_ENDIAN || !md5Short(partitionKey)) return hashKeyOf(partitionKey);
  return (
    (BigInt(bswap(out4[0])) << 96n) |
    (BigInt(bswap(out4[1])) << 64n) |
    (BigInt(bswap(out4[2])) << 32n) |
    BigInt(bswap(out4[3]))
  );
}

/** Top 53 bits of a 128-bit hash key, as a number. */
const top53 = (h: bigint) => Number(h >> 75n);

/** Looks up shards by partition key without BigInt for all but boundary cases. */
export class FastShardLookup {
  private readonly starts: number[];
  private readonly ends: number[];
  constructor(readonly map: ShardMap) {
    this.starts = map.ranges.map((r) => top53(r.start));
    this.ends = map.ranges.map((r) => top53(r.end));
  }
  shardOfKey(partitionKey: string, explicitHashKey?: string): string | undefined {
    const ranges = this.map.ranges;
    if (explicitHashKey !== undefined) return this.map.shardOf(BigInt(explicitHashKey));
    if (ranges.length === 1 && ranges[0].start === 0n && ranges[0].end === MAX_HASH_KEY) return ranges[0].shardId;
    if (!LITTLE_ENDIAN || !md5Short(partitionKey)) return this.map.shardOf(hashKeyOf(partitionKey));
    const h = bswap(out4[0]) * 2 ** 21 + (bswap(out4[1]) >>> 11);
    // The last range starting at or before h.
    let lo = 0;
    let hi = ranges.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid] <= h) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0 || this.starts[found] === h || this.ends[found] <= h) {
      // On a boundary at 53 bits (or in a gap): decide with the whole 128 bits.
      return this.map.shardOf(fastHashKeyOf(partitionKey));
    }
    return ranges[found].shardId;
  }
}
