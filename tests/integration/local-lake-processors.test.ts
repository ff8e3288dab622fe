/**
 * The whole local lake (`startLocalLake`, services "all") with the dev topology: its processors run the
 * Lambda handler. Publishing to ingest/persons delivers to curated/adults exactly the matching records,
 * byte for byte under their keys; publishing known orders to ingest/orders gives the documented sums per
 * shard, window and customer in curated/order-stats. The order-stats route's 60 s windows are shortened to
 * a few seconds: a window closes by the wall clock, so 60 s windows made the test wait up to a minute
 * (30 s on average) for the minute to turn. Only the length changes; everything else is the dev topology.
 */
import * as assert from "assert";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadStackTopology } from "../../runtime/topology";
import { LocalLake, startLocalLake } from "../../local/lake";
import { windowOf, windowTime } from "../../model/processor/events";
import { readAll, until } from "../helpers/stream-reading";

/** The order-stats route's window, in seconds (the dev topology says 60). */
const WINDOW_SECONDS = 3;

describe("local lake processors (dev topology)", function () {
  this.timeout(240_000);
  let lake: LocalLake;
  let dataDir: string;
  before(async function () {
    this.timeout(120_000);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "lake-processors-"));
    const dev = loadStackTopology("dev");
    const routes = dev.routes.map((r) => (r.aggregate ? { ...r, aggregate: { ...r.aggregate, windowSeconds: WINDOW_SECONDS } } : r));
    assert.strictEqual(routes.filter((r) => r.aggregate).length, 1, "the dev topology has one aggregating route");
    lake = await startLocalLake({ config: { ...dev, routes }, stack: "dev", dataDir, persist: false, services: "all", warn: () => undefined });
  });
  after(async function () {
    this.timeout(60_000);
    await lake?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("delivers exactly the adults to curated/adults and the window sums to curated/order-stats", async () => {
    const persons = Array.from({ length: 60 }, (_, i) => ({
      data: i === 7 ? "not json\n" : `{"id":"p${i}","name":"dennis ${i}","age":${(i * 7) % 41}}\n`,
      key: `p${i % 9}`,
    }));
    const orders = Array.from({ length: 45 }, (_, i) => ({ data: `{"id":"o${i}","customer":"c${i % 4}","amount":${i % 7}}\n`, key: `o${i}` }));
    const put = async (address: string, records: { data: string; key: string }[]) => {
      const out = await lake.client.send(
        new PutRecordsCommand({ StreamName: lake.catalog[address].streamName, Records: records.map((r) => ({ Data: Buffer.from(r.data), PartitionKey: r.key })) }),
      );
      assert.strictEqual(out.FailedRecordCount ?? 0, 0);
    };
    await put("ingest/persons", persons);
    await put("ingest/orders", orders);

    const adults = persons.filter((p) => /"age":(\d+)/.test(p.data) && Number(/"age":(\d+)/.exec(p.data)![1]) >= 18);
    const adultsStream = lake.catalog["curated/adults"].streamName;
    await until("the adults", 60_000, async () => (await readAll(lake.client, adultsStream)).length >= adults.length);

    // Expected window results: per source shard, by arrival time, per customer.
    const source = await readAll(lake.client, lake.catalog["ingest/orders"].streamName);
    assert.strictEqual(source.length, orders.length);
    const expected = new Map<string, { count: number; sum: number }>();
    for (const r of source) {
      const o = JSON.parse(Buffer.from(r.Data!).toString()) as { customer: string; amount: number };
      const w = windowOf(r.ApproximateArrivalTimestamp!.getTime(), WINDOW_SECONDS);
      const id = `${r.shardId}|${windowTime(w.startMs)}|${windowTime(w.endMs)}|${o.customer}`;
      const e = expected.get(id) ?? { count: 0, sum: 0 };
      expected.set(id, { count: e.count + 1, sum: e.sum + o.amount });
    }
    const statsStream = lake.catalog["curated/order-stats"].streamName;
    await until("the window results", 150_000, async () => (await readAll(lake.client, statsStream)).length >= expected.size);

    const got = (await readAll(lake.client, adultsStream)).map((r) => `${r.PartitionKey} ${Buffer.from(r.Data!).toString("hex")}`).sort();
    assert.deepStrictEqual(got, adults.map((p) => `${p.key} ${Buffer.from(p.data).toString("hex")}`).sort());

    const results = (await readAll(lake.client, statsStream)).map((r) => JSON.parse(Buffer.from(r.Data!).toString()));
    assert.deepStrictEqual(
      results.map((o) => `${o.window.start}|${o.window.end}|${o.key.customer} ${o.count} ${o.sum.amount}`).sort(),
      [...expected.entries()].map(([id, e]) => `${id.split("|").slice(1).join("|")} ${e.count} ${e.sum}`).sort(),
    );
  });
});
