/**
 * The limits endpoint in front of a real kinesis-local: it attributes records to the shards the emulator
 * puts them in, forwards only the entries within the limits (and they are stored), rejects the rest per
 * record, and throttles a reader that polls too often. The endpoint's clock is frozen by the test so the
 * emulator's speed does not matter.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import * as assert from "assert";
import { createKinesisClient } from "../../runtime/client";
import { hashKeyOf, LimitsEndpoint, ShardMap, startLimitsEndpoint } from "../../testkit/limits-endpoint";
import { useLocalKinesis } from "../helpers/local-kinesis";

describe("limits endpoint in front of kinesis-local", function () {
  this.timeout(120_000);
  const lake = useLocalKinesis();
  let now = 0;
  let ep: LimitsEndpoint;
  let client: KinesisClient;
  before(async () => {
    ep = await startLimitsEndpoint({ backend: lake.endpoint, now: () => now, shardMapRefreshMs: 60_000 });
    client = createKinesisClient({ endpoint: ep.endpoint, maxAttempts: 1 });
  });
  after(async () => {
    client?.destroy();
    await ep?.close();
  });

  it("forwards the entries within 1,000 records/s per shard and rejects the rest per record", async () => {
    const stream = await lake.createStream(lake.uniqueName("limits"), 2);
    const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
    const map = new ShardMap(Shards);
    // 1,500 records whose keys all hash to the first shard.
    const keys: string[] = [];
    for (let i = 0; keys.length < 1500; i++) if (map.shardOf(hashKeyOf(`key-${i}`)) === "shardId-000000000000") keys.push(`key-${i}`);
    const results = [];
    for (let b = 0; b < 3; b++) {
      const batch = keys.slice(b * 500, b * 500 + 500).map((k) => ({ Data: Buffer.from(k), PartitionKey: k }));
      const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
      results.push(...out.Records!);
    }
    const ok = results.filter((r) => !r.ErrorCode);
    assert.strictEqual(ok.length, 1000);
    assert.ok(ok.every((r) => r.ShardId === "shardId-000000000000" && r.SequenceNumber), "the emulator put them where the endpoint counted them");
    assert.ok(results.slice(1000).every((r) => r.ErrorCode === "ProvisionedThroughputExceededException"));

    // What the emulator stored is exactly the accepted entries, in order.
    const stored: string[] = [];
    let { ShardIterator: it } = await lake.client.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }),
    );
    while (it) {
      const out = await lake.client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      stored.push(...(out.Records ?? []).map((r) => r.PartitionKey!));
      if ((out.Records ?? []).length === 0) break;
      it = out.NextShardIterator;
    }
    assert.deepStrictEqual(stored, keys.slice(0, 1000));
    assert.strictEqual(ep.stats(stream).putRecordsThrottledEntries, 500);
  });

  it("throttles a reader polling one shard more than 5 times per second", async () => {
    const stream = await lake.createStream(lake.uniqueName("limits-read"), 1);
    let { ShardIterator: it } = await client.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: "shardId-000000000000", ShardIteratorType: "TRIM_HORIZON" }),
    );
    for (let i = 0; i < 5; i++) it = (await client.send(new GetRecordsCommand({ ShardIterator: it }))).NextShardIterator;
    await assert.rejects(client.send(new GetRecordsCommand({ ShardIterator: it })), { name: "ProvisionedThroughputExceededException" });
    now += 1000;
    await client.send(new GetRecordsCommand({ ShardIterator: it }));
    assert.strictEqual(ep.stats(stream).getRecordsThrottled, 1);
  });
});
