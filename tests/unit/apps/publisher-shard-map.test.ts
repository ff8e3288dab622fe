/**
 * The publisher's shard lookup: its JavaScript MD5 agrees with Node's crypto for every kind of key (ASCII,
 * multi-byte, surrogate pairs, lone surrogates, at and over the one-block limit), and the fast lookup picks
 * the same shard as the exact 128-bit one, boundaries included.
 */
import * as assert from "assert";
import { evenShards, FastShardLookup, fastHashKeyOf, hashKeyOf, MAX_HASH_KEY, ShardMap } from "../../../runtime/producer/shard-map";

const keys: string[] = ["", "a", "abc", "x".repeat(54), "x".repeat(55), "x".repeat(56), "x".repeat(256), "ключ", "😀", "\ud800", "a\udc00b", "é".repeat(27), "é".repeat(28), "€".repeat(18), "€".repeat(19)];
for (let i = 0; i < 3000; i++) keys.push(`20261126T111111Z-abcdef-${i}`, String(i), `k${i}-ü`);

describe("publisher: shard map", () => {
  it("computes the same MD5 hash key as crypto", () => {
    for (const key of keys) assert.strictEqual(fastHashKeyOf(key), hashKeyOf(key), JSON.stringify(key));
  });

  it("finds the same shard as the exact lookup, on even and uneven maps", () => {
    const uneven = new ShardMap([
      { ShardId: "a", HashKeyRange: { StartingHashKey: "0", EndingHashKey: String(hashKeyOf("1")) }, SequenceNumberRange: { StartingSequenceNumber: "0" } },
      { ShardId: "b", HashKeyRange: { StartingHashKey: String(hashKeyOf("1") + 1n), EndingHashKey: String(MAX_HASH_KEY) }, SequenceNumberRange: { StartingSequenceNumber: "0" } },
    ]);
    for (const map of [new ShardMap(evenShards(1)), new ShardMap(evenShards(7)), new ShardMap(evenShards(16)), uneven]) {
      const fast = new FastShardLookup(map);
      for (const key of keys) assert.strictEqual(fast.shardOfKey(key), map.shardOf(hashKeyOf(key)), JSON.stringify(key));
      assert.strictEqual(fast.shardOfKey("ignored", "0"), map.shardOf(0n));
    }
    // The key right on the boundary of the uneven map belongs to the first shard.
    assert.strictEqual(new FastShardLookup(uneven).shardOfKey("1"), "a");
  });
});
