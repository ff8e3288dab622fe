/**
 * The publisher against a real kinesis-local emulator: records read back from every shard, and the CLI
 * run as a child process.
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import * as assert from "assert";
import { demoRecords, newRunId, PersonRecord } from "../../runtime/producer/records";
import { publish } from "../../runtime/producer/publisher";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { runApp } from "../helpers/run-app";

/** Every record of every shard, from TRIM_HORIZON to the tip, grouped by shard. */
async function readAll(client: KinesisClient, streamName: string): Promise<Map<string, PersonRecord[]>> {
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  const byShard = new Map<string, PersonRecord[]>();
  for (const shard of Shards) {
    const records: PersonRecord[] = [];
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId!, ShardIteratorType: "TRIM_HORIZON" }),
    );
    while (iterator) {
      const out = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of out.Records ?? []) {
        const text = Buffer.from(r.Data!).toString("utf8");
        assert.ok(text.endsWith("}") && !text.includes("\n"), "one JSON object without a line break (the wire-tap adds the archive's new line)");
        records.push(JSON.parse(text) as PersonRecord);
      }
      if ((out.Records ?? []).length === 0 && (out.MillisBehindLatest ?? 0) === 0) break;
      iterator = out.NextShardIterator;
    }
    byShard.set(shard.ShardId!, records);
  }
  return byShard;
}

const runCli = (args: string[], env: NodeJS.ProcessEnv) => runApp("apps/publisher/main.ts", args, env);

describe("publisher against kinesis-local", function () {
  this.timeout(120_000);
  const lake = useLocalKinesis();

  it("delivers every demo record exactly once, spread over the shards", async () => {
    const stream = await lake.createStream(lake.uniqueName("publish"), 4);
    const runId = newRunId();
    const summary = await publish(lake.client, stream, demoRecords(runId, 3000), { total: 3000 });
    assert.strictEqual(summary.sent, 3000);
    assert.strictEqual(summary.failed.count, 0);

    const byShard = await readAll(lake.client, stream);
    const counts = new Map<string, number>();
    for (const records of byShard.values()) for (const r of records) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
    assert.strictEqual(counts.size, 3000);
    for (let i = 1; i <= 3000; i++) assert.strictEqual(counts.get(`${runId}-${i}`), 1, `${runId}-${i}`);
    const first = [...byShard.values()].flat().find((r) => r.id === `${runId}-7`);
    assert.deepStrictEqual(first, { id: `${runId}-7`, name: "dennis 7", age: 7 });
    const used = [...byShard.values()].filter((records) => records.length > 0).length;
    assert.ok(used > 1, `records landed on ${used} of ${byShard.size} shards`);
  });

  describe("the CLI", () => {
    const env = () => {
      const e: NodeJS.ProcessEnv = { ...process.env, AWS_ENDPOINT_URL_KINESIS: lake.endpoint };
      delete e.KINESIS_STREAM_NAME;
      delete e.DATALAKE_DEBUG;
      // On Node < 22 the AWS SDK prints a multi-line NodeVersionSupportWarning to stderr; not ours to test.
      e.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
      return e;
    };

    it("publishes --count records to --stream, says where, and exits 0", async () => {
      const stream = await lake.createStream(lake.uniqueName("cli"), 2);
      const result = await runCli(["--stream", stream, "--count", "500"], env());
      assert.strictEqual(result.code, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`target: .*${stream}`));
      assert.match(result.stderr, /published 500 of 500 records/);
      assert.strictEqual(result.stdout, "");
      const byShard = await readAll(lake.client, stream);
      const names = [...byShard.values()].flat().map((r) => r.name);
      assert.strictEqual(new Set(names).size, 500);
      assert.ok(names.includes("dennis 1") && names.includes("dennis 500"));
    });

    it("fails in one line, without a stack trace, for an unknown stream", async () => {
      const result = await runCli(["--stream", "no-such-stream", "--count", "5"], env());
      assert.notStrictEqual(result.code, 0);
      const lines = result.stderr.trim().split("\n");
      assert.strictEqual(lines.length, 1, result.stderr);
      assert.match(lines[0], /^error: .*no-such-stream/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    });

    it("rejects a bad number with exit 2 and one line", async () => {
      const result = await runCli(["--stream", "x", "--count", "ten"], env());
      assert.strictEqual(result.code, 2);
      assert.strictEqual(result.stderr.trim().split("\n").length, 1, result.stderr);
      assert.match(result.stderr, /^error: .*--count/);
    });
  });
});
