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
import { LocalLake, startLocalLake } from "../../local/lake";
import { createLeaseClient, Lease, LeaseTable } from "../../runtime/leases";
import { ControllableProxy, startControllableProxy } from "../helpers/fault-endpoints";
import { openShards, publish, seenIds, sleep, startWorker, until, watchTable, Worker, WorkerOptions } from "../helpers/group-workers";
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
    lake = await startLocalLake({ config, persist: false, dataDir: path.join(dir, "lake") });
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(lake.catalog));
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_KINESIS: lake.endpoint,
      DATALAKE_CATALOG: path.join(dir, "catalog.json"),
    };
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
