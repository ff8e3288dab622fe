/**
 * `subscribe --group`: subscriber processes as workers of a consumer group against the local lake (its
 * kinesis-local and DynamoDB stand-in). Three workers share a 6-shard segment, one is killed with
 * SIGKILL midway and another joins; every published record reaches some worker's stdout at least once,
 * the live workers end balanced, and SIGINT releases the leases. A group the segment does not declare is
 * refused in one line (exit 2).
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { parseLakeConfig } from "../../model/config";
import { LocalLake, startLocalLake } from "../../local/lake";
import { createLeaseClient, LeaseTable } from "../../runtime/leases";
import { appArgs, PROJECT_DIR, runApp } from "../helpers/run-app";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false> | T | undefined | false, everyMs = 200): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

interface Worker {
  id: string;
  child: ChildProcess;
  out: string;
  err: string;
  exited: Promise<number | string>;
}

describe("consumer group workers (subscribe --group) on the local lake", function () {
  this.timeout(180_000);
  let dir: string;
  let lake: LocalLake;
  let env: NodeJS.ProcessEnv;
  let table: LeaseTable;
  const workers: Worker[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "group-"));
    const config = parseLakeConfig({ name: "grp", layers: { ingest: { segments: { persons: { shards: 6, groups: ["billing"] } } } } }, { project: "datalake", stack: "test" });
    lake = await startLocalLake({ config, persist: false, dataDir: path.join(dir, "lake") });
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(lake.catalog));
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_KINESIS: lake.endpoint,
      DATALAKE_CATALOG: path.join(dir, "catalog.json"),
    };
    const group = lake.catalog["ingest/persons"].groups!.billing;
    table = new LeaseTable({ client: createLeaseClient({ endpoint: group.endpoint }), tableName: group.tableName });
  });

  after(async () => {
    for (const w of workers) w.child.kill("SIGKILL");
    await lake?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes records `r-from` .. `r-(to-1)`, retrying the ones kinesis-local refuses. */
  async function publish(from: number, to: number): Promise<void> {
    const stream = lake.catalog["ingest/persons"].streamName;
    for (let i = from; i < to; i += 500) {
      let batch = Array.from({ length: Math.min(500, to - i) }, (_, k) => ({
        Data: Buffer.from(`${JSON.stringify({ id: `r-${i + k}` })}\n`),
        PartitionKey: `key-${i + k}`,
      }));
      for (let attempt = 0; batch.length > 0; attempt++) {
        assert.ok(attempt < 50, "PutRecords kept refusing records");
        const out = await lake.client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
        batch = batch.filter((_, k) => out.Records?.[k]?.ErrorCode);
        if (batch.length) await sleep(100);
      }
    }
  }

  function startWorker(id: string): Worker {
    const outFile = path.join(dir, `${id}.out`);
    const errFile = path.join(dir, `${id}.err`);
    // A file as stdout: the subscriber's checkpoints cover records once written (no pipe margin).
    const outFd = fs.openSync(outFile, "w");
    const errFd = fs.openSync(errFile, "w");
    const args = ["--segment", "ingest/persons", "--group", "billing", "--from", "trim-horizon", "--worker-id", id, "--lease-seconds", "6"];
    const child = spawn(process.execPath, appArgs("apps/subscriber/main.ts", args), { cwd: PROJECT_DIR, env, stdio: ["ignore", outFd, errFd] });
    fs.closeSync(outFd);
    fs.closeSync(errFd);
    const worker: Worker = {
      id,
      child,
      get out() {
        return fs.readFileSync(outFile, "utf8");
      },
      get err() {
        return fs.readFileSync(errFile, "utf8");
      },
      exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? -1))),
    } as Worker;
    workers.push(worker);
    return worker;
  }

  const ids = (text: string) => text.split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);
  const owners = async () => {
    const counts = new Map<string, number>();
    for (const l of await table.list()) if (l.leaseOwner) counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
    return counts;
  };

  async function lagOf(group: string): Promise<Array<{ shardId: string; status: string; recordsBehind: number; owner: string | null }>> {
    const run = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--group", group, "--json"], env);
    assert.equal(run.code, 0, run.stderr);
    return run.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l));
  }

  it("refuses a group the segment does not declare, in one line (exit 2)", async () => {
    const run = await runApp("apps/subscriber/main.ts", ["--segment", "ingest/persons", "--group", "nope"], env);
    assert.equal(run.code, 2, run.stderr);
    const errors = run.stderr.split("\n").filter((l) => l.startsWith("error"));
    assert.equal(errors.length, 1, run.stderr);
    assert.match(errors[0], /--group nope: segment ingest\/persons declares no such consumer group \(its groups: billing\)/);
    assert.doesNotMatch(run.stderr, /^\s+at /m, "a stack trace");
    assert.equal(run.stdout, "");
    const lag = await runApp("apps/lag/main.ts", ["--segment", "ingest/persons", "--group", "nope"], env);
    assert.equal(lag.code, 2, lag.stderr);
    assert.match(lag.stderr, /^error: --group nope: segment ingest\/persons declares no such consumer group/m);
  });

  it("3 workers, one killed with SIGKILL and one added: every record reaches a worker, the live ones end balanced, SIGINT releases", async () => {
    const N = 20_000;
    const started = Date.now();
    await publish(0, N / 4);
    // No worker ran yet: the table has no lease, so lag counts every shard from its start.
    const before = await lagOf("billing");
    assert.equal(before.reduce((n, l) => n + l.recordsBehind, 0), N / 4);
    const [w1, w2, w3] = ["w1", "w2", "w3"].map(startWorker);
    await until("2 leases for each worker", 40_000, async () => {
      const o = await owners();
      return ["w1", "w2", "w3"].every((w) => o.get(w) === 2) || undefined;
    });
    // The second quarter once the group is balanced: each worker has records to write before w2 is killed.
    await publish(N / 4, N / 2);
    await until("w2 wrote records", 20_000, () => ids(w2.out).length > 0 || undefined).catch((err) => {
      throw new Error(`${err.message}; w2's log:\n${w2.err}`);
    });
    // Past one checkpoint interval (2 s): the takeover resumes from w2's checkpoints, not from the start.
    await sleep(3_000);
    const killedAt = Date.now();
    w2.child.kill("SIGKILL");
    const w2Lines = ids(w2.out).length;
    const w4 = startWorker("w4");
    // The second half once w4 holds leases, so the joined worker reads some of it.
    await until("w4 holds a lease", 40_000, async () => ((await owners()).get("w4") ?? 0) > 0 || undefined);
    await publish(N / 2, N);

    const seen = new Map<string, number>();
    await until("every record in some worker's output", 60_000, () => {
      seen.clear();
      for (const w of workers) for (const id of ids(w.out)) seen.set(id, (seen.get(id) ?? 0) + 1);
      return seen.size >= N || undefined;
    }, 500);
    const allSeenAfterKillMs = Date.now() - killedAt;
    for (let i = 0; i < N; i++) assert.ok(seen.has(`r-${i}`), `record r-${i} reached no worker`);
    const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);

    // The live workers, 3 on 6 shards: 2 each once the group balanced.
    const balanced = await until("2 leases for each live worker", 40_000, async () => {
      const o = await owners();
      return ["w1", "w3", "w4"].every((w) => o.get(w) === 2) ? o : undefined;
    }, 500);
    assert.equal(balanced.get("w2"), undefined, "the killed worker still holds a lease");
    // Duplicates only after the takeover, at most what the killed worker wrote since its checkpoints.
    assert.ok(duplicates <= w2Lines, `${duplicates} duplicates, more than the ${w2Lines} records w2 wrote`);
    for (const w of [w1, w3, w4]) assert.ok(ids(w.out).length > 0, `${w.id} wrote no record`);
    console.log(
      `      ${N} records; ${duplicates} delivered twice (w2 wrote ${w2Lines} before SIGKILL); all seen ${(allSeenAfterKillMs / 1000).toFixed(1)} s after the kill; ` +
        `leases ${JSON.stringify(Object.fromEntries(balanced))}; lines per worker ${workers.map((w) => `${w.id}=${ids(w.out).length}`).join(" ")}; ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    for (const w of [w1, w3, w4]) w.child.kill("SIGINT");
    for (const w of [w1, w3, w4]) assert.equal(await w.exited, 0, w.err);
    const after = await table.list();
    assert.deepEqual(after.filter((l) => l.leaseOwner !== undefined).map((l) => `${l.leaseKey}:${l.leaseOwner}`), [], "a lease still held after SIGINT");
    // Each shard's checkpoint is a sequence number: the workers checkpointed what they wrote.
    assert.ok(after.every((l) => /^\d+$/.test(l.checkpoint)), JSON.stringify(after.map((l) => l.checkpoint)));
    // lag --group reads those checkpoints: nothing behind.
    const caughtUp = await lagOf("billing");
    assert.equal(caughtUp.length, 6);
    assert.deepEqual(caughtUp.map((l) => [l.status, l.recordsBehind]), Array(6).fill(["caught-up", 0]));
  });
});
