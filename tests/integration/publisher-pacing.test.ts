/**
 * The pacing publisher against Kinesis's per-shard limits (the local limits endpoint in front of a real
 * kinesis-local): nothing lost, each key's records in order, throttling rare; and a reshard in the middle
 * of a run (the shard map refreshes, nothing lost, order kept across parent and child shards).
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, Shard, UpdateShardCountCommand } from "@aws-sdk/client-kinesis";
import * as assert from "assert";
import { createKinesisClient } from "../../runtime/client";
import { encodeRecord, PersonRecord } from "../../runtime/producer/records";
import { publish, PublishRecord } from "../../runtime/producer/publisher";
import { waitForActive } from "../../runtime/streams";
import { deaggregate } from "../../model/kpl";
import { LimitsEndpoint, startLimitsEndpoint } from "../../testkit/limits-endpoint";
import { useLocalKinesis } from "../helpers/local-kinesis";

/** Every user record of the stream, parents read before children, de-aggregated. */
async function readStream(client: KinesisClient, stream: string): Promise<PersonRecord[]> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const done = new Set<string>();
  const out: PersonRecord[] = [];
  const ordered: Shard[] = [];
  while (ordered.length < Shards.length) {
    const next = Shards.find((s) => !done.has(s.ShardId!) && (!s.ParentShardId || done.has(s.ParentShardId) || !Shards.some((p) => p.ShardId === s.ParentShardId)));
    assert.ok(next, "shard order");
    done.add(next.ShardId!);
    ordered.push(next);
  }
  for (const shard of ordered) {
    let { ShardIterator: it } = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: "TRIM_HORIZON" }));
    while (it) {
      const res = await client.send(new GetRecordsCommand({ ShardIterator: it, Limit: 10_000 }));
      for (const r of res.Records ?? []) {
        for (const u of deaggregate({ partitionKey: r.PartitionKey!, data: r.Data! })) out.push(JSON.parse(Buffer.from(u.data).toString("utf8")));
      }
      if ((res.Records ?? []).length === 0) break;
      it = res.NextShardIterator;
    }
  }
  return out;
}

/** Each id once, and per key (age % keys) the ages grow in the order read. */
function assertCompleteAndOrdered(records: PersonRecord[], count: number, keys: number): void {
  const ids = new Set(records.map((r) => r.age));
  assert.strictEqual(ids.size, count, "every record delivered");
  assert.strictEqual(records.length, count, "no duplicates");
  const last = new Map<number, number>();
  for (const r of records) {
    const key = r.age % keys;
    assert.ok((last.get(key) ?? -1) < r.age, `key ${key}: ${r.age} after ${last.get(key)}`);
    last.set(key, r.age);
  }
}

function* people(count: number, keys: number): Generator<PublishRecord> {
  for (let i = 1; i <= count; i++) yield { data: encodeRecord({ id: `p-${i}`, name: `dennis ${i}`, age: i }), partitionKey: `k${i % keys}` };
}

describe("publisher pacing against the limits endpoint (kinesis-local behind it)", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let ep: LimitsEndpoint;
  let client: KinesisClient;
  before(async () => {
    // Tight limits so the emulator can keep up and the pacing is what is tested.
    ep = await startLimitsEndpoint({ backend: lake.endpoint, limits: { writeRecordsPerSecond: 300 }, shardMapRefreshMs: 200 });
    client = createKinesisClient({ endpoint: ep.endpoint });
  });
  after(async () => {
    client?.destroy();
    await ep?.close();
  });

  it("loses nothing, keeps each key's order and is rarely throttled", async () => {
    const stream = await lake.createStream(lake.uniqueName("pace"), 2);
    // This stream's shards take 100 records/s (below the emulator's own speed).
    const slow = await startLimitsEndpoint({ backend: lake.endpoint, limits: { writeRecordsPerSecond: 100 } });
    const slowClient = createKinesisClient({ endpoint: slow.endpoint });
    try {
      const summary = await publish(slowClient, stream, people(1200, 40), { shardLimits: { recordsPerSecond: 100, bytesPerSecond: 1024 * 1024 } });
      assert.strictEqual(summary.sent, 1200);
      assert.strictEqual(summary.shards, 2);
      const stats = slow.stats(stream);
      assert.ok(stats.putRecordsThrottledEntries < 120, `throttled ${stats.putRecordsThrottledEntries}`);
    } finally {
      slowClient.destroy();
      await slow.close();
    }
    assertCompleteAndOrdered(await readStream(lake.client, stream), 1200, 40);
  });

  it("follows a reshard in the middle of a run", async () => {
    const stream = await lake.createStream(lake.uniqueName("reshard"), 1);
    let resharded: Promise<unknown> | undefined;
    async function* source() {
      for (const r of people(3000, 30)) {
        yield r;
        const age = JSON.parse(Buffer.from(r.data).toString()).age as number;
        if (age === 600) {
          resharded = lake.client
            .send(new UpdateShardCountCommand({ StreamName: stream, TargetShardCount: 2, ScalingType: "UNIFORM_SCALING" }))
            .then(() => waitForActive(lake.client, stream));
        }
        if (age % 100 === 0) await new Promise((r) => setTimeout(r, 50));
      }
    }
    const summary = await publish(client, stream, source(), {
      shardLimits: { recordsPerSecond: 300, bytesPerSecond: 1024 * 1024 },
      shardMapRefreshMs: 500,
    });
    await resharded;
    assert.strictEqual(summary.sent, 3000);
    assert.ok(summary.shardMapRefreshes >= 1, "the shard map was refreshed");
    assertCompleteAndOrdered(await readStream(lake.client, stream), 3000, 30);
  });

  it("aggregates: every user record arrives, in order per key, in far fewer Kinesis records", async () => {
    const stream = await lake.createStream(lake.uniqueName("agg"), 2);
    const summary = await publish(client, stream, people(5000, 25), { aggregate: { maxBytes: 20_000 }, shardLimits: { recordsPerSecond: 300, bytesPerSecond: 1024 * 1024 } });
    assert.strictEqual(summary.sent, 5000);
    assert.ok(summary.kinesisRecords < 100, `${summary.kinesisRecords} Kinesis records`);
    assertCompleteAndOrdered(await readStream(lake.client, stream), 5000, 25);
  });
});
