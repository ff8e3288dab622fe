/**
 * `subscribe --group` workers under faults, against the local lake (kinesis-local, dynalite):
 *   - a lease at LATEST handed over (SIGINT) or taken over (SIGKILL) before its first record's checkpoint:
 *     the next owner starts where the first one started (its pinned AT_TIMESTAMP), not at a newer tip;
 *   - a catalog group whose lease table does not exist: one line, exit 2;
 *   - the lease table unreachable for one worker (a TCP proxy in front of dynalite, frozen or refusing):
 *     shorter than the lease duration, the worker reads on, nobody takes its leases, it renews when the
 *     table is back; longer, it stops reading those shards (one stderr line each) before another worker
 *     takes them, and keeps running to take leases again.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseLakeConfig } from "../../model/config";
import type { LocalLake } from "../../local/lake";
import { createLeaseClient, LeaseCoordinator, LeaseTable, newLease, runGroup } from "../../runtime/leases";
import { ControllableProxy, startControllableProxy } from "../helpers/fault-endpoints";
import { cuttableLeaseClient, openShards, owners, publish, seenIds, sleep, startWorker, until, watchTable, Worker, WorkerOptions, startGroupTestLake } from "../helpers/group-workers";
import { runApp } from "../helpers/run-app";

describe("consumer group workers under faults (subscribe --group, local lake)", function () {
  this.timeout(120_000);
  let dir: string;
  let lake: LocalLake;
  let env: NodeJS.ProcessEnv;
  const workers: Worker[] = [];
  const proxies: ControllableProxy[] = [];
  const clients: Array<{ destroy(): void }> = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "group-faults-"));
    const config = parseLakeConfig(
      {
        name: "gf",
        layers: {
          ingest: {
            segments: {
              events: { shards: 1, groups: ["handover", "takeover"] },
              orders: { shards: 2, groups: ["brief", "long"] },
            },
          },
        },
      },
      { project: "datalake", stack: "test" },
    );
    ({ lake, env } = await startGroupTestLake(dir, config));
  });

  afterEach(() => {
    for (const w of workers.splice(0)) if (w.exitStatus() === undefined) w.child.kill("SIGKILL");
  });

  after(async () => {
    for (const p of proxies) await p.close();
    for (const c of clients) c.destroy();
    await lake?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const tableOf = (segment: string, group: string) => {
    const entry = lake.catalog[`ingest/${segment}`].groups![group];
    const client = createLeaseClient({ endpoint: entry.endpoint });
    clients.push(client);
    return new LeaseTable({ client, tableName: entry.tableName });
  };
  const worker = (o: Omit<WorkerOptions, "env" | "dir"> & { env?: NodeJS.ProcessEnv }) => {
    const w = startWorker({ env, dir, ...o });
    workers.push(w);
    return w;
  };

  for (const how of ["handed over (SIGINT)", "taken over after SIGKILL"] as const) {
    const group = how.startsWith("handed") ? "handover" : "takeover";
    it(`a lease at LATEST ${how} before its first record's checkpoint: the next owner reads from where the first one started`, async () => {
      const started = Date.now();
      const stream = lake.catalog["ingest/events"].streamName;
      const table = tableOf("events", group);
      // A's stdout is a pipe whose reader may hold 50 MB: no record's checkpoint is ever written, only A's start.
      const a = worker({ segment: "ingest/events", group, id: "A", from: "latest", leaseSeconds: 2, pipeMargin: 50_000_000 });
      await until("A reading from LATEST", 30_000, () => /reading from LATEST/.test(a.err()) || undefined);
      // Records until A writes one (its LATEST iterator came before it), then 200 more that A writes.
      let n = 0;
      await until("A to write a record", 20_000, async () => {
        await publish(lake, stream, [{ id: `${group}-${n++}` }]);
        return a.lines().length > 0 || undefined;
      }, 300);
      await publish(lake, stream, Array.from({ length: 200 }, () => ({ id: `${group}-${n++}` })));
      const beforeHandOver = n;
      await until("A to write every record", 20_000, () => a.lines().some((l) => l.id === `${group}-${beforeHandOver - 1}`) || undefined);
      const [row] = await table.list();
      assert.doesNotMatch(row.checkpoint, /^\d+$/, "A checkpointed a record: the test proves nothing");
      a.child.kill(how.startsWith("handed") ? "SIGINT" : "SIGKILL");
      const status = await a.exited;
      if (how.startsWith("handed")) assert.equal(status, 0, a.err());
      // Records that arrive after A is gone and before B starts.
      await publish(lake, stream, Array.from({ length: 100 }, () => ({ id: `${group}-${n++}` })));
      const b = worker({ segment: "ingest/events", group, id: "B", from: "latest", leaseSeconds: 2 });
      const wanted = Array.from({ length: n }, (_, i) => `${group}-${i}`);
      const firstOfA = a.lines()[0].id;
      // B starts at A's start: every record A wrote and every later one (earlier probes, before A's iterator, may come too).
      const expected = wanted.slice(wanted.indexOf(firstOfA));
      await until("B to write every record since A's start", 30_000, () => {
        const seen = new Set(b.lines().map((l) => l.id));
        return expected.every((id) => seen.has(id)) || undefined;
      }, 200).catch((err) => {
        const seen = new Set(b.lines().map((l) => l.id));
        throw new Error(`${err.message}: B wrote ${b.lines().length} records, missing ${expected.filter((id) => !seen.has(id)).length} of ${expected.length}; lease ${JSON.stringify(row)}; B's log:\n${b.err()}`);
      });
      assert.equal(row.checkpoint, "AT_TIMESTAMP");
      assert.ok(row.checkpointTimestamp! >= started && row.checkpointTimestamp! <= Date.now(), "the pinned start is not A's");
      console.log(
        `      A wrote ${a.lines().length} records and checkpointed none (lease ${row.checkpoint} ${new Date(row.checkpointTimestamp!).toISOString()}); ` +
          `B wrote ${b.lines().length}, all ${expected.length} since A's start; ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    });
  }

  /** Workers w1 (its lease table through a proxy) and w2 (direct) on the 2 shards of orders, balanced 1/1, records published every 100 ms to both shards. */
  async function unreachableSetup(group: string, leaseSeconds: number) {
    const segment = "ingest/orders";
    const stream = lake.catalog[segment].streamName;
    const table = tableOf("orders", group);
    const proxy = await startControllableProxy(lake.catalog[segment].groups![group].endpoint!);
    proxies.push(proxy);
    const catalog = JSON.parse(JSON.stringify(lake.catalog));
    catalog[segment].groups[group].endpoint = proxy.endpoint;
    const file = path.join(dir, `${group}-proxied-catalog.json`);
    fs.writeFileSync(file, JSON.stringify(catalog));
    const w1 = worker({ segment, group, id: "w1", leaseSeconds, env: { ...env, DATALAKE_CATALOG: file } });
    await until("w1 to hold both leases", 30_000, async () => (await owners(table)).get("w1") === 2 || undefined, 200);
    const w2 = worker({ segment, group, id: "w2", leaseSeconds });
    await until("w1 and w2 at one lease each", 30_000, async () => {
      const o = await owners(table);
      return (o.get("w1") === 1 && o.get("w2") === 1) || undefined;
    }, 200);
    const shards = await openShards(lake, stream);
    let n = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        await publish(lake, stream, shards.map((shard) => ({ id: `${group}-${n++}`, shard })));
        await sleep(100);
      }
    })();
    const history: Array<{ at: number; key: string; owner?: string; counter: number; checkpoint: string }> = [];
    const watcher = watchTable(table, (rows, at) => rows.forEach((r) => history.push({ at, key: r.leaseKey, owner: r.leaseOwner, counter: r.leaseCounter, checkpoint: r.checkpoint })));
    const x = (await table.list()).find((l) => l.leaseOwner === "w1")!.leaseKey;
    await until("w1 to checkpoint a record of its shard", 20_000, async () => /^\d+$/.test((await table.get(x))!.checkpoint) || undefined, 200);
    const finish = async () => {
      publishing = false;
      await publisher;
      await watcher.stop();
      const published = n;
      // Only this test's records (the stream holds the earlier tests' too, which a trim-horizon group reads as well).
      const ours = () => new Map([...seenIds([w1, w2])].filter(([id]) => id.startsWith(`${group}-`)));
      const seen = await until(`all ${published} records written`, 30_000, () => {
        const s = ours();
        return s.size >= published ? s : undefined;
      }, 300).catch((err) => {
        throw new Error(`${err.message}: ${ours().size} written; w1's log:\n${w1.err()}\nw2's log:\n${w2.err()}`);
      });
      for (let i = 0; i < published; i++) assert.ok(seen.has(`${group}-${i}`), `${group}-${i} reached no worker`);
      return seen;
    };
    return { table, proxy, w1, w2, x, history, finish, published: () => n };
  }

  const withTimes = (w: Worker) => {
    // stderr lines with the time the test first saw them (polled every 50 ms)
    const seenAt: Array<{ at: number; line: string }> = [];
    let known = 0;
    const timer = setInterval(() => {
      const lines = w.err().split("\n");
      for (; known < lines.length - 1; known++) seenAt.push({ at: Date.now(), line: lines[known] });
    }, 50);
    return { seenAt, stop: () => clearInterval(timer) };
  };

  it("the lease table unreachable for a worker for less than the lease duration (frozen, then refusing): it reads on, nobody takes its lease, it renews when the table is back", async () => {
    const started = Date.now();
    const { proxy, w1, w2, x, history, finish } = await unreachableSetup("brief", 8);
    const outages: string[] = [];
    for (const mode of ["freeze", "refuse"] as const) {
      const from = Date.now();
      await proxy.set(mode);
      await sleep(4_000);
      const to = Date.now();
      await proxy.set("forward");
      // Records published during the outage reached w1's stdout: it kept reading the shard it holds.
      const during = w1.lines().filter((l) => l.shard === x && l.at >= from + 500 && l.at <= to);
      assert.ok(during.length >= 10, `w1 wrote ${during.length} records of ${x} published while its table was unreachable (${mode}); its log:\n${w1.err()}`);
      const last = Math.max(...history.filter((h) => h.key === x && h.at <= to).map((h) => h.counter));
      const renewedAt = await until(`w1 to renew ${x} after the ${mode}`, 10_000, () => history.find((h) => h.key === x && h.owner === "w1" && h.counter > last)?.at, 100);
      outages.push(`${mode} ${((to - from) / 1000).toFixed(1)} s: ${during.length} records of ${x} written meanwhile, renewed ${((renewedAt - to) / 1000).toFixed(1)} s after`);
    }
    await sleep(1_000);
    const seen = await finish();
    // One owner per shard throughout: nobody took w1's lease (nor w2's).
    const ownersOf = (key: string) => [...new Set(history.filter((h) => h.key === key).map((h) => h.owner))];
    assert.deepEqual(ownersOf(x), ["w1"], `owners of ${x} over the run`);
    for (const key of new Set(history.map((h) => h.key))) if (key !== x) assert.deepEqual(ownersOf(key), ["w2"], `owners of ${key} over the run`);
    // No owner switch: nothing delivered twice.
    const twice = [...seen].filter(([, count]) => count > 1);
    assert.deepEqual(twice, [], "records delivered twice");
    assert.match(w1.err(), new RegExp(`could not renew ${x} \\(.*\\); reading it on for at most`));
    assert.match(w1.err(), new RegExp(`renewed ${x} again after`));
    assert.doesNotMatch(w1.err(), /lost shardId/);
    assert.equal(w1.exitStatus(), undefined, "w1 exited");
    for (const w of [w1, w2]) w.child.kill("SIGINT");
    for (const w of [w1, w2]) assert.equal(await w.exited, 0, w.err());
    console.log(`      lease 8 s; ${outages.join("; ")}; ${seen.size} records, none twice; ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("the lease table unreachable for a worker for longer than the lease duration: it stops reading its shard (one stderr line) before the other worker takes it, and takes a lease again once the table is back", async () => {
    const started = Date.now();
    const lease = 4;
    const { proxy, w1, w2, x, history, finish } = await unreachableSetup("long", lease);
    const w1Log = withTimes(w1);
    try {
      const from = Date.now();
      await proxy.set("freeze");
      const takenAt = await until(`w2 to take ${x}`, 20_000, () => history.find((h) => h.key === x && h.owner === "w2" && h.at > from)?.at, 50);
      await sleep(1_500); // w1's reads under way
      // w1 had stopped reading the shard before w2 took it: no record of it published after the take reached w1.
      const w1Last = Math.max(...w1.lines().filter((l) => l.shard === x).map((l) => l.at));
      assert.ok(w1Last < takenAt, `w1 wrote a record of ${x} published ${w1Last - takenAt} ms after w2 took the lease`);
      const lost = w1Log.seenAt.filter((l) => l.line.includes(`lost ${x}`));
      assert.equal(lost.length, 1, `w1's log:\n${w1.err()}`);
      assert.match(lost[0].line, /not renewed within the lease duration \(4000 ms; is the lease table reachable\?\): stopped reading it/);
      assert.ok(lost[0].at <= takenAt + 50, `w1 said it stopped ${lost[0].at - takenAt} ms after w2 took ${x}`);
      await sleep(Math.max(0, from + (lease + 5) * 1000 - Date.now()));
      const frozenMs = Date.now() - from;
      await proxy.set("forward");
      assert.equal(w1.exitStatus(), undefined, "w1 exited while its table was unreachable");
      // Back: w1 takes a lease again (w2 hands one over), 1/1.
      const backAt = Date.now();
      await until("w1 and w2 at one lease each again", 30_000, async () => {
        const o = await owners(tableOf("orders", "long"));
        return (o.get("w1") === 1 && o.get("w2") === 1) || undefined;
      }, 200);
      const rebalancedMs = Date.now() - backAt;
      await sleep(1_500);
      const seen = await finish();
      // Records delivered twice: only x's, each once by w1 (before it stopped) and once by w2 (from w1's last checkpoint).
      const twice = [...seen].filter(([, count]) => count > 1).map(([id]) => id);
      const w1Ids = new Map(w1.lines().map((l) => [l.id, l]));
      for (const id of twice) {
        assert.equal(seen.get(id), 2, id);
        assert.equal(w1Ids.get(id)?.shard, x, `${id} delivered twice, not a record w1 wrote of ${x}`);
      }
      for (const w of [w1, w2]) w.child.kill("SIGINT");
      for (const w of [w1, w2]) assert.equal(await w.exited, 0, w.err());
      console.log(
        `      lease ${lease} s, frozen ${(frozenMs / 1000).toFixed(1)} s: w1 stopped ${x} ${lost[0].at - from} ms in, w2 took it ${takenAt - from} ms in; ` +
          `1/1 again ${(rebalancedMs / 1000).toFixed(1)} s after the thaw; ${seen.size} records, ${twice.length} twice (w1's since its last checkpoint); ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    } finally {
      w1Log.stop();
    }
  });

  it("a shard reader that fails while the table is unreachable, its release failing too, is started again once the table is back (not held readerless)", async () => {
    const endpoint = lake.dynamodb!.endpoint;
    const base = createLeaseClient({ endpoint });
    const link = cuttableLeaseClient(endpoint);
    const cutClient = link.client;
    clients.push(base, cutClient);
    const tableName = `abandon-${process.pid}`;
    const table = new LeaseTable({ client: base, tableName });
    await table.create();
    await table.createIfAbsent(newLease("s0", [], "TRIM_HORIZON"));
    const coordinator = new LeaseCoordinator({ table: new LeaseTable({ client: cutClient, tableName, attempts: 2, backoffBaseMs: 1 }), workerId: "a", leaseDurationMs: 3_000, renewIntervalMs: 1_000 });
    let starts = 0;
    const run = await runGroup({
      coordinator,
      read: async (_lease, ctx) => {
        if (++starts === 1) {
          await until("the cut", 10_000, () => link.cut || undefined, 20);
          throw new Error("the processor failed");
        }
        await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      },
    });
    try {
      await until("the first reader", 10_000, () => starts === 1 || undefined, 20);
      link.cut = true;
      await sleep(500);
      link.cut = false;
      await until("a reader of s0 again", 10_000, () => starts === 2 || undefined, 50);
      assert.equal((await table.get("s0"))?.leaseOwner, "a");
    } finally {
      await run.stop();
    }
  });

  it("refuses a catalog group whose lease table does not exist, in one line (exit 2)", async () => {
    const catalog = JSON.parse(JSON.stringify(lake.catalog));
    const billing = catalog["ingest/orders"].groups.brief;
    catalog["ingest/orders"].groups.ghost = { ...billing, tableName: "gf-ingest-orders-group-ghost" };
    const file = path.join(dir, "ghost-catalog.json");
    fs.writeFileSync(file, JSON.stringify(catalog));
    for (const entry of ["apps/subscriber/main.ts", "apps/lag/main.ts"]) {
      const run = await runApp(entry, ["--segment", "ingest/orders", "--group", "ghost"], { ...env, DATALAKE_CATALOG: file });
      assert.equal(run.code, 2, run.stderr);
      const errors = run.stderr.split("\n").filter((l) => l.startsWith("error"));
      assert.equal(errors.length, 1, run.stderr);
      assert.match(errors[0], /--group ghost: lease table gf-ingest-orders-group-ghost does not exist; declare the group/);
      assert.doesNotMatch(run.stderr, /^\s+at /m, "a stack trace");
      assert.equal(run.stdout, "");
    }
  });
});
