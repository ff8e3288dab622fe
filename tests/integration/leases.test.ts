/**
 * Consumer group leases against the local DynamoDB stand-in (local/dynamodb.ts, dynalite): first how
 * faithful dynalite is where the coordinator depends on it (conditional writes, consistent reads,
 * persistence), then the lease table and coordinators on a 16-shard lease set: balance for 3 workers,
 * a kill -9'd worker's leases taken within the lease duration plus one renewal interval, a frozen
 * (SIGSTOP) worker's late checkpoint refused, children only after their parent's end.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from "@aws-sdk/client-dynamodb";
import { LocalDynamoDb, startLocalDynamoDb } from "../../local/dynamodb";
import { createLeaseClient, Lease, LeaseCoordinator, LeaseLostError, LeaseTable, LeaseTableMissingError, newLease, runGroup, SHARD_END } from "../../runtime/leases";
import { PROJECT_DIR, TS_NODE_REGISTER } from "../helpers/run-app";
import { parseLakeConfig } from "../../model/config";
import { startLocalLake } from "../../local/lake";
import { sleep, until } from "../helpers/until";
import { cuttableLeaseClient } from "../helpers/group-workers";

const shard = (i: number) => `shardId-${String(i).padStart(12, "0")}`;


let tableCounter = 0;
async function freshTable(db: LocalDynamoDb, shards = 0, options: { callTimeoutMs?: number } = {}): Promise<LeaseTable> {
  const table = new LeaseTable({ client: createLeaseClient({ endpoint: db.endpoint }), tableName: `leases-${process.pid}-${++tableCounter}`, ...options });
  await table.create();
  for (let i = 0; i < shards; i++) await table.createIfAbsent(newLease(shard(i), [], "TRIM_HORIZON"));
  return table;
}

const owners = async (table: LeaseTable) => {
  const counts = new Map<string, number>();
  for (const l of await table.list()) if (l.leaseOwner) counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
  return counts;
};

describe("consumer group leases on the local DynamoDB stand-in", function () {
  this.timeout(120_000);
  let db: LocalDynamoDb;
  let raw: DynamoDBClient;
  before(async () => {
    db = await startLocalDynamoDb();
    raw = createLeaseClient({ endpoint: db.endpoint });
  });
  after(async () => {
    await db?.stop();
  });

  describe("dynalite's faithfulness where the coordinator depends on it", () => {
    it("refuses a second create (attribute_not_exists) with ConditionalCheckFailedException", async () => {
      const table = await freshTable(db);
      const put = () =>
        raw.send(new PutItemCommand({ TableName: table.tableName, Item: { leaseKey: { S: "a" } }, ConditionExpression: "attribute_not_exists(leaseKey)" }));
      await put();
      await assert.rejects(put(), { name: "ConditionalCheckFailedException" });
      assert.equal(await table.createIfAbsent(newLease("a", [], "TRIM_HORIZON")), false);
    });

    it("lets exactly one of 20 concurrent writes expecting the same counter through", async () => {
      const table = await freshTable(db, 1);
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          raw.send(
            new UpdateItemCommand({
              TableName: table.tableName,
              Key: { leaseKey: { S: shard(0) } },
              UpdateExpression: "SET leaseCounter = :next, leaseOwner = :me",
              ConditionExpression: "leaseCounter = :expected",
              ExpressionAttributeValues: { ":next": { N: "1" }, ":expected": { N: "0" }, ":me": { S: `w${i}` } },
            }),
          ),
        ),
      );
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      for (const r of results.filter((x) => x.status === "rejected")) assert.equal((r as PromiseRejectedResult).reason.name, "ConditionalCheckFailedException");
      const [lease] = await table.list();
      assert.equal(lease.leaseCounter, 1);
    });

    it("checks owner conditions, absent attributes and REMOVE as DynamoDB does", async () => {
      const table = await freshTable(db, 1);
      const taken = await table.take((await table.list())[0], "a");
      // An owner condition with the wrong owner fails, even with the right counter.
      await assert.rejects(table.renew(taken, "b"), LeaseLostError);
      const released = await table.release(taken, "a");
      const row = await raw.send(new GetItemCommand({ TableName: table.tableName, Key: { leaseKey: { S: shard(0) } }, ConsistentRead: true }));
      assert.equal(row.Item?.leaseOwner, undefined, "REMOVE leaseOwner left it");
      // An owner condition on an item without an owner fails.
      await assert.rejects(table.renew(released, "a"), LeaseLostError);
      assert.equal((await table.get(shard(0)))?.leaseCounter, 2);
    });

    it("answers every read the coordinator makes with the latest write (it asks for ConsistentRead every time)", async () => {
      const table = await freshTable(db, 3);
      const asked: Array<{ op: string; consistent: unknown }> = [];
      raw.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { ConsistentRead?: boolean };
          if (["ScanCommand", "GetItemCommand"].includes(String(context.commandName))) asked.push({ op: String(context.commandName), consistent: input.ConsistentRead });
          return next(args);
        },
        { step: "initialize", name: "spyConsistentRead" },
      );
      const spied = new LeaseTable({ client: raw, tableName: table.tableName });
      for (let i = 0; i < 20; i++) {
        const [first] = await spied.list();
        const next = await spied.take(first, `w${i}`);
        assert.equal((await spied.get(first.leaseKey))?.leaseOwner, `w${i}`);
        assert.equal((await spied.list())[0].leaseCounter, next.leaseCounter);
      }
      raw.middlewareStack.remove("spyConsistentRead");
      assert.ok(asked.length >= 60);
      assert.deepEqual(asked.filter((a) => a.consistent !== true), []);
    });

    it("keeps tables in a folder across a restart", async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dynalite-"));
      try {
        const first = await startLocalDynamoDb({ dir });
        const t1 = new LeaseTable({ client: createLeaseClient({ endpoint: first.endpoint }), tableName: "persisted" });
        await t1.create();
        await t1.createIfAbsent(newLease(shard(7), [], "TRIM_HORIZON"));
        await first.stop();
        const second = await startLocalDynamoDb({ dir });
        const t2 = new LeaseTable({ client: createLeaseClient({ endpoint: second.endpoint }), tableName: "persisted" });
        assert.deepEqual((await t2.list()).map((l) => l.leaseKey), [shard(7)]);
        await second.stop();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe("the lease table", () => {
    it("says which table is missing when a group is not declared", async () => {
      const table = new LeaseTable({ client: raw, tableName: "no-such-group" });
      await assert.rejects(table.describe(), (err: Error) => err instanceof LeaseTableMissingError && /no-such-group/.test(err.message) && /declare the group/.test(err.message));
    });

    it("fences: a worker whose lease was taken cannot checkpoint into it", async () => {
      const table = await freshTable(db, 1);
      const mine = await table.take((await table.list())[0], "a");
      const afterCheckpoint = await table.checkpoint(mine, "a", "100");
      // Another worker takes it with the counter it saw (a steal, or an expiry).
      await table.take(await table.get(shard(0)).then((l) => l!), "b");
      await assert.rejects(table.checkpoint(afterCheckpoint, "a", "200"), LeaseLostError);
      const row = (await table.get(shard(0)))!;
      assert.deepEqual([row.leaseOwner, row.checkpoint, row.ownerSwitchesSinceCheckpoint], ["b", "100", 1]);
    });

    it("counts a retried write whose unanswered first attempt was applied as done, not as a lost lease", async () => {
      const table = await freshTable(db, 1);
      const lease = await table.take((await table.list())[0], "a");
      // A client whose first UpdateItem reaches the table but whose answer is lost.
      const flaky = createLeaseClient({ endpoint: db.endpoint });
      let dropped = false;
      flaky.middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          if (context.commandName === "UpdateItemCommand" && !dropped) {
            dropped = true;
            throw Object.assign(new Error("socket hang up"), { name: "TimeoutError" });
          }
          return out;
        },
        { step: "deserialize", name: "dropFirstAnswer" },
      );
      const flakyTable = new LeaseTable({ client: flaky, tableName: table.tableName, backoffBaseMs: 1 });
      const written = await flakyTable.checkpoint(lease, "a", "42");
      assert.ok(dropped);
      assert.deepEqual([written.checkpoint, written.leaseCounter], ["42", lease.leaseCounter + 1]);
      assert.equal(flakyTable.usage.conditionFailures, 1, "the retry did meet its own first attempt");
    });
  });

  describe("coordinators on 16 shards", () => {
    const LEASE_MS = 1_500;
    const RENEW_MS = 500;
    const coordinators: LeaseCoordinator[] = [];
    const coordinator = (table: LeaseTable, workerId: string) => {
      const c = new LeaseCoordinator({ table, workerId, leaseDurationMs: LEASE_MS, renewIntervalMs: RENEW_MS });
      coordinators.push(c);
      return c;
    };
    afterEach(async () => {
      await Promise.all(coordinators.splice(0).map((c) => c.stop()));
    });

    it("balance to 5 or 6 leases each for 3 workers joining one after another, handing leases over gracefully above the share", async () => {
      const table = await freshTable(db, 16);
      const [a, b, c] = ["a", "b", "c"].map((id) => coordinator(table, id));
      // Graceful hand-over: the worker releases when asked (its reader would checkpoint first).
      const released: string[] = [];
      for (const w of [a, b, c]) w.on("release", (key) => void w.release(key).then(() => released.push(key)));
      await a.start();
      await until("a to hold all 16", 10_000, async () => (await owners(table)).get("a") === 16 || undefined);
      await b.start();
      await until("a and b at 8 each", 20_000, async () => {
        const o = await owners(table);
        return o.get("a") === 8 && o.get("b") === 8;
      });
      await c.start();
      const start = Date.now();
      const settled = await until("three workers at 5 or 6 each", 30_000, async () => {
        const o = await owners(table);
        const counts = ["a", "b", "c"].map((w) => o.get(w) ?? 0);
        return counts.every((n): boolean => n === 5 || n === 6) && counts.reduce((x, y) => x + y) === 16 ? counts : undefined;
      });
      // And it stays so: nothing moves for a few more rounds.
      const before = (await table.list()).map((l) => `${l.leaseKey}=${l.leaseOwner}`);
      await sleep(4 * RENEW_MS);
      assert.deepEqual((await table.list()).map((l) => `${l.leaseKey}=${l.leaseOwner}`), before);
      assert.deepEqual([...settled].sort(), [5, 5, 6]);
      assert.ok(released.length > 0, "no worker handed a lease over gracefully");
      console.log(`      balanced ${settled.join("/")} ${Date.now() - start} ms after the third worker joined; ${released.length} graceful hand-overs`);
    });

    it("children are leased only after their parent's end is checkpointed, by another worker", async () => {
      const table = await freshTable(db);
      const a = coordinator(table, "a");
      await a.syncShards([{ shardId: "parent" }, { shardId: "left", parentShardId: "parent" }, { shardId: "right", parentShardId: "parent" }]);
      await a.start();
      await until("a to take the parent", 5_000, () => a.heldKeys().includes("parent"));
      const b = coordinator(table, "b");
      await b.start();
      await sleep(3 * RENEW_MS);
      assert.deepEqual([a.heldKeys(), b.heldKeys()], [["parent"], []], "a child was leased before its parent ended");
      assert.equal((await table.get("left"))?.checkpoint, "TRIM_HORIZON");
      await a.finish("parent");
      assert.equal((await table.get("parent"))?.checkpoint, SHARD_END);
      await until("both children leased", 5_000, () => a.heldKeys().length + b.heldKeys().length === 2);
      assert.deepEqual([...a.heldKeys(), ...b.heldKeys()].sort(), ["left", "right"]);
    });

    it("the table unreachable for one worker: it keeps its leases until the lease duration after its last renewal, and nobody takes them before", async () => {
      const table = await freshTable(db, 3);
      // Worker a's own client, which can be cut off from the table (every call fails as a refused connection).
      const link = cuttableLeaseClient(db.endpoint);
      const cutClient = link.client;
      const a = coordinator(new LeaseTable({ client: cutClient, tableName: table.tableName, attempts: 2, backoffBaseMs: 1 }), "a");
      await a.start();
      await until("a to hold all 3", 5_000, () => a.heldKeys().length === 3 || undefined);
      await sleep(RENEW_MS); // a renewed at least once more
      link.cut = true;
      const cutAt = performance.now();
      // b joins now: it finds a above its share, live as far as b can tell, and nothing free.
      const b = coordinator(table, "b");
      const takenAt = new Map<string, number>();
      b.on("acquired", (lease) => takenAt.set(lease.leaseKey, performance.now()));
      const lostAt = new Map<string, number>();
      a.on("lost", (key) => lostAt.set(key, performance.now()));
      await b.start();
      // a still trusts its leases for a while: it reads on while it cannot renew.
      await sleep(LEASE_MS / 2);
      assert.equal(a.heldKeys().length, 3, "a gave its leases up long before they could expire");
      assert.equal(takenAt.size, 0, "b took a lease a still trusts");
      await until("b to take all 3", 10_000, () => takenAt.size === 3 || undefined);
      for (const key of takenAt.keys()) {
        // a stopped trusting each lease (holds() false) before b took it: never two owners at once.
        const stoppedTrusting = lostAt.get(key);
        assert.ok(!a.holds(key), `a still trusts ${key}`);
        if (stoppedTrusting !== undefined) assert.ok(stoppedTrusting <= takenAt.get(key)!, `b took ${key} ${Math.round(stoppedTrusting - takenAt.get(key)!)} ms before a gave it up`);
        assert.ok(takenAt.get(key)! - cutAt >= LEASE_MS - RENEW_MS, `b took ${key} only ${Math.round(takenAt.get(key)! - cutAt)} ms after a was cut off`);
      }
      link.cut = false;
    });

    it("a frozen worker (its renewals stopped) is fenced: its late checkpoint is refused by the table, and it learns it lost the lease", async () => {
      const table = await freshTable(db, 2);
      const a = coordinator(table, "a");
      await a.start();
      await until("a to hold both", 5_000, () => a.heldKeys().length === 2);
      await a.checkpoint(shard(0), "100");
      await a.stop(); // frozen: no more renewals, but its bookkeeping still says it holds the leases
      const b = coordinator(table, "b");
      await b.start();
      const waited = Date.now();
      await until("b to take both", 10_000, () => b.heldKeys().length === 2);
      assert.ok(Date.now() - waited >= LEASE_MS - 100, "b took the leases before they could have expired");
      const lost: string[] = [];
      a.on("lost", (key) => lost.push(key));
      await assert.rejects(a.checkpoint(shard(0), "999"), LeaseLostError);
      assert.deepEqual(lost, [shard(0)]);
      const row = (await table.get(shard(0)))!;
      assert.deepEqual([row.leaseOwner, row.checkpoint], ["b", "100"]);
    });
  });

  describe("runGroup", () => {
    it("hands shards over gracefully: the new owner starts exactly at the old owner's last checkpoint, and shard ends free the children", async () => {
      const table = await freshTable(db);
      const shards = [
        { shardId: "p0" },
        { shardId: "p1" },
        { shardId: "p2" },
        { shardId: "p3" },
        { shardId: "c0", parentShardId: "p0" },
      ];
      const handedOver: Array<{ key: string; at: string; index: number }> = [];
      const coordinators = new Map<string, LeaseCoordinator>();
      const started: Array<{ worker: string; key: string; from: string }> = [];
      const worker = (id: string) => {
        const coordinator = new LeaseCoordinator({ table, workerId: id, leaseDurationMs: 1_500, renewIntervalMs: 500 });
        let n = 0;
        coordinators.set(id, coordinator);
        return runGroup({
          coordinator,
          listShards: async () => shards,
          read: async (lease: Lease, ctx) => {
            started.push({ worker: id, key: lease.leaseKey, from: lease.checkpoint });
            // p0 ends after a few records; the others run until stopped or handed over.
            for (let i = 0; ; i++) {
              await sleep(30);
              if (lease.leaseKey === "p0" && i === 3) return "end";
              if (ctx.signal.aborted) {
                const at = `${id}-${++n}`;
                await ctx.checkpoint(at); // handover and stop: checkpoint first, then return
                if (ctx.signal.reason === "handover") handedOver.push({ key: lease.leaseKey, at, index: started.length });
                return;
              }
              await ctx.checkpoint(`${id}-${++n}`);
            }
          },
        });
      };
      const runs: Array<Awaited<ReturnType<typeof worker>>> = [];
      try {
        const a = await worker("a");
        runs.push(a);
        await until("a to read the child after its parent's end", 10_000, () => a.reading().includes("c0") || undefined);
        assert.equal((await table.get("p0"))?.checkpoint, SHARD_END);
        assert.deepEqual(a.reading(), ["c0", "p1", "p2", "p3"]);
        assert.ok(started.findIndex((x) => x.key === "c0") > started.findIndex((x) => x.key === "p0"));
        const b = await worker("b");
        runs.push(b);
        await until("two each", 15_000, () => (a.reading().length === 2 && b.reading().length === 2) || undefined);
        // Balancing hands over gracefully when a worker sees itself above its share (unless the newcomer's
        // steals got there first); ask for one hand-over as the coordinator would, to see it every time.
        const key = a.reading()[0];
        coordinators.get("a")!.emit("release", key);
        await until(`${key} handed over and read again`, 10_000, () => handedOver.some((h) => h.key === key && started.slice(h.index).some((x) => x.key === key)) || undefined);
        // Whoever reads a handed-over shard next starts where its last reader checkpointed.
        for (const h of handedOver) {
          const next = started.slice(h.index).find((x) => x.key === h.key);
          if (next) assert.equal(next.from, h.at, `${next.worker} started ${h.key} at ${next.from}, not where it was checkpointed at the hand-over (${h.at})`);
        }
        assert.ok(handedOver.some((h) => started.slice(h.index).some((x) => x.key === h.key)), "no handed-over shard was read again");
        await Promise.all(runs.splice(0).map((r) => r.stop()));
        // Stopped workers leave every lease free, checkpointed.
        for (const l of await table.list()) assert.equal(l.leaseOwner, undefined, l.leaseKey);
      } finally {
        await Promise.all(runs.map((r) => r.stop()));
      }
    });
  });

  describe("worker processes", () => {
    const LEASE_MS = 2_000;
    const RENEW_MS = 600;
    const children: ChildProcess[] = [];
    const lines = new Map<string, Array<Record<string, unknown>>>();
    const startWorker = (table: LeaseTable, id: string) => {
      const child = spawn(process.execPath, ["-r", TS_NODE_REGISTER, "tests/helpers/lease-worker.ts", db.endpoint, table.tableName, id, String(LEASE_MS), String(RENEW_MS)], {
        cwd: PROJECT_DIR,
        stdio: ["ignore", "pipe", "inherit"],
      });
      children.push(child);
      lines.set(id, []);
      let buffer = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          try {
            lines.get(id)!.push(JSON.parse(line));
          } catch {
            // not ours
          }
        }
      });
      return child;
    };
    afterEach(() => {
      for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    });

    it("kill -9 of one of 3 workers: the survivors take all its leases within the lease duration plus one renewal interval", async () => {
      const table = await freshTable(db, 16);
      const workers = ["w1", "w2", "w3"].map((id) => startWorker(table, id));
      await until("3 workers balanced", 60_000, async () => {
        const o = await owners(table);
        return ["w1", "w2", "w3"].every((w) => [5, 6].includes(o.get(w) ?? 0));
      }, 200);
      const victim = (await table.list()).filter((l) => l.leaseOwner === "w2").map((l) => l.leaseKey);
      workers[1].kill("SIGKILL");
      const killed = Date.now();
      await until("every lease of w2 taken", 20_000, async () => (await table.list()).every((l) => l.leaseOwner !== "w2"), 20);
      const took = Date.now() - killed;
      const o = await owners(table);
      assert.deepEqual([...o.keys()].sort(), ["w1", "w3"]);
      assert.deepEqual([o.get("w1"), o.get("w3")], [8, 8]);
      console.log(`      ${victim.length} leases of the killed worker taken ${took} ms after kill -9 (bound ${LEASE_MS + RENEW_MS} ms)`);
      // The bound is the lease duration plus one renewal interval, plus the scan and the take: on a loaded
      // 2-core machine those took up to ~0.4 s more (3.0 s once under npm test), so allow a second for them;
      // the exact times are the bench's (section 7), the test guards that takeover happens and not too early.
      assert.ok(took <= LEASE_MS + RENEW_MS + 1_000, `took ${took} ms`);
      assert.ok(took >= LEASE_MS - RENEW_MS - 100, `took ${took} ms: before the leases could have expired`);
    });

    it("a frozen worker (SIGSTOP) loses its leases; woken up (SIGCONT), its late checkpoints are refused and never land", async () => {
      const table = await freshTable(db, 4);
      const frozen = startWorker(table, "f");
      await until("f to hold all 4", 20_000, async () => (await owners(table)).get("f") === 4, 100);
      frozen.kill("SIGSTOP");
      const stoppedAt = Date.now();
      startWorker(table, "g");
      await until("g to hold all 4", 20_000, async () => (await owners(table)).get("g") === 4, 50);
      // g checkpoints too, so the rows now hold g's values.
      await until("g checkpointed every shard", 5_000, async () => (await table.list()).every((l) => String(l.checkpoint).startsWith("g:")), 50);
      frozen.kill("SIGCONT");
      const wokenAt = Date.now();
      const f = () => lines.get("f")!.filter((l) => Number(l.t) >= wokenAt - 50);
      // Woken up, it tries the checkpoints it had under way for all four shards: every one is refused.
      await until("f to report its checkpoints refused", 10_000, () => new Set(f().filter((l) => l.event === "refused").map((l) => l.key)).size === 4 || undefined, 50);
      const refused = f().filter((l) => l.event === "refused");
      assert.ok(refused.every((l) => l.lost === true), JSON.stringify(refused));
      console.log(`      refused after waking: ${refused.map((l) => (String(l.reason).includes("now held by") ? "by the table" : "by its own bookkeeping")).join(", ")}`);
      // No checkpoint of f went through for a shard until f had taken that shard again (the two then share the 4).
      for (const l of f().filter((x) => x.event === "checkpoint")) {
        const retaken = f().find((x) => x.event === "acquired" && x.key === l.key && Number(x.t) <= Number(l.t));
        assert.ok(retaken, `f checkpointed ${l.key} (${l.value}) without holding it again`);
      }
      assert.ok(lines.get("f")!.some((l) => l.event === "lost"), "the frozen worker never learnt it lost its leases");
      frozen.kill("SIGKILL");
      await sleep(LEASE_MS + 2 * RENEW_MS);
      // With f gone for good, g holds everything again.
      await until("g to hold all 4 again", 10_000, async () => (await owners(table)).get("g") === 4 || undefined, 50);
    });
  });

  describe("the local lake", () => {
    it("starts the DynamoDB stand-in with every declared group's lease table, and lists its endpoint in the catalog", async () => {
      const config = parseLakeConfig(
        { name: "grp", layers: { ingest: { segments: { persons: { shards: 2, consumers: ["fast"], groups: ["billing", { name: "fraud", consumer: "fast" }] }, orders: {} } } } },
        { project: "datalake", stack: "test" },
      );
      const lake = await startLocalLake({ config, persist: false });
      try {
        assert.ok(lake.dynamodb, "no DynamoDB stand-in");
        const groups = lake.catalog["ingest/persons"].groups!;
        assert.deepEqual(Object.keys(groups).sort(), ["billing", "fraud"]);
        for (const g of Object.values(groups)) {
          assert.equal(g.endpoint, lake.dynamodb.endpoint);
          const table = new LeaseTable({ client: createLeaseClient({ endpoint: g.endpoint }), tableName: g.tableName });
          await table.describe();
          assert.deepEqual(await table.list(), []);
        }
        assert.equal(groups.fraud.consumerName, "fast");
        assert.ok(lake.services.some((s) => s.aws === "Amazon DynamoDB"));
      } finally {
        await lake.stop();
      }
      // A lake without groups runs no DynamoDB at all.
      const plain = await startLocalLake({ config: parseLakeConfig({ name: "plain", layers: { ingest: { segments: { persons: {} } } } }, { project: "datalake", stack: "test" }), persist: false });
      try {
        assert.equal(plain.dynamodb, undefined);
      } finally {
        await plain.stop();
      }
    });
  });
});
