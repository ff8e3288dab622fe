/**
 * The local processor on a real kinesis-local: the same handler the Lambda runs, fed Lambda-shaped
 * events. Filtering delivers exactly the matching records byte for byte under their partition keys (and
 * a restart continues from the checkpoint); a short tumbling window gives the documented per-shard,
 * per-window, per-key sums; a poison record lands in the local dead-letter file and the shard moves on.
 */
import * as assert from "assert";
import { KinesisClient, ListShardsCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLakeConfig, RouteConfig } from "../../model/config";
import { windowOf, windowTime } from "../../model/processor/events";
import { LocalProcessor } from "../../local/processor";
import { aggregate as kplAggregate } from "../../model/kpl";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { readAll, until } from "../helpers/stream-reading";


async function put(client: KinesisClient, stream: string, records: { data: string | Uint8Array; key: string }[]): Promise<void> {
  const out = await client.send(
    new PutRecordsCommand({ StreamName: stream, Records: records.map((r) => ({ Data: typeof r.data === "string" ? Buffer.from(r.data) : r.data, PartitionKey: r.key })) }),
  );
  assert.strictEqual(out.FailedRecordCount ?? 0, 0);
}

const layers = {
  ingest: { segments: { persons: { shards: 2 }, orders: { shards: 2 } } },
  curated: { segments: { adults: {}, "order-stats": {}, slim: {} } },
};
const routeOf = (route: Record<string, unknown>): RouteConfig =>
  parseLakeConfig({ layers, routes: [route] }, { project: "datalake", stack: "it" }).routes[0];

describe("local processor (the Lambda handler on kinesis-local)", function () {
  this.timeout(180_000);
  const lake = useLocalKinesis();
  let dataDir: string;
  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "processor-it-"));
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("delivers to curated/adults exactly the matching records, byte for byte, under their keys, across a restart", async () => {
    const source = await lake.createStream(lake.uniqueName("persons"), 2);
    const target = await lake.createStream(lake.uniqueName("adults"), 1);
    const route = routeOf({ from: "ingest/persons", to: "curated/adults", filter: { age: [{ numeric: [">=", 18] }] }, startAt: "trim-horizon" });
    const start = () => {
      const p = new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir, idlePollMs: 200 });
      const stop = new AbortController();
      return { p, stop, done: p.run(stop.signal) };
    };
    const batch = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, k) => {
        const i = from + k;
        // ages 0..39: a third with a trailing space before the newline, some odd spacing, one not JSON
        const data = i % 37 === 5 ? `age=${i}\n` : i % 3 === 0 ? `{"name":"dennis ${i}", "age":${i % 40}} \n` : `{"name":"dennis ${i}","age":${i % 40}}\n`;
        return { data, key: `key-${i % 7}` };
      });
    const first = batch(0, 120);
    const second = batch(120, 200);
    const expected = [...first, ...second].filter((r) => /"age":(\d+)/.test(r.data) && Number(/"age":(\d+)/.exec(r.data)![1]) >= 18);

    await put(lake.client, source, first);
    let run = start();
    const expectFirst = first.filter((r) => expected.includes(r));
    await until("the first records in the target", 60_000, async () => (await readAll(lake.client, target)).length >= expectFirst.length);
    run.stop.abort();
    await run.done;

    await put(lake.client, source, second);
    run = start();
    await until("every matching record in the target", 60_000, async () => (await readAll(lake.client, target)).length >= expected.length);
    await until("the processor to have read the rest of the source", 30_000, async () => run.p.stats.seen >= second.length);
    run.stop.abort();
    await run.done;

    const got = (await readAll(lake.client, target)).map((r) => `${r.PartitionKey} ${Buffer.from(r.Data!).toString("hex")}`).sort();
    const want = expected.map((r) => `${r.key} ${Buffer.from(r.data).toString("hex")}`).sort();
    assert.deepStrictEqual(got, want, "the target does not hold exactly the matching records, unchanged");
  });

  it("gives the documented tumbling-window sums per shard, window and customer in curated/order-stats", async () => {
    const source = await lake.createStream(lake.uniqueName("orders"), 2);
    const target = await lake.createStream(lake.uniqueName("order-stats"), 1);
    const windowSeconds = 2;
    const route = routeOf({
      from: "ingest/orders",
      to: "curated/order-stats",
      aggregate: { windowSeconds, groupBy: ["customer"], count: true, sum: ["amount"], max: ["amount"] },
      startAt: "trim-horizon",
    });
    const p = new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir, idlePollMs: 200 });
    const stop = new AbortController();
    const done = p.run(stop.signal);
    const customers = ["c1", "c2", "c3"];
    for (let round = 0; round < 3; round++) {
      await put(
        lake.client,
        source,
        Array.from({ length: 30 }, (_, i) => ({ data: `{"customer":"${customers[i % 3]}","amount":${(i % 5) + 0.5},"round":${round}}\n`, key: `order-${round}-${i}` })),
      );
      await new Promise((r) => setTimeout(r, 1200));
    }
    // What Lambda's windows would give: per shard, by arrival time, per customer.
    const sourceRecords = await readAll(lake.client, source);
    assert.strictEqual(sourceRecords.length, 90);
    const expected = new Map<string, { count: number; sum: number; max: number }>();
    for (const r of sourceRecords) {
      const order = JSON.parse(Buffer.from(r.Data!).toString()) as { customer: string; amount: number };
      const w = windowOf(r.ApproximateArrivalTimestamp!.getTime(), windowSeconds);
      const id = `${r.shardId} ${windowTime(w.startMs)} ${windowTime(w.endMs)} ${order.customer}`;
      const e = expected.get(id) ?? { count: 0, sum: 0, max: -Infinity };
      expected.set(id, { count: e.count + 1, sum: e.sum + order.amount, max: Math.max(e.max, order.amount) });
    }
    await until("one result per shard, window and customer", 60_000, async () => (await readAll(lake.client, target)).length >= expected.size);
    stop.abort();
    await done;
    const results = (await readAll(lake.client, target)).map((r) => Buffer.from(r.Data!).toString());
    assert.ok(results.every((t) => t.endsWith("}") && !t.includes("\n")), "a result is not one JSON object without a line break (the wire-tap adds the archive's new line)");
    const got = results.map((t) => JSON.parse(t)).map((o) => `${o.window.start} ${o.window.end} ${o.key.customer} ${o.count} ${o.sum.amount} ${o.max.amount}`).sort();
    const want = [...expected.entries()].map(([id, e]) => `${id.split(" ").slice(1).join(" ")} ${e.count} ${e.sum} ${e.max}`).sort();
    assert.deepStrictEqual(got, want);
    const first = JSON.parse(results[0]);
    assert.deepStrictEqual(Object.keys(first), ["window", "key", "count", "sum", "max"]);
  });

  it("routes the matching user records of KPL aggregates through a filter, and shows the loss filterAt: mapping risks", async () => {
    const adults = ['{"age":30}\n', '{"age":18}\n'];
    const mixed = [
      { partitionKey: "a", data: Buffer.from(adults[0]) },
      { partitionKey: "b", data: Buffer.from('{"age":3}\n') },
      { partitionKey: "c", data: Buffer.from(adults[1]) },
    ];
    const agg = kplAggregate(mixed);
    const filter = { age: [{ numeric: [">=", 18] }] };
    const deliver = async (extra: Record<string, unknown>) => {
      const source = await lake.createStream(lake.uniqueName("persons"), 1);
      const target = await lake.createStream(lake.uniqueName("adults"), 1);
      const route = routeOf({ from: "ingest/persons", to: "curated/adults", filter, startAt: "trim-horizon", ...extra });
      const dir = fs.mkdtempSync(path.join(dataDir, "run-"));
      const p = new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir: dir, idlePollMs: 200 });
      await put(lake.client, source, [
        { data: agg.data, key: agg.partitionKey },
        { data: '{"age":40}\n', key: "d" },
      ]);
      const stop = new AbortController();
      const done = p.run(stop.signal);
      await until("the processor to have read both records", 30_000, async () => p.stats.seen >= 2);
      await until("the plain adult in the target", 30_000, async () => (await readAll(lake.client, target)).length >= 1);
      stop.abort();
      await done;
      return (await readAll(lake.client, target)).map((r) => `${r.PartitionKey} ${Buffer.from(r.Data!).toString().trim()}`).sort();
    };
    // Default: the handler unpacks the aggregate and filters each user record.
    assert.deepStrictEqual(await deliver({}), ['a {"age":30}', 'c {"age":18}', 'd {"age":40}']);
    // In the mapping, the aggregate (not JSON) is dropped whole: the local lake shows the risk.
    assert.deepStrictEqual(await deliver({ filterAt: "mapping" }), ['d {"age":40}']);
  });

  it("bisects a failing batch, retries each piece a bounded number of times, reports it like Lambda's on-failure destination, and moves on", async () => {
    const source = await lake.createStream(lake.uniqueName("persons"), 1);
    const target = lake.uniqueName("missing"); // not created yet: every PutRecords fails
    const route = routeOf({
      from: "ingest/persons",
      to: "curated/adults",
      failure: { maximumRetryAttempts: 1, bisectBatchOnFunctionError: true },
      startAt: "trim-horizon",
    });
    const p = new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir, idlePollMs: 200 });
    await put(lake.client, source, ["a", "b", "c"].map((x) => ({ data: `{"x":"${x}"}\n`, key: x })));
    const stop = new AbortController();
    const done = p.run(stop.signal);
    const letters = () => (fs.existsSync(p.deadLetterFile) ? fs.readFileSync(p.deadLetterFile, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : []);
    await until("three pieces given up", 60_000, async () => letters().length >= 3);
    // [a b c] fails -> bisected into [a b] and [c]; [a b] -> [a], [b]; each single record is tried twice (1 retry).
    const given = letters();
    assert.deepStrictEqual(
      given.map((l) => [l.requestContext.condition, l.requestContext.approximateInvokeCount, l.KinesisBatchInfo.batchSize]),
      [
        ["RetryAttemptsExhausted", 2, 1],
        ["RetryAttemptsExhausted", 2, 1],
        ["RetryAttemptsExhausted", 2, 1],
      ],
    );
    const source3 = await readAll(lake.client, source);
    assert.deepStrictEqual(given.map((l) => l.KinesisBatchInfo.startSequenceNumber), source3.map((r) => r.SequenceNumber));
    assert.ok(given.every((l) => l.KinesisBatchInfo.streamArn.endsWith(`stream/${source}`) && !("data" in l.KinesisBatchInfo)));
    // The shard moved on: once the target exists, a new record is delivered, and the given-up ones are not re-sent.
    await lake.createStream(target, 1);
    await put(lake.client, source, [{ data: '{"x":"d"}\n', key: "d" }]);
    await until("the new record in the target", 30_000, async () => (await readAll(lake.client, target)).length >= 1);
    stop.abort();
    await done;
    assert.deepStrictEqual((await readAll(lake.client, target)).map((r) => Buffer.from(r.Data!).toString()), ['{"x":"d"}\n']);
  });

  it("reads a shard from the start again when its checkpoint names a record the stream does not know", async () => {
    const source = await lake.createStream(lake.uniqueName("persons"), 1);
    const target = await lake.createStream(lake.uniqueName("adults"), 1);
    const route = routeOf({ from: "ingest/persons", to: "curated/adults", startAt: "latest" });
    const p = new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir, idlePollMs: 200 });
    const shardId = (await lake.client.send(new ListShardsCommand({ StreamName: source }))).Shards![0].ShardId!;
    fs.writeFileSync(p.checkpointFile, JSON.stringify({ shards: { [shardId]: { sequenceNumber: "49999999999999999999999999999999999999999999999999999999" } } }));
    await put(lake.client, source, [{ data: '{"x":1}\n', key: "k" }]);
    const fresh = new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir, idlePollMs: 200 });
    const stop = new AbortController();
    const done = fresh.run(stop.signal);
    await until("the record in the target", 30_000, async () => (await readAll(lake.client, target)).length >= 1);
    stop.abort();
    await done;
    assert.deepStrictEqual((await readAll(lake.client, target)).map((r) => Buffer.from(r.Data!).toString()), ['{"x":1}\n']);
  });

  it("sends a record a transform cannot read to the dead-letter file, and forwards the rest", async () => {
    const source = await lake.createStream(lake.uniqueName("persons"), 1);
    const target = await lake.createStream(lake.uniqueName("slim"), 1);
    const route = routeOf({ from: "ingest/persons", to: "curated/slim", transform: { select: ["name"], set: { via: "route" } }, startAt: "trim-horizon" });
    const p = new LocalProcessor({ route, client: lake.client, sourceStream: source, targetStream: target, sourceStreamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${source}`, dataDir, idlePollMs: 200 });
    await put(lake.client, source, [
      { data: '{"name":"a","age":1}\n', key: "1" },
      { data: "not json\n", key: "2" },
      { data: '{"name":"b","age":2}\n', key: "3" },
    ]);
    const stop = new AbortController();
    const done = p.run(stop.signal);
    await until("two transformed records", 30_000, async () => (await readAll(lake.client, target)).length >= 2);
    await until("the dead letter", 10_000, async () => fs.existsSync(p.deadLetterFile));
    stop.abort();
    await done;
    const got = (await readAll(lake.client, target)).map((r) => [Buffer.from(r.Data!).toString(), r.PartitionKey]);
    assert.deepStrictEqual(got, [
      ['{"name":"a","via":"route"}\n', "1"],
      ['{"name":"b","via":"route"}\n', "3"],
    ]);
    const letters = fs.readFileSync(p.deadLetterFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.strictEqual(letters.length, 1);
    assert.strictEqual(Buffer.from(letters[0].dataBase64, "base64").toString(), "not json\n");
    assert.strictEqual(letters[0].partitionKey, "2");
  });
});
