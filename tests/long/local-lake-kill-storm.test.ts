/**
 * kill -9 of `npm run local-lake` at random moments, 20 times, while records are published and routed
 * (the dev topology: a filter route and an aggregating route, wire-taps every second). Every next start
 * succeeds, and every acknowledged record is in its segment, in the filter route's target, in the
 * aggregate's counts and sums, and in the archive. Real processes, real emulator; the kill moments come
 * from a seeded generator, so a failing run is reproduced with the seed it prints.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../runtime/client";
import { readWireTapRecords } from "../../local/firehose";
import { emulatorPid, LakeProcess, startLakeProcess, waitGone } from "../helpers/local-lake-process";
import { seeded } from "../helpers/seeded";
import { readAll, until } from "../helpers/stream-reading";

const PERSONS = "datalake-dev-ingest-persons";
const ORDERS = "datalake-dev-ingest-orders";
const ADULTS = "datalake-dev-curated-adults";
const STATS = "datalake-dev-curated-order-stats";
const ROUNDS = 20;
/** Orders are published in the first rounds only, so the last 60 s window closes while later rounds run. */
const ORDER_ROUNDS = 8;

interface Person {
  id: string;
  age: number;
}
interface Order {
  id: string;
  customer: string;
  amount: number;
}

/** Publishes persons (and orders) in batches until stopped; keeps what the lake acknowledged, by id. */
function publishUntilStopped(client: KinesisClient, round: number, acked: { persons: Map<string, Person>; orders: Map<string, Order> }) {
  let stopped = false;
  let batches = 0;
  const put = async <T extends { id: string }>(stream: string, records: T[], into: Map<string, T>) => {
    const out = await client.send(
      new PutRecordsCommand({ StreamName: stream, Records: records.map((r) => ({ Data: Buffer.from(`${JSON.stringify(r)}\n`), PartitionKey: r.id })) }),
    );
    (out.Records ?? []).forEach((result, i) => {
      if (!result.ErrorCode) into.set(records[i].id, records[i]);
    });
  };
  const loop = (async () => {
    for (let batch = 0; !stopped; batch++) {
      const persons = Array.from({ length: 100 }, (_, i) => ({ id: `p-${round}-${batch}-${i}`, age: (batch * 7 + i) % 60 }));
      const orders = Array.from({ length: 50 }, (_, i) => ({ id: `o-${round}-${batch}-${i}`, customer: `c${i % 5}`, amount: (batch + i) % 13 }));
      try {
        await Promise.all([put(PERSONS, persons, acked.persons), round < ORDER_ROUNDS ? put(ORDERS, orders, acked.orders) : undefined]);
        batches += 1;
      } catch {
        return; // the lake was killed: what it answered before counts, the rest is unacknowledged
      }
    }
  })();
  return {
    batches: () => batches,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

const ids = (records: { Data?: Uint8Array }[]) => records.map((r) => JSON.parse(Buffer.from(r.Data!).toString()) as { id: string });

describe("the local lake under 20 kill -9 at random moments while publishing and routing", function () {
  this.timeout(900_000);
  let dataDir: string;
  let lake: LakeProcess | undefined;
  before(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-storm-"))));
  after(async () => {
    if (lake && lake.child.exitCode === null && lake.child.signalCode === null) {
      process.kill(-lake.child.pid!, "SIGKILL");
      await lake.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("every start succeeds; every acknowledged record is in its segment, the filter's target, the aggregates and the archive", async () => {
    const seed = Number(process.env.STORM_SEED ?? Date.now() % 100_000);
    const random = seeded(seed);
    const acked = { persons: new Map<string, Person>(), orders: new Map<string, Order>() };
    for (let round = 0; round < ROUNDS; round++) {
      lake = await startLakeProcess(dataDir, ["--wire-tap-seconds", "1"]);
      assert.doesNotMatch(lake.stderr(), /could not be loaded|refused|stopped/, `seed ${seed}, round ${round}:\n${lake.stderr()}`);
      const client = createKinesisClient({ endpoint: lake.vars.AWS_ENDPOINT_URL_KINESIS, region: lake.vars.AWS_REGION });
      const publisher = publishUntilStopped(client, round, acked);
      // A moment anywhere from right after the start to a few seconds into publishing.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 2500)));
      const emulator = emulatorPid(dataDir);
      // Even rounds: the lake's group and the emulator's at once; odd rounds: the lake's group only.
      process.kill(-lake.child.pid!, "SIGKILL");
      if (round % 2 === 0 && emulator) {
        try {
          process.kill(-emulator, "SIGKILL");
        } catch {
          // already gone with the lake
        }
      }
      await lake.exited;
      await publisher.stop();
      client.destroy();
      if (emulator) assert.ok(await waitGone(emulator), `seed ${seed}, round ${round}: the emulator outlived the killed lake`);
    }
    assert.ok(acked.persons.size > 0 && acked.orders.size > 0, `seed ${seed}: something was acknowledged`);

    lake = await startLakeProcess(dataDir, ["--wire-tap-seconds", "1"]);
    const client = createKinesisClient({ endpoint: lake.vars.AWS_ENDPOINT_URL_KINESIS, region: lake.vars.AWS_REGION });
    try {
      const context = `seed ${seed}, ${acked.persons.size} persons and ${acked.orders.size} orders acknowledged`;
      // The segments hold every acknowledged record (and maybe some that were written but not answered).
      const persons = new Map(ids(await readAll(client, PERSONS)).map((p) => [p.id, p as unknown as Person]));
      const missing = [...acked.persons.keys()].filter((id) => !persons.has(id));
      assert.deepStrictEqual(missing.slice(0, 5), [], `${context}: ${missing.length} acknowledged persons are gone`);
      const orders = ids(await readAll(client, ORDERS)) as unknown as Order[];
      const orderIds = new Set(orders.map((o) => o.id));
      assert.ok([...acked.orders.keys()].every((id) => orderIds.has(id)), `${context}: acknowledged orders are gone`);

      // The filter route: exactly the adults of the source segment (at least once, nothing skipped).
      const adultsWanted = new Set([...persons.values()].filter((p) => p.age >= 18).map((p) => p.id));
      await until(`the adults (${context})`, 120_000, async () => new Set(ids(await readAll(client, ADULTS)).map((p) => p.id)).size >= adultsWanted.size);
      const adults = new Set(ids(await readAll(client, ADULTS)).map((p) => p.id));
      assert.deepStrictEqual([...adults].filter((id) => !adultsWanted.has(id)), [], `${context}: the filter forwarded a record it does not match`);
      assert.strictEqual(adults.size, adultsWanted.size, context);

      // The aggregate route: per customer, the windows count and sum every order in the source segment.
      const want = new Map<string, { count: number; sum: number }>();
      for (const o of orders) {
        const w = want.get(o.customer) ?? { count: 0, sum: 0 };
        want.set(o.customer, { count: w.count + 1, sum: w.sum + o.amount });
      }
      const totals = async () => {
        const got = new Map<string, { count: number; sum: number }>();
        for (const r of await readAll(client, STATS)) {
          const o = JSON.parse(Buffer.from(r.Data!).toString()) as { key: { customer: string }; count: number; sum: { amount: number } };
          const g = got.get(o.key.customer) ?? { count: 0, sum: 0 };
          got.set(o.key.customer, { count: g.count + o.count, sum: g.sum + o.sum.amount });
        }
        return got;
      };
      const covered = (got: Map<string, { count: number; sum: number }>) =>
        [...want].every(([c, w]) => (got.get(c)?.count ?? 0) >= w.count && (got.get(c)?.sum ?? 0) >= w.sum);
      await until(`the window results (${context})`, 150_000, async () => covered(await totals()));
      const got = await totals();
      const extra = [...want].reduce((n, [c, w]) => n + (got.get(c)!.count - w.count), 0);
      process.stderr.write(`      (storm seed ${seed}: ${orders.length} orders counted, ${extra} counted again after a kill, at least once)\n`);

      // The archive: every record of the source segment, after the wire-tap's buffer (1 s here).
      const archived = () => new Set(readWireTapRecords(path.join(dataDir, "s3", `${PERSONS}-000000000000`)).map((l) => (JSON.parse(l) as { id: string }).id));
      await until(`the archive (${context})`, 60_000, async () => {
        const inArchive = archived();
        return [...persons.keys()].every((id) => inArchive.has(id));
      }, 1000);
      assert.strictEqual(lake.child.exitCode, null, `the lake is still running:\n${lake.stderr()}`);
    } finally {
      client.destroy();
      process.kill(-lake.child.pid!, "SIGINT");
      assert.strictEqual(await lake.exited, 0, lake.stderr());
    }
  });
});
