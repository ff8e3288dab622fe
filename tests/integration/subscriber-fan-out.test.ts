/**
 * Issue 7 item 8: `subscribe --consumer NAME` reads through SubscribeToShard (enhanced fan-out) with the
 * guarantees of polling: every shard, parents before children, checkpoints, resume, clean stop. Real
 * subscriber processes against kinesis-local with a registered consumer, across a shard split and a restart.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  DescribeStreamConsumerCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  RegisterStreamConsumerCommand,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { runApp } from "../helpers/run-app";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("subscriber --consumer (SubscribeToShard) on kinesis-local", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let tmp: string;
  before(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fan-out-"))));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  async function publish(stream: string, from: number, count: number, keys: number): Promise<void> {
    const out = await lake.client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: count }, (_, i) => ({
          PartitionKey: `key-${(from + i) % keys}`,
          Data: Buffer.from(JSON.stringify({ id: from + i, key: `key-${(from + i) % keys}` })),
        })),
      }),
    );
    assert.strictEqual(out.FailedRecordCount ?? 0, 0);
  }

  function subscribe(stream: string, args: string[]) {
    return runApp("apps/subscriber/main.ts", ["--stream", stream, "--endpoint", lake.endpoint, ...args], {
      ...process.env,
      KINESIS_STREAM_NAME: "",
    });
  }

  it("reads every record across a restart and a shard split, each key in order, with a checkpoint", async () => {
    const stream = await lake.createStream(lake.uniqueName("fan-out"), 2);
    const streamArn = (await lake.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
    const registered = await lake.client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: "fraud-model" }));
    for (;;) {
      const d = await lake.client.send(new DescribeStreamConsumerCommand({ ConsumerARN: registered.Consumer!.ConsumerARN! }));
      if (d.ConsumerDescription?.ConsumerStatus === "ACTIVE") break;
      await sleep(200);
    }
    await publish(stream, 0, 200, 20);
    const checkpoint = path.join(tmp, "fan-out.json");

    const first = await subscribe(stream, ["--consumer", "fraud-model", "--from", "trim-horizon", "--checkpoint", checkpoint, "--max", "120", "--idle-timeout", "20"]);
    assert.strictEqual(first.code, 0, first.stderr);
    assert.match(first.stderr, /consumer fraud-model: reading through SubscribeToShard/);
    assert.doesNotMatch(first.stderr, /GetRecords/);
    const firstIds = first.stdout.trim().split("\n").map((l) => JSON.parse(l).id as number);
    assert.strictEqual(firstIds.length, 120);

    // Reshard (split shard 0) and publish more: the children get these records.
    await lake.client.send(
      new SplitShardCommand({ StreamName: stream, ShardToSplit: "shardId-000000000000", NewStartingHashKey: (2n ** 126n).toString() }),
    );
    for (;;) {
      const s = await lake.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
      if (s.StreamDescriptionSummary?.StreamStatus === "ACTIVE") break;
      await sleep(200);
    }
    await publish(stream, 200, 200, 20);

    const second = await subscribe(stream, ["--consumer", "fraud-model", "--from", "trim-horizon", "--checkpoint", checkpoint, "--idle-timeout", "8"]);
    assert.strictEqual(second.code, 0, second.stderr);
    const lines = second.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: number; key: string });
    const seen = new Set([...firstIds, ...lines.map((l) => l.id)]);
    const missing = Array.from({ length: 400 }, (_, i) => i).filter((i) => !seen.has(i));
    assert.deepStrictEqual(missing, [], `records never delivered; stderr: ${second.stderr}`);
    // Per key, ids come in order: a child's records (ids >= 200 of the split shard's keys) only after the
    // parent's. (stdout is a pipe here, so the resume may repeat up to the pipe margin of the first run.)
    const byKey = new Map<string, number[]>();
    for (const l of lines) byKey.set(l.key, [...(byKey.get(l.key) ?? []), l.id]);
    for (const [key, ids] of byKey) {
      assert.deepStrictEqual(ids, [...ids].sort((a, b) => a - b), `key ${key} out of order (a child read before its parent?)`);
    }
    assert.match(second.stderr, /shard shardId-000000000000: read to its end; children/);
  });

  it("takes the consumer's ARN from the catalog when the catalog names it (no lookup by name)", async () => {
    const stream = await lake.createStream(lake.uniqueName("fan-out-cat"), 1);
    const streamArn = (await lake.client.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary!.StreamARN!;
    const registered = await lake.client.send(new RegisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: "registered-name" }));
    for (;;) {
      const d = await lake.client.send(new DescribeStreamConsumerCommand({ ConsumerARN: registered.Consumer!.ConsumerARN! }));
      if (d.ConsumerDescription?.ConsumerStatus === "ACTIVE") break;
      await sleep(200);
    }
    await publish(stream, 0, 30, 3);
    // The catalog calls the consumer "catalog-name", a name the stream does not know: only the catalog's
    // ARN can lead the subscriber to it.
    const catalog = path.join(tmp, "catalog.json");
    fs.writeFileSync(
      catalog,
      JSON.stringify({
        "ingest/things": {
          streamName: stream,
          streamArn,
          consumers: { "catalog-name": { consumerName: "catalog-name", consumerArn: registered.Consumer!.ConsumerARN!, policyArn: "arn:aws:iam::000000000000:policy/x" } },
        },
      }),
    );
    const result = await runApp(
      "apps/subscriber/main.ts",
      ["--segment", "ingest/things", "--catalog", catalog, "--endpoint", lake.endpoint, "--consumer", "catalog-name", "--from", "trim-horizon", "--max", "30", "--idle-timeout", "20"],
      { ...process.env, KINESIS_STREAM_NAME: "" },
    );
    assert.strictEqual(result.code, 0, result.stderr);
    assert.strictEqual(result.stdout.trim().split("\n").length, 30);
  });

  it("an unregistered consumer is refused in one line with the fix", async () => {
    const stream = await lake.createStream(lake.uniqueName("fan-out-none"), 1);
    const result = await subscribe(stream, ["--consumer", "nobody", "--idle-timeout", "3"]);
    assert.strictEqual(result.code, 2, result.stderr);
    const errors = result.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.strictEqual(errors.length, 1, result.stderr);
    assert.match(errors[0], /--consumer nobody is not registered on stream .*consumers: \[nobody\]/);
  });
});
