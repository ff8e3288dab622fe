/**
 * The local processor on a real kinesis-local, where Lambda's behaviour is easy to get wrong: a route that
 * lags (its windows are long over when it reads them, in many batches) still writes one record per key
 * per window per shard: the state is carried across the batches of a window and the window is closed when
 * a later window's record comes or the shard is read to its end, as Lambda's tumbling windows do
 * (isFinalInvokeForWindow once per window). A transform whose output the target cannot take (over 1 MiB)
 * is poison at once: one slim message in the dead-letter file, the other records written once with their
 * values exact, and the shard moves on.
 */
import * as assert from "assert";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLakeConfig, RouteConfig } from "../../model/config";
import { windowOf, windowTime } from "../../model/processor/events";
import { LocalProcessor } from "../../local/processor";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { readAll, until } from "../helpers/stream-reading";

async function put(client: KinesisClient, stream: string, records: { data: string | Uint8Array; key: string }[]): Promise<void> {
  for (let i = 0; i < records.length; i += 250) {
    const out = await client.send(
      new PutRecordsCommand({ StreamName: stream, Records: records.slice(i, i + 250).map((r) => ({ Data: typeof r.data === "string" ? Buffer.from(r.data) : r.data, PartitionKey: r.key })) }),
    );
    assert.strictEqual(out.FailedRecordCount ?? 0, 0);
  }
}

const layers = { ingest: { segments: { orders: {}, persons: {} } }, curated: { segments: { "order-stats": {}, slim: {} } } };
const routeOf = (route: Record<string, unknown>): RouteConfig => parseLakeConfig({ layers, routes: [route] }, { project: "datalake", stack: "it" }).routes[0];

describe("local processor: lagging windows and outputs the target cannot take", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let dataDir: string;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "processor-limits-"))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const processor = (route: RouteConfig, source: string, target: string) =>
    new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir, idlePollMs: 200 });

  it("writes one record per key per window per shard when it reads long-closed windows in many batches", async () => {
    const source = await lake.createStream(lake.uniqueName("orders"), 1);
    const target = await lake.createStream(lake.uniqueName("order-stats"), 1);
    const windowSeconds = 2;
    const route = routeOf({
      from: "ingest/orders",
      to: "curated/order-stats",
      aggregate: { windowSeconds, groupBy: ["customer"], count: true, sum: ["amount"] },
      batchSize: 10,
      startAt: "trim-horizon",
    });
    // 3 rounds of 100 orders, a second apart: two or three windows, each read in many batches of 10.
    for (let round = 0; round < 3; round++) {
      await put(lake.client, source, Array.from({ length: 100 }, (_, i) => ({ data: `{"customer":"c${i % 3}","amount":${i % 7}}\n`, key: `o-${round}-${i}` })));
      await new Promise((r) => setTimeout(r, 1000));
    }
    const sourceRecords = await readAll(lake.client, source);
    assert.strictEqual(sourceRecords.length, 300);
    const lastEnd = Math.max(...sourceRecords.map((r) => windowOf(r.ApproximateArrivalTimestamp!.getTime(), windowSeconds).endMs));
    await new Promise((r) => setTimeout(r, Math.max(0, lastEnd - Date.now()) + 200)); // every window is over: the route lags

    const expected = new Map<string, { count: number; sum: number }>();
    for (const r of sourceRecords) {
      const o = JSON.parse(Buffer.from(r.Data!).toString()) as { customer: string; amount: number };
      const w = windowOf(r.ApproximateArrivalTimestamp!.getTime(), windowSeconds);
      const id = `${windowTime(w.startMs)} ${o.customer}`;
      const e = expected.get(id) ?? { count: 0, sum: 0 };
      expected.set(id, { count: e.count + 1, sum: e.sum + o.amount });
    }
    const p = processor(route, source, target);
    const stop = new AbortController();
    const done = p.run(stop.signal);
    await until("the processor to have read every order", 60_000, async () => p.stats.seen >= 300);
    await until("the last window's results", 30_000, async () => (await readAll(lake.client, target)).length >= expected.size);
    await new Promise((r) => setTimeout(r, 1500)); // nothing more may come
    stop.abort();
    await done;
    const results = (await readAll(lake.client, target)).map((r) => JSON.parse(Buffer.from(r.Data!).toString()));
    const got = results.map((o) => `${o.window.start} ${o.key.customer} ${o.count} ${o.sum.amount}`).sort();
    assert.deepStrictEqual(got, [...expected.entries()].map(([id, e]) => `${id} ${e.count} ${e.sum}`).sort(), `${results.length} results for ${expected.size} keys and windows`);
  });

  it("dead-letters a transformed record over 1 MiB at once, writes the others once with their numbers exact, and moves on", async () => {
    const source = await lake.createStream(lake.uniqueName("persons"), 1);
    const target = await lake.createStream(lake.uniqueName("slim"), 1);
    const route = routeOf({ from: "ingest/persons", to: "curated/slim", transform: { set: { pad: "p".repeat(150 * 1024) } }, startAt: "trim-horizon" });
    const records = [
      { data: '{"id":123456789012345678901,"price":0.1000000000000000055511151231257827}\n', key: "a" },
      { data: `{"id":2,"body":"${"b".repeat(950 * 1024)}"}\n`, key: "big" },
      { data: '{"id":3,"n":1.0}\n', key: "c" },
    ];
    await put(lake.client, source, records);
    const p = processor(route, source, target);
    const started = Date.now();
    const stop = new AbortController();
    const done = p.run(stop.signal);
    await until("the two writable records in the target", 30_000, async () => (await readAll(lake.client, target)).length >= 2);
    const tookMs = Date.now() - started;
    await put(lake.client, source, [{ data: '{"id":4}\n', key: "d" }]);
    await until("a later record in the target", 30_000, async () => (await readAll(lake.client, target)).length >= 3);
    await new Promise((r) => setTimeout(r, 1500)); // no resends may follow
    stop.abort();
    await done;
    const got = (await readAll(lake.client, target)).map((r) => `${r.PartitionKey} ${Buffer.from(r.Data!).toString().replace(/,"pad":"p+"/, "")}`);
    assert.deepStrictEqual(got, ['a {"id":123456789012345678901,"price":0.1000000000000000055511151231257827}\n', 'c {"id":3,"n":1.0}\n', 'd {"id":4}\n']);
    const letters = fs.readFileSync(p.deadLetterFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.strictEqual(letters.length, 1, "one message, no retries");
    const sourceRecords = await readAll(lake.client, source);
    assert.deepStrictEqual(
      [letters[0].kind, letters[0].partitionKey, letters[0].sequenceNumber, letters[0].dataBytes, "dataBase64" in letters[0]],
      ["poison-record", "big", sourceRecords[1].SequenceNumber, Buffer.byteLength(records[1].data), false],
    );
    assert.match(letters[0].reason, /1048576 bytes \(1 MiB\)/);
    assert.ok(Buffer.byteLength(JSON.stringify(letters[0])) <= 256 * 1024);
    assert.ok(tookMs < 10_000, `the shard was held ${tookMs} ms`);
  });
});
