/**
 * Issue 7 item 7: a polling subscriber leaves room for the shard's other readers. Against an endpoint that
 * enforces Kinesis's 5 GetRecords calls/s per shard (testkit/limits-endpoint/ in front of kinesis-local),
 * the real subscriber process follows a live stream while two other readers per shard poll once a second
 * (like the wire-tap and a route): none of their calls is throttled, and the subscriber reads every record.
 */
import * as assert from "assert";
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../runtime/client";
import { LimitsEndpoint, startLimitsEndpoint } from "../../testkit/limits-endpoint";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { runApp } from "../helpers/run-app";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls one shard once a second from LATEST until stopped; counts calls and throttled calls. */
async function onceASecondReader(client: KinesisClient, stream: string, shardId: string, stop: () => boolean) {
  const counts = { calls: 0, throttled: 0 };
  let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: "LATEST" })))
    .ShardIterator;
  while (!stop() && iterator) {
    const started = Date.now();
    counts.calls += 1;
    try {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      iterator = out.NextShardIterator;
    } catch (err) {
      if ((err as Error).name !== "ProvisionedThroughputExceededException") throw err;
      counts.throttled += 1;
    }
    await sleep(Math.max(0, 1000 - (Date.now() - started)));
  }
  return counts;
}

describe("read budget: the subscriber leaves room for a shard's other readers (5 reads/s enforced)", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let limits: LimitsEndpoint | undefined;
  after(async () => {
    await limits?.close();
  });

  it("two once-a-second readers per shard beside a subscriber on a live stream: none throttled, every record read", async () => {
    const shards = 2;
    const stream = await lake.createStream(lake.uniqueName("budget"), shards);
    limits = await startLimitsEndpoint({ backend: lake.endpoint });
    const readerClient = createKinesisClient({ endpoint: limits.endpoint });
    let publishing = true;
    let readersStop = false;
    const ids: number[] = [];

    const subscriber = runApp(
      "apps/subscriber/main.ts",
      ["--stream", stream, "--from", "trim-horizon", "--idle-timeout", "6", "--endpoint", limits.endpoint],
      { ...process.env, KINESIS_STREAM_NAME: "" },
    );
    const readers = Array.from({ length: shards }, (_, n) => `shardId-${String(n).padStart(12, "0")}`).flatMap((shardId) =>
      [1, 2].map(() => onceASecondReader(readerClient, stream, shardId, () => readersStop)),
    );
    // A live stream: 10 records every 50 ms for 12 s (every read finds records, so a reader that pauses only
    // after empty reads would poll as fast as it may), straight into the emulator (writes are not under test).
    const publisher = (async () => {
      const until = Date.now() + 12_000;
      for (let batch = 0; publishing && Date.now() < until; batch++) {
        const records = Array.from({ length: 10 }, (_, i) => batch * 10 + i);
        await lake.client.send(
          new PutRecordsCommand({
            StreamName: stream,
            Records: records.map((id) => ({ PartitionKey: `k${id}`, Data: Buffer.from(JSON.stringify({ id })) })),
          }),
        );
        ids.push(...records);
        await sleep(50);
      }
    })();
    await publisher;
    publishing = false;
    const result = await subscriber;
    readersStop = true;
    const counts = await Promise.all(readers);
    readerClient.destroy();

    assert.strictEqual(result.code, 0, result.stderr);
    const seen = new Set(result.stdout.trim().split("\n").map((l) => JSON.parse(l).id as number));
    assert.deepStrictEqual(ids.filter((id) => !seen.has(id)), [], "records the subscriber missed");
    const totalCalls = counts.reduce((n, c) => n + c.calls, 0);
    assert.ok(totalCalls >= 4 * 10, `the other readers made only ${totalCalls} calls: the test would prove nothing`);
    assert.deepStrictEqual(
      counts.map((c) => c.throttled),
      counts.map(() => 0),
      `other readers throttled: ${JSON.stringify(counts)}; endpoint: ${JSON.stringify(limits.stats(stream))}`,
    );
  });
});
