/**
 * The consumer group scenario of issue 19, for tests of any size: a local lake with one segment of
 * `shards` shards and group `billing`; 3 `subscribe --group` worker processes; `records` records
 * published through the publisher library while one worker is killed with SIGKILL midway and a fourth
 * joins; then every record must be in some worker's output, every duplicate explained by a takeover
 * (tests/helpers/group-deliveries.ts), and the live workers must end balanced.
 *
 * Records are `r-<i>` (not JSON, so the subscriber writes its envelope with the sequence number) under
 * partition key `k-<i>`; a line's shard is where its partition key hashes to. GROUP_TEST_LOG=<file> writes
 * every worker's log there, one line each, with seconds since the kill.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ListShardsCommand } from "@aws-sdk/client-kinesis";
import { parseLakeConfig } from "../../model/config";
import { LocalLake, startLocalLake } from "../../local/lake";
import { createLeaseClient, Lease, LeaseTable } from "../../runtime/leases";
import { publish, PublishRecord, PublishSummary } from "../../runtime/producer/publisher";
import { hashKeyOf, ShardMap } from "../../runtime/producer/shard-map";
import { GroupWorkerProcess } from "../../testkit/group-worker-process";
import { checkDeliveries, Delivery, DeliveryReport, Takeover } from "./group-deliveries";
import { sleep, until } from "./until";

export const SEGMENT = "ingest/persons";
export const GROUP = "billing";


/** A local lake with the group's segment, its catalog file, the workers' environment and the lease table. */
export class GroupLake {
  readonly workers: GroupWorkerProcess[] = [];
  private constructor(
    readonly dir: string,
    readonly lake: LocalLake,
    readonly env: NodeJS.ProcessEnv,
    readonly table: LeaseTable,
    private readonly leaseClient: DynamoDBClient,
    readonly shards: number,
  ) {}

  static async start(shards: number): Promise<GroupLake> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "group-"));
    const config = parseLakeConfig({ name: "grp", layers: { ingest: { segments: { persons: { shards, groups: [GROUP] } } } } }, { project: "datalake", stack: "test" });
    const lake = await startLocalLake({ config, persist: false, dataDir: path.join(dir, "lake") });
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(lake.catalog));
    const env = { PATH: process.env.PATH, HOME: dir, AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL_KINESIS: lake.endpoint, DATALAKE_CATALOG: path.join(dir, "catalog.json") };
    const group = lake.catalog[SEGMENT].groups![GROUP];
    const client = createLeaseClient({ endpoint: group.endpoint });
    return new GroupLake(dir, lake, env, new LeaseTable({ client, tableName: group.tableName }), client, shards);
  }

  get streamName(): string {
    return this.lake.catalog[SEGMENT].streamName;
  }

  startWorker(id: string, leaseSeconds: number): GroupWorkerProcess {
    const w = new GroupWorkerProcess({ dir: this.dir, env: this.env, id, segment: SEGMENT, group: GROUP, leaseSeconds });
    this.workers.push(w);
    return w;
  }

  /** Leases held per owner. */
  async owners(leases?: Lease[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const l of leases ?? (await this.table.list())) if (l.leaseOwner) counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
    return counts;
  }

  /** True when exactly `live` hold every lease, each ⌊shards / n⌋ or ⌈shards / n⌉. */
  balanced(counts: Map<string, number>, live: string[]): boolean {
    const lo = Math.floor(this.shards / live.length);
    const hi = Math.ceil(this.shards / live.length);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    return total === this.shards && counts.size === live.length && live.every((w) => (counts.get(w) ?? 0) >= lo && (counts.get(w) ?? 0) <= hi);
  }

  async stop(): Promise<void> {
    for (const w of this.workers) w.child.kill("SIGKILL");
    await Promise.all(this.workers.map((w) => w.exited));
    this.leaseClient.destroy();
    await this.lake.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface KillAndJoinOptions {
  records: number;
  leaseSeconds: number;
  /** Pack records into KPL aggregated records of at most this many bytes (the workers de-aggregate). @default none */
  aggregateMaxBytes?: number;
  /** Deadline for every record to be seen after the publisher finished. */
  drainTimeoutMs: number;
  /** Records published before any worker starts (less than 30 % of `records`), then `beforeWorkers` runs. @default 0 */
  prePublish?: number;
  beforeWorkers?: () => Promise<void>;
}

export interface KillAndJoinResult {
  report: DeliveryReport;
  takeovers: Takeover[];
  /** Shards w2 held when it was killed. */
  killedHeld: number;
  /** From SIGKILL to the last of w2's shards being read again (a taker's reader started). */
  takeoverMs: number;
  /** From w4's start to the live workers holding 5 or 6 leases each (after the takeover). */
  balancedAfterJoinMs: number;
  /** From the start of publishing to every record seen. */
  allSeenMs: number;
  /** From the publisher's end to every record seen. */
  drainMs: number;
  published: PublishSummary;
  leases: Map<string, number>;
  linesPerWorker: Record<string, number>;
  totalMs: number;
}

/** The scenario; asserts what issue 19 asks and returns the figures. Leaves w1, w3 and w4 running. */
export async function killAndJoin(g: GroupLake, options: KillAndJoinOptions): Promise<KillAndJoinResult> {
  const started = Date.now();
  const { records: N, leaseSeconds } = options;
  const shardMap = new ShardMap((await g.lake.client.send(new ListShardsCommand({ StreamName: g.streamName }))).Shards ?? []);
  const shardOfKey = (pk: string) => shardMap.shardOf(hashKeyOf(pk))!;
  const ids = new Set<string>();
  const deliveries: Delivery[] = [];
  const lines: Record<string, number> = {};
  /** The highest record index each worker wrote. */
  const newest: Record<string, number> = {};
  const collect = () => {
    for (const w of g.workers) {
      for (const line of w.newLines()) {
        const e = JSON.parse(line) as { partitionKey: string; sequenceNumber: string; dataBase64: string };
        assert.equal(Buffer.from(e.dataBase64, "base64").toString(), `r-${e.partitionKey.slice(2)}`, `a line that is not the record it names: ${line}`);
        deliveries.push({ worker: w.id, id: e.partitionKey, shardId: shardOfKey(e.partitionKey), sequenceNumber: e.sequenceNumber });
        ids.add(e.partitionKey);
        lines[w.id] = (lines[w.id] ?? 0) + 1;
        newest[w.id] = Math.max(newest[w.id] ?? -1, Number(e.partitionKey.slice(2)));
      }
    }
  };

  let killedAt = 0;
  let killedHeld: string[] = [];
  let w4Started = 0;
  // The lease table every 250 ms: who held what when, and the last checkpoint each owner wrote.
  const lastCheckpoint = new Map<string, string>(); // `${shard} ${owner}` -> checkpoint
  let latest: Lease[] = [];
  let polling = true;
  const live = ["w1", "w3", "w4"];
  /** Since when the live workers have been balanced (undefined while they are not, or before w4 started). */
  let balancedSince: number | undefined;
  const poller = (async () => {
    while (polling) {
      latest = await g.table.list().catch(() => latest);
      const t = Date.now();
      for (const l of latest) if (l.leaseOwner) lastCheckpoint.set(`${l.leaseKey} ${l.leaseOwner}`, l.checkpoint);
      if (w4Started > 0 && g.balanced(await g.owners(latest), live)) balancedSince ??= t;
      else balancedSince = undefined;
      await sleep(250);
    }
  })();

  const record = (i: number): PublishRecord => ({ data: Buffer.from(`r-${i}`), partitionKey: `k-${i}` });
  const publishOptions = { aggregate: options.aggregateMaxBytes ? { maxBytes: options.aggregateMaxBytes } : false } as const;
  const pre = options.prePublish ?? 0;
  assert.ok(pre < N * 0.3, "prePublish must be below 30 % of the records");
  if (pre > 0) assert.equal((await publish(g.lake.client, g.streamName, Array.from({ length: pre }, (_, i) => record(i)), publishOptions)).sent, pre);
  await options.beforeWorkers?.();
  const [, w2] = ["w1", "w2", "w3"].map((id) => g.startWorker(id, leaseSeconds));
  const stateOf = (w: GroupWorkerProcess) => `${w.id}'s log:\n${w.stderr.split("\n").slice(-30).join("\n")}`;
  async function* source(): AsyncGenerator<PublishRecord> {
    for (let i = pre; i < N; i++) {
      if (i === Math.floor(N * 0.3)) {
        // The group balanced, and w2 has checkpointed what it wrote at least once, before it is killed.
        await until("w1, w2, w3 balanced with a checkpoint of w2's", 60_000, async () => {
          collect();
          return g.balanced(await g.owners(latest), ["w1", "w2", "w3"]) && latest.some((l) => l.leaseOwner === "w2" && /^\d+$/.test(l.checkpoint));
        }).catch((err) => {
          throw new Error(`${err.message}; leases ${JSON.stringify(latest)}; ${stateOf(w2)}`);
        });
      }
      if (i === Math.floor(N * 0.5)) {
        // Midway, records flowing: w2 dies as soon as it writes records published after the group balanced,
        // so it most likely dies with records written past its last checkpoint (every 2 s); w4 joins.
        await until("w2 writing records published after the group balanced", 60_000, () => (collect(), (newest.w2 ?? -1) >= Math.floor(N * 0.3)), 50);
        killedHeld = latest.filter((l) => l.leaseOwner === "w2").map((l) => l.leaseKey);
        killedAt = Date.now();
        w2.child.kill("SIGKILL");
        w4Started = Date.now();
        g.startWorker("w4", leaseSeconds);
      }
      if (i === Math.floor(N * 0.75)) {
        await until("w4 holds a lease", 60_000, async () => (collect(), latest.some((l) => l.leaseOwner === "w4")));
      }
      yield record(i);
    }
  }
  const published = await publish(g.lake.client, g.streamName, source(), publishOptions);
  assert.equal(published.sent, N - pre, JSON.stringify(published));
  const publishedAt = Date.now();

  await until(`all ${N} records in some worker's output`, options.drainTimeoutMs, () => (collect(), ids.size >= N), 500).catch((err) => {
    throw new Error(`${err.message} (${ids.size} seen; lines ${JSON.stringify(lines)})`);
  });
  const allSeenAt = Date.now();
  const allSeenMs = allSeenAt - started;
  for (let i = 0; i < N; i++) assert.ok(ids.has(`k-${i}`), `record r-${i} reached no worker`);
  assert.equal(ids.size, N, "records nobody published");

  const balancedAt = await until("the live workers balanced (no lease of w2's left)", 90_000, () => balancedSince, 250).catch((err) => {
    throw new Error(`${err.message}; leases ${JSON.stringify(latest.map((l) => [l.leaseKey, l.leaseOwner]))}`);
  });
  polling = false;
  await poller;
  collect();
  // Still balanced now, straight from the table.
  const leases = await g.owners();
  assert.ok(g.balanced(leases, live), `the live workers not balanced at the end: ${JSON.stringify(Object.fromEntries(leases))}`);
  if (process.env.GROUP_TEST_LOG) {
    const all = g.workers.flatMap((w) => w.log.map((l) => `${((l.t - killedAt) / 1000).toFixed(2)} ${w.id} ${l.line}`));
    fs.writeFileSync(process.env.GROUP_TEST_LOG, all.sort((a, b) => parseFloat(a) - parseFloat(b)).join("\n"));
  }

  // Duplicates: every extra copy explained by a takeover, from the checkpoint the taker started at.
  const starts = g.workers.flatMap((w) => w.shardStarts());
  const takeovers: Takeover[] = starts.filter((s) => s.takenFrom !== undefined).map((s) => ({ shardId: s.shardId, from: s.takenFrom!, by: s.worker, checkpoint: s.checkpoint }));
  const report = checkDeliveries(deliveries, takeovers);
  assert.deepEqual(report.unexplained, [], `duplicates no takeover explains (takeovers: ${JSON.stringify(takeovers)})`);
  // Every shard w2 held was taken over, from no earlier a checkpoint than the table last showed for w2.
  for (const shard of killedHeld) {
    const t = takeovers.find((x) => x.shardId === shard && x.from === "w2");
    assert.ok(t, `${shard}, held by w2 at the kill, was not taken over from it (takeovers ${JSON.stringify(takeovers)})`);
    const seen = lastCheckpoint.get(`${shard} w2`);
    if (seen && /^\d+$/.test(seen)) assert.ok(/^\d+$/.test(t.checkpoint) && BigInt(t.checkpoint) >= BigInt(seen), `${shard} taken from ${t.checkpoint}, before w2's checkpoint ${seen}`);
  }
  const w2Reads = starts.filter((s) => s.takenFrom === "w2");
  const takeoverMs = Math.max(...w2Reads.map((s) => s.t)) - killedAt;
  return {
    report,
    takeovers,
    killedHeld: killedHeld.length,
    takeoverMs,
    balancedAfterJoinMs: balancedAt - w4Started,
    allSeenMs,
    drainMs: allSeenAt - publishedAt,
    published,
    leases,
    linesPerWorker: lines,
    totalMs: Date.now() - started,
  };
}

/** One line of figures for the test's output. */
export function describeRun(r: KillAndJoinResult, records: number): string {
  return (
    `${records} records (the publisher's part: ${r.published.sent} in ${r.published.kinesisRecords} Kinesis records at ${r.published.recordsPerSecond}/s); ` +
    `${r.report.duplicates} delivered twice, bound ${Object.values(r.report.sinceCheckpointByShard).reduce((a, b) => a + b, 0)} (records w2 wrote past the checkpoints its ${r.killedHeld} shards were taken from); ` +
    `w2's shards read again ${(r.takeoverMs / 1000).toFixed(1)} s after SIGKILL; balanced ${(r.balancedAfterJoinMs / 1000).toFixed(1)} s after w4 started; ` +
    `all seen ${(r.allSeenMs / 1000).toFixed(1)} s after the start (${(r.drainMs / 1000).toFixed(1)} s after the publisher's end); leases ${JSON.stringify(Object.fromEntries(r.leases))}; lines ${JSON.stringify(r.linesPerWorker)}; ${(r.totalMs / 1000).toFixed(1)} s in all`
  );
}
