/**
 * Issue 18: the local stand-in for Lambda's event source mapping reads at the same budget as the rest of
 * the runtime. A route's local processor and a subscriber follow one live stream together through an
 * endpoint that enforces Kinesis's 5 GetRecords calls/s per shard: none of their reads is throttled, the
 * route forwards every record and the subscriber reads every one. (The processor polled every 200 ms,
 * its shard's whole budget, so the subscriber beside it was throttled.)
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../runtime/client";
import { loadStackTopology } from "../../runtime/topology";
import { LocalProcessor } from "../../local/processor";
import { LimitsEndpoint, startLimitsEndpoint } from "../../testkit/limits-endpoint";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { runApp } from "../helpers/run-app";
import { readAll, until } from "../helpers/stream-reading";

describe("read budget: a route's local processor beside a subscriber (5 reads/s per shard enforced)", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let limits: LimitsEndpoint | undefined;
  let dir: string | undefined;
  after(async () => {
    await limits?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("none of their reads is throttled; the route forwards every adult and the subscriber reads every record", async () => {
    const source = await lake.createStream(lake.uniqueName("budget-src"), 1);
    const target = await lake.createStream(lake.uniqueName("budget-dst"), 1);
    limits = await startLimitsEndpoint({ backend: lake.endpoint });
    const client = createKinesisClient({ endpoint: limits.endpoint });
    // The processor's own GetRecords calls, counted on its client.
    let processorReads = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "GetRecordsCommand") processorReads += 1;
        return next(args);
      },
      { step: "initialize", name: "countReads" },
    );
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "budget-processor-"));
    // The dev topology's filter route (persons to adults), reading from TRIM_HORIZON.
    const route = loadStackTopology("dev").routes.find((r) => r.filter)!;
    const processor = new LocalProcessor({
      route, // startAt: trim-horizon in the dev topology
      client,
      sourceStream: source,
      targetStream: target,
      sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`,
      dataDir: dir,
    });
    // A backlog first, so that both readers are behind (and poll at their fastest) for several seconds.
    let published = 0;
    for (let batch = 0; batch < 24; batch++) {
      const records = Array.from({ length: 250 }, (_, i) => ({ Data: Buffer.from(`{"id":"${batch}-${i}","age":${i % 50 === 0 ? 30 : 10}}\n`), PartitionKey: `${batch}-${i}` }));
      const out = await lake.client.send(new PutRecordsCommand({ StreamName: source, Records: records }));
      assert.strictEqual(out.FailedRecordCount ?? 0, 0);
      published += records.length;
    }
    const stop = new AbortController();
    const startedAt = Date.now();
    const running = processor.run(stop.signal);
    const subscriber = runApp(
      "apps/subscriber/main.ts",
      ["--stream", source, "--from", "trim-horizon", "--idle-timeout", "6", "--endpoint", limits.endpoint, "--region", "us-east-1"],
      { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_EC2_METADATA_DISABLED: "true" },
    );
    const run = await subscriber;
    const adults = published / 50; // one record in 50 is an adult: the route filters the rest out quickly
    await until("the route's records", 90_000, async () => (await readAll(lake.client, target)).length >= adults, 100);
    // While behind, the processor keeps to 2 of the shard's 5 calls/s (it took all 5 before).
    const behindMs = Date.now() - startedAt;
    const perSecond = processorReads / (behindMs / 1000);
    stop.abort();
    await running;
    client.destroy();
    const stats = limits.stats(source);
    process.stderr.write(`      (the processor read ${processorReads} times in ${behindMs} ms, ${perSecond.toFixed(2)}/s; the shard ${stats.getRecordsCalls} times, ${stats.getRecordsThrottled} throttled)\n`);
    assert.ok(perSecond <= 2.2, `the processor read its shard ${perSecond.toFixed(2)} times a second while behind`);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.strictEqual(run.stdout.trim().split("\n").length, published, "the subscriber read every record");
    assert.strictEqual((await readAll(lake.client, target)).length, adults, "the route forwarded every adult");
    assert.strictEqual(stats.getRecordsThrottled, 0, `${stats.getRecordsThrottled} of ${stats.getRecordsCalls} reads of the shard were throttled`);
  });
});
