/**
 * The limits endpoint in front of its null backend, on a clock the test moves: per-record rejection in
 * PutRecords (records and bytes), PutRecord and GetRecords throttled with the error the SDK parses,
 * ExplicitHashKey and partition-key hashing to the right shard.
 */
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
  ProvisionedThroughputExceededException,
} from "@aws-sdk/client-kinesis";
import * as assert from "assert";
import { createKinesisClient } from "../../../runtime/client";
import { evenShards, hashKeyOf, LimitsEndpoint, ShardMap, startLimitsEndpoint, TokenBucket } from "../../../testkit/limits-endpoint";
import { validatePutRecords } from "../../../testkit/limits-endpoint/put-records-validation";

describe("limits endpoint (null backend, fake clock)", () => {
  let now = 1_000_000;
  let ep: LimitsEndpoint;
  let client: KinesisClient;
  beforeEach(async () => {
    now = 1_000_000;
    ep = await startLimitsEndpoint({ backend: { type: "null", shards: 2 }, now: () => now });
    client = createKinesisClient({ endpoint: ep.endpoint, maxAttempts: 1 });
  });
  afterEach(async () => {
    client.destroy();
    await ep.close();
  });

  const shard1 = evenShards(2)[1].HashKeyRange!.StartingHashKey!;
  const toShard1 = (n: number, size = 10, from = 0) =>
    Array.from({ length: n }, (_, i) => ({ Data: Buffer.alloc(size, 1), PartitionKey: `k${from + i}`, ExplicitHashKey: shard1 }));

  it("rejects the entries over 1,000 records/s per shard one by one, and accepts again as time passes", async () => {
    const a = await client.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(500) }));
    const b = await client.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(500, 10, 500) }));
    assert.strictEqual(a.FailedRecordCount, 0);
    assert.strictEqual(b.FailedRecordCount, 0);
    const c = await client.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(500, 10, 1000) }));
    assert.strictEqual(c.FailedRecordCount, 500);
    assert.ok(c.Records!.every((r) => r.ErrorCode === "ProvisionedThroughputExceededException" && r.ErrorMessage));
    // The other shard has its own budget.
    const other = await client.send(new PutRecordsCommand({ StreamName: "s", Records: [{ Data: Buffer.from("x"), PartitionKey: "p", ExplicitHashKey: "0" }] }));
    assert.strictEqual(other.FailedRecordCount, 0);
    assert.strictEqual(other.Records![0].ShardId, "shardId-000000000000");
    now += 250; // a quarter of a second refills 250 records
    const d = await client.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(500, 10, 1500) }));
    assert.strictEqual(d.FailedRecordCount, 250);
    assert.ok(d.Records!.slice(0, 250).every((r) => !r.ErrorCode && r.ShardId === "shardId-000000000001"));
    const stats = ep.stats("s");
    assert.strictEqual(stats.putRecordsThrottledEntries, 750);
    assert.strictEqual(stats.acceptedRecords, 1251);
  });

  it("rejects the entries over 1 MiB/s per shard (data plus partition key)", async () => {
    const out = await client.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(10, 200 * 1024) }));
    // 5 * (204800 + 2) bytes fit in 1 MiB, a sixth does not; a smaller later entry may still fit.
    assert.deepStrictEqual(out.Records!.map((r) => r.ErrorCode ?? "ok"), [
      "ok", "ok", "ok", "ok", "ok",
      ...Array(5).fill("ProvisionedThroughputExceededException"),
    ]);
  });

  it("throttles PutRecord with ProvisionedThroughputExceededException", async () => {
    await client.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(500) }));
    await client.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(500) }));
    await assert.rejects(
      client.send(new PutRecordCommand({ StreamName: "s", Data: Buffer.from("x"), PartitionKey: "k", ExplicitHashKey: shard1 })),
      (err: Error) => err instanceof ProvisionedThroughputExceededException && /shardId-000000000001/.test(err.message),
    );
    assert.strictEqual(ep.stats().putRecordThrottled, 1);
  });

  it("throttles a reader polling a shard more than 5 times per second, with HTTP 400", async () => {
    const { ShardIterator } = await client.send(new GetShardIteratorCommand({ StreamName: "s", ShardId: "shardId-000000000000", ShardIteratorType: "LATEST" }));
    let iterator = ShardIterator;
    for (let i = 0; i < 5; i++) iterator = (await client.send(new GetRecordsCommand({ ShardIterator: iterator }))).NextShardIterator;
    await assert.rejects(client.send(new GetRecordsCommand({ ShardIterator: iterator })), (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
      return err.name === "ProvisionedThroughputExceededException" && err.$metadata?.httpStatusCode === 400;
    });
    now += 200; // one more call per 200 ms
    await client.send(new GetRecordsCommand({ ShardIterator: iterator }));
    assert.deepStrictEqual([ep.stats("s").getRecordsCalls, ep.stats("s").getRecordsThrottled], [7, 1]);
  });

  it("passes everything when not enforcing", async () => {
    const free = await startLimitsEndpoint({ backend: { type: "null", shards: 1 }, enforce: false, now: () => now });
    const c = createKinesisClient({ endpoint: free.endpoint, maxAttempts: 1 });
    try {
      for (let i = 0; i < 5; i++) {
        const out = await c.send(new PutRecordsCommand({ StreamName: "s", Records: toShard1(500) }));
        assert.strictEqual(out.FailedRecordCount, 0);
      }
      assert.strictEqual(free.stats().acceptedRecords, 2500);
    } finally {
      c.destroy();
      await free.close();
    }
  });
});

describe("limits endpoint pieces", () => {
  it("hashes partition keys with MD5 to a 128-bit key and finds the shard by hash range", () => {
    // MD5("") = d41d8cd98f00b204e9800998ecf8427e
    assert.strictEqual(hashKeyOf(""), 0xd41d8cd98f00b204e9800998ecf8427en);
    const map = new ShardMap(evenShards(4));
    assert.strictEqual(map.shardOf(0n), "shardId-000000000000");
    assert.strictEqual(map.shardOf((1n << 128n) - 1n), "shardId-000000000003");
    assert.strictEqual(map.shardOf(0xd41d8cd98f00b204e9800998ecf8427en), "shardId-000000000003");
    assert.strictEqual(map.shardOf(1n << 126n), "shardId-000000000001");
    assert.strictEqual(map.shardOf((1n << 126n) - 1n), "shardId-000000000000");
  });

  it("ignores closed shards in the map", () => {
    const [a, b] = evenShards(2);
    const closed = { ...a, SequenceNumberRange: { StartingSequenceNumber: "0", EndingSequenceNumber: "9" } };
    const map = new ShardMap([closed, b]);
    assert.strictEqual(map.shardOf(0n), undefined);
  });

  it("a token bucket holds one second and may go into debt", () => {
    let t = 0;
    const bucket = new TokenBucket(10, () => t);
    assert.ok(bucket.take(10));
    assert.ok(!bucket.take(1));
    t = 100;
    assert.ok(bucket.take(1));
    assert.ok(bucket.take(25, true));
    assert.ok(bucket.available() < 0);
    t = 10_000;
    assert.strictEqual(bucket.available(), 10);
  });
});

describe("limits endpoint: PutRecords request limits", () => {
  const MiB = 1024 * 1024;
  /** An entry of `bytes` bytes in all, data plus a partition key of `keyLength` characters. */
  const entry = (bytes: number, keyLength = 1) => ({ Data: Buffer.alloc(bytes - keyLength).toString("base64"), PartitionKey: "k".repeat(keyLength) });

  it("takes requests at Kinesis's limits: 500 records, 5 MiB, 1 MiB per record, 256-character keys", () => {
    assert.strictEqual(validatePutRecords(Array.from({ length: 500 }, () => entry(10))), undefined);
    assert.strictEqual(validatePutRecords(Array.from({ length: 5 }, () => entry(MiB))), undefined);
    assert.strictEqual(validatePutRecords([entry(MiB, 256)]), undefined);
  });

  it("refuses what is over them, naming the limit", () => {
    assert.strictEqual(validatePutRecords([]), "PutRecords takes 1 to 500 records, got 0");
    assert.strictEqual(validatePutRecords(Array.from({ length: 501 }, () => entry(10))), "PutRecords takes 1 to 500 records, got 501");
    assert.strictEqual(validatePutRecords([entry(MiB + 1)]), "a record (data + partition key) is over 1 MiB");
    assert.strictEqual(validatePutRecords([...Array.from({ length: 4 }, () => entry(MiB)), entry(MiB), entry(2)]), "a PutRecords request is over 5 MiB");
    assert.strictEqual(validatePutRecords([entry(300, 257)]), "partition keys must be 1 to 256 characters");
    assert.strictEqual(validatePutRecords([{ Data: "", PartitionKey: "" }]), "partition keys must be 1 to 256 characters");
  });
});
