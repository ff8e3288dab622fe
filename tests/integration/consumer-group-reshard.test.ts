/**
 * Resharding under a running consumer group: three `subscribe --group` workers on a 4-shard segment of the
 * local lake while records are published continuously; shard 0 is split and shards 2 and 3 are merged.
 * Every record reaches some worker; at no time is a child leased (or read) before every parent's lease is
 * checkpointed at SHARD_END (whichever worker held it); the workers end holding the open shards' leases
 * balanced, and the closed parents' leases end at SHARD_END, held by nobody.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MergeShardsCommand, SplitShardCommand } from "@aws-sdk/client-kinesis";
import { parseLakeConfig } from "../../model/config";
import type { LocalLake } from "../../local/lake";
import { waitForActive } from "../../runtime/streams";
import { createLeaseClient, Lease, LeaseTable, SHARD_END } from "../../runtime/leases";
import { openShards, publish, seenIds, sleep, startWorker, until, watchTable, Worker, startGroupTestLake } from "../helpers/group-workers";

describe("a consumer group while its segment is resharded (subscribe --group, local lake)", function () {
  this.timeout(150_000);
  let dir: string;
  let lake: LocalLake;
  let env: NodeJS.ProcessEnv;
  const workers: Worker[] = [];
  let client: { destroy(): void } | undefined;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "group-reshard-"));
    const config = parseLakeConfig({ name: "gr", layers: { ingest: { segments: { clicks: { shards: 4, groups: ["g"] } } } } }, { project: "datalake", stack: "test" });
    ({ lake, env } = await startGroupTestLake(dir, config));
  });

  after(async () => {
    for (const w of workers) if (w.exitStatus() === undefined) w.child.kill("SIGKILL");
    client?.destroy();
    await lake?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("split one shard and merge two while 3 workers read and records keep coming: every record read, children only after their parents' SHARD_END, open shards' leases balanced", async () => {
    const started = Date.now();
    const stream = lake.catalog["ingest/clicks"].streamName;
    const entry = lake.catalog["ingest/clicks"].groups!.g;
    const dynamo = createLeaseClient({ endpoint: entry.endpoint });
    client = dynamo;
    const table = new LeaseTable({ client: dynamo, tableName: entry.tableName });
    // w1's stdout is a pipe the test can stop reading: a worker stuck on its output holds its parent shard open.
    workers.push(startWorker({ segment: "ingest/clicks", group: "g", id: "w1", leaseSeconds: 4, env, dir, pipeMargin: 0 }));
    for (const id of ["w2", "w3"]) workers.push(startWorker({ segment: "ingest/clicks", group: "g", id, leaseSeconds: 4, env, dir }));

    // Every snapshot of the table: a child with an owner, or past its start, needs every parent at SHARD_END.
    const violations: string[] = [];
    const endedAt = new Map<string, number>();
    const firstLeasedAt = new Map<string, number>();
    const watcher = watchTable(table, (rows: Lease[], at) => {
      const byKey = new Map(rows.map((r) => [r.leaseKey, r]));
      for (const r of rows) {
        if (r.checkpoint === SHARD_END && !endedAt.has(r.leaseKey)) endedAt.set(r.leaseKey, at);
        if (r.parentShardIds.length === 0) continue;
        if (r.leaseOwner !== undefined && !firstLeasedAt.has(r.leaseKey)) firstLeasedAt.set(r.leaseKey, at);
        const busy = r.leaseOwner !== undefined || r.checkpoint !== "TRIM_HORIZON";
        const open = r.parentShardIds.filter((p) => byKey.get(p)?.checkpoint !== SHARD_END);
        if (busy && open.length > 0) violations.push(`${at}: ${r.leaseKey} (${r.leaseOwner}, ${r.checkpoint}) while ${open.join(", ")} not at SHARD_END`);
      }
    }, 100);

    let n = 0;
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        await publish(lake, stream, Array.from({ length: 20 }, () => ({ id: `c-${n++}` })));
        await sleep(100);
      }
    })();
    try {
      await until("the 3 workers to share the 4 leases", 40_000, async () => {
        const counts = new Map<string, number>();
        for (const l of await table.list()) if (l.leaseOwner) counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
        return ["w1", "w2", "w3"].every((w) => (counts.get(w) ?? 0) >= 1) || undefined;
      }, 200);
      await sleep(2_000);
      // Split a shard w1 reads, merge two adjacent others; w1 stops reading its stdout first, and a burst of
      // 300 KB to the shard it reads fills the pipe: that shard's end waits until w1's output flows again.
      const shards = await openShards(lake, stream);
      const rows = await table.list();
      const splitIndex = shards.findIndex((s) => rows.find((r) => r.leaseKey === s.ShardId)?.leaseOwner === "w1");
      const pair = [[0, 1], [1, 2], [2, 3]].find((p) => !p.includes(splitIndex))!;
      const parent = shards[splitIndex];
      workers[0].child.stdout!.pause();
      await publish(lake, stream, Array.from({ length: 1_500 }, () => ({ id: `c-${n++}`, shard: parent, pad: 200 })));
      const low = BigInt(parent.HashKeyRange!.StartingHashKey!);
      const high = BigInt(parent.HashKeyRange!.EndingHashKey!);
      await lake.client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: parent.ShardId!, NewStartingHashKey: ((low + high + 1n) / 2n).toString() }));
      await waitForActive(lake.client, stream);
      await lake.client.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: shards[pair[0]].ShardId!, AdjacentShardToMerge: shards[pair[1]].ShardId! }));
      await waitForActive(lake.client, stream);
      // The workers' shard sync (every 10 s) creates the split's children while their parent is still being read.
      await until("the split's children in the table while their parent is read", 20_000, async () => {
        const now = await table.list();
        const children = now.filter((r) => r.parentShardIds.includes(parent.ShardId!));
        return children.length === 2 || undefined;
      }, 200);
      assert.notEqual((await table.get(parent.ShardId!))?.checkpoint, SHARD_END, "the parent ended before its children's leases existed: the test proves nothing");
      await sleep(3_000); // time for any worker to take a child it must not take yet
      workers[0].child.stdout!.resume();
      await sleep(5_000);
    } finally {
      publishing = false;
      await publisher;
    }
    const published = n;
    const open = (await openShards(lake, stream)).map((s) => s.ShardId!).sort();
    assert.equal(open.length, 4, `open shards after the split and the merge: ${open.join(", ")}`);

    const seen = await until(`all ${published} records written`, 60_000, () => {
      const s = seenIds(workers);
      return s.size >= published ? s : undefined;
    }, 500).catch((err) => {
      throw new Error(`${err.message}: ${seenIds(workers).size} written; logs:\n${workers.map((w) => `${w.id}:\n${w.err()}`).join("\n")}`);
    });
    for (let i = 0; i < published; i++) assert.ok(seen.has(`c-${i}`), `c-${i} reached no worker`);

    // Balanced over the open shards (4 on 3 workers: 2/1/1), the closed parents at SHARD_END and free.
    const final = await until("the open shards' leases balanced", 40_000, async () => {
      const rows = await table.list();
      const counts = ["w1", "w2", "w3"].map((w) => rows.filter((r) => open.includes(r.leaseKey) && r.leaseOwner === w).length);
      return counts.every((c) => c === 1 || c === 2) && counts.reduce((a: number, b: number) => a + b, 0) === 4 ? rows : undefined;
    }, 300);
    await watcher.stop();
    const closed = final.filter((r) => !open.includes(r.leaseKey));
    assert.equal(closed.length, 3, JSON.stringify(final));
    for (const r of closed) assert.deepEqual([r.leaseKey, r.checkpoint, r.leaseOwner], [r.leaseKey, SHARD_END, undefined]);
    assert.deepEqual(violations, [], "a child leased before its parents' ends");
    const children = final.filter((r) => r.parentShardIds.length > 0);
    assert.equal(children.length, 3, JSON.stringify(children));
    for (const c of children) assert.ok(firstLeasedAt.has(c.leaseKey), `${c.leaseKey} was never leased`);
    const twice = [...seen.values()].filter((count) => count > 1).length;
    for (const w of workers) w.child.kill("SIGINT");
    for (const w of workers) assert.equal(await w.exited, 0, w.err());
    const lag = (c: Lease) => Math.min(...c.parentShardIds.map((p) => firstLeasedAt.get(c.leaseKey)! - (endedAt.get(p) ?? 0)));
    console.log(
      `      ${published} records, ${twice} twice; children leased ${children.map((c) => `${lag(c)} ms`).join(", ")} after their parents' SHARD_END; ` +
        `open leases ${["w1", "w2", "w3"].map((w) => final.filter((r) => open.includes(r.leaseKey) && r.leaseOwner === w).length).join("/")}; ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  });
});
