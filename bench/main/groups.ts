/**
 * Section 7: consumer groups (issue 19), with real `subscribe --group` worker processes on a 16-shard
 * segment of the local lake (kinesis-local, dynalite behind a metering proxy, testkit/dynamodb-meter.ts):
 *
 *   takeover  3 workers balanced, one killed with SIGKILL: time until the last of its shards is read
 *             again (a taker's reader started, as its log says), against lease duration + one renewal
 *   join      then 2 workers holding 8 each, a third starts: time from its spawn to 6/5/5
 *   cost      1, 4 and 16 workers, default timing (lease 10 s), balanced, records trickling into every
 *             shard: DynamoDB requests and the request units they consume, per shard per minute
 */
import { ListShardsCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseLakeConfig } from "../../model/config";
import { LocalLake, startLocalLake } from "../../local/lake";
import { createLeaseClient, LeaseTable } from "../../runtime/leases";
import { classifyLeaseRequest, startDynamoDbMeter, DynamoDbMeter, MeterCounts } from "../../testkit/dynamodb-meter";
import { GroupWorkerProcess } from "../../testkit/group-worker-process";
import { quick } from "./options";
import { say } from "./report";

const SHARDS = 16;
const SEGMENT = "ingest/persons";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const s1 = (ms: number) => (ms / 1000).toFixed(1);

interface Bench {
  dir: string;
  lake: LocalLake;
  meter: DynamoDbMeter;
  env: NodeJS.ProcessEnv;
  tables: Map<string, LeaseTable>;
}

async function owners(b: Bench, group: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const l of await b.tables.get(group)!.list()) if (l.leaseOwner) counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
  return counts;
}

function balanced(counts: Map<string, number>, live: string[]): boolean {
  const lo = Math.floor(SHARDS / live.length);
  const hi = Math.ceil(SHARDS / live.length);
  const total = [...counts.values()].reduce((a, c) => a + c, 0);
  return total === SHARDS && counts.size === live.length && live.every((w) => (counts.get(w) ?? 0) >= lo && (counts.get(w) ?? 0) <= hi);
}

/** Polls every 100 ms until `probe` holds; the time it first held, or an error naming `what`. */
async function until(what: string, timeoutMs: number, probe: () => Promise<boolean> | boolean): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return Date.now();
    if (Date.now() > end) throw new Error(`timed out after ${s1(timeoutMs)} s waiting for ${what}`);
    await sleep(100);
  }
}

function start(b: Bench, group: string, id: string, leaseSeconds: number, from = "trim-horizon"): GroupWorkerProcess {
  return new GroupWorkerProcess({ dir: b.dir, env: b.env, id, segment: SEGMENT, group, leaseSeconds, args: ["--from", from] });
}

async function stopAll(workers: GroupWorkerProcess[]): Promise<void> {
  for (const w of workers) w.child.kill("SIGINT");
  const deadline = setTimeout(() => workers.forEach((w) => w.child.kill("SIGKILL")), 30_000);
  await Promise.all(workers.map((w) => w.exited));
  clearTimeout(deadline);
}

interface TakeoverRun {
  takeoverMs: number;
  orphans: number;
  joinFirstMs: number;
  joinBalancedMs: number;
}

/** One kill-and-join run in its own group: 3 workers, kill w2, then w4 joins w1 and w3. */
async function takeoverRun(b: Bench, group: string, leaseSeconds: number): Promise<TakeoverRun> {
  const workers = ["w1", "w2", "w3"].map((id) => start(b, group, id, leaseSeconds));
  try {
    await until("3 workers balanced", 180_000, async () => balanced(await owners(b, group), ["w1", "w2", "w3"]));
    const orphans = [...(await b.tables.get(group)!.list())].filter((l) => l.leaseOwner === "w2").map((l) => l.leaseKey);
    const killedAt = Date.now();
    workers[1].child.kill("SIGKILL");
    const readAgain = (shard: string) => workers.flatMap((w) => w.shardStarts()).find((s) => s.shardId === shard && s.t >= killedAt && s.worker !== "w2");
    await until("every shard of the killed worker read again", 120_000, () => orphans.every((s) => readAgain(s) !== undefined));
    const takeoverMs = Math.max(...orphans.map((s) => readAgain(s)!.t)) - killedAt;
    await until("the 2 survivors balanced", 120_000, async () => balanced(await owners(b, group), ["w1", "w3"]));
    const w4 = start(b, group, "w4", leaseSeconds);
    workers.push(w4);
    const firstAt = await until("w4 holding a lease", 120_000, async () => ((await owners(b, group)).get("w4") ?? 0) > 0);
    const balancedAt = await until("w1, w3, w4 balanced", 120_000, async () => balanced(await owners(b, group), ["w1", "w3", "w4"]));
    return { takeoverMs, orphans: orphans.length, joinFirstMs: firstAt - w4.startedAt, joinBalancedMs: balancedAt - w4.startedAt };
  } finally {
    await stopAll(workers.filter((w) => w.id !== "w2"));
  }
}

/** Requests per shard per minute over a window in the balanced state, n workers, records trickling into every shard. */
async function costRun(b: Bench, group: string, n: number, windowMs: number): Promise<{ counts: MeterCounts; minutes: number; warmMs: number }> {
  const ids = Array.from({ length: n }, (_, i) => `c${i + 1}`);
  const t0 = Date.now();
  const workers = ids.map((id) => start(b, group, id, 10, "latest"));
  const shards = (await b.lake.client.send(new ListShardsCommand({ StreamName: b.lake.catalog[SEGMENT].streamName }))).Shards ?? [];
  let trickling = true;
  // 2 records per shard per second: every shard's checkpoint moves at each 2 s checkpoint interval.
  const trickle = (async () => {
    while (trickling) {
      const Records = shards.map((s) => ({ Data: Buffer.from("x"), PartitionKey: "k", ExplicitHashKey: s.HashKeyRange!.StartingHashKey! }));
      await b.lake.client.send(new PutRecordsCommand({ StreamName: b.lake.catalog[SEGMENT].streamName, Records }), { abortSignal: AbortSignal.timeout(5_000) }).catch(() => undefined);
      await sleep(500);
    }
  })();
  try {
    await until(`${n} workers balanced`, 240_000, async () => balanced(await owners(b, group), ids));
    const warmMs = Date.now() - t0;
    b.meter.reset();
    const from = Date.now();
    await sleep(windowMs);
    const counts = b.meter.counts();
    return { counts, minutes: (Date.now() - from) / 60_000, warmMs };
  } finally {
    trickling = false;
    await trickle;
    await stopAll(workers);
  }
}

const sum = (m: Record<string, number>, keys?: string[]) => Object.entries(m).filter(([k]) => !keys || keys.includes(k)).reduce((a, [, v]) => a + v, 0);
const WRITES = ["RenewLease", "Checkpoint", "TakeLease", "ReleaseLease", "RequestHandover", "CreateLease"];
const READS = ["Scan", "GetItem"];

async function setUp(groups: string[]): Promise<Bench> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-groups-"));
  const config = parseLakeConfig({ name: "bench", layers: { ingest: { segments: { persons: { shards: SHARDS, groups } } } } }, { project: "datalake", stack: "bench" });
  const lake = await startLocalLake({ config, persist: false, dataDir: path.join(dir, "lake") });
  const meter = await startDynamoDbMeter(lake.dynamodb!.endpoint, classifyLeaseRequest);
  // The workers reach the tables through the meter; the bench's own polls go straight to dynalite.
  const catalog = structuredClone(lake.catalog);
  for (const g of Object.values(catalog[SEGMENT].groups!)) g.endpoint = meter.endpoint;
  fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(catalog));
  const env = { PATH: process.env.PATH, HOME: dir, AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL_KINESIS: lake.endpoint, DATALAKE_CATALOG: path.join(dir, "catalog.json") };
  const client = createLeaseClient({ endpoint: lake.dynamodb!.endpoint });
  const tables = new Map(groups.map((g) => [g, new LeaseTable({ client, tableName: lake.catalog[SEGMENT].groups![g].tableName })]));
  return { dir, lake, meter, env, tables };
}

/** 7. Consumer groups: takeover, join, and what the lease table costs. */
export async function groups(): Promise<void> {
  say("## 7. Consumer groups: takeover, join, lease table cost (`subscribe --group` processes, local lake, 16 shards)");
  say();
  const leases = quick ? [3] : [10, 3];
  const runs = quick ? 1 : 2;
  const windowMs = (quick ? 20 : 60) * 1000;
  const takeoverGroups = leases.flatMap((l) => Array.from({ length: runs }, (_, r) => `t${l}-${r}`));
  const costGroups = [1, 4, 16].map((n) => `cost${n}`);
  const b = await setUp([...takeoverGroups, ...costGroups]);
  try {
    say("| lease duration (renewal every third) | kill -9 → last orphaned shard read again | in lease durations | bound: lease + renewal | join → first lease / balanced (8/8 → 6/5/5) |");
    say("| --- | --- | --- | --- | --- |");
    for (const l of leases) {
      const results: TakeoverRun[] = [];
      for (let r = 0; r < runs; r++) results.push(await takeoverRun(b, `t${l}-${r}`, l));
      const bound = l * 1000 + Math.floor((l * 1000) / 3);
      say(
        `| ${l} s | ${results.map((x) => `${s1(x.takeoverMs)} s (${x.orphans} shards)`).join(", ")} | ${results.map((x) => (x.takeoverMs / (l * 1000)).toFixed(2)).join(", ")} | ${s1(bound)} s (+ a scan) | ` +
          `${results.map((x) => `${s1(x.joinFirstMs)} / ${s1(x.joinBalancedMs)} s`).join(", ")} |`,
      );
    }
    say();
    say(`Cost: default timing (lease 10 s, renewal 3.3 s), balanced, 2 records/s into every shard (each shard's checkpoint moves at every 2 s checkpoint interval), ${s1(windowMs)} s window. Per shard per minute:`);
    say();
    say("| workers | renewals | checkpoints | other writes (take, release, hand-over) | refused writes | write units | scans | read units | balanced after |");
    say("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const n of [1, 4, 16]) {
      const { counts, minutes, warmMs } = await costRun(b, `cost${n}`, n, windowMs);
      const per = (x: number) => (x / minutes / SHARDS).toFixed(1);
      const c = counts.calls;
      const other = sum(c, ["TakeLease", "ReleaseLease", "RequestHandover", "CreateLease"]);
      // A refused conditional write answers with no units; it is billed like the write it was.
      const writeUnits = sum(counts.units, WRITES) + sum(counts.refused, WRITES);
      say(
        `| ${n} | ${per(c.RenewLease ?? 0)} | ${per(c.Checkpoint ?? 0)} | ${per(other)} | ${per(sum(counts.refused))} | ${per(writeUnits)} | ${per(c.Scan ?? 0)} | ${per(sum(counts.units, READS))} | ${s1(warmMs)} s |`,
      );
    }
    say();
    say(
      "Units as dynalite reports them (`ReturnConsumedCapacity`), DynamoDB's rules: a write of up to 1 KB is one write request unit, " +
        "a strongly consistent read one read unit per 4 KB (a scan: of all rows read, here 16 rows of ~200 B, one unit). " +
        "DescribeTable (once per worker start) is not a data request and not counted.",
    );
  } finally {
    await b.meter.stop();
    await b.lake.stop();
    fs.rmSync(b.dir, { recursive: true, force: true });
  }
  say();
}
