/**
 * Consumer group workers (`subscribe --group`) as child processes against a local lake, for the group's
 * fault and resharding tests: start one (stdout to a file, or a pipe the test reads), read what it wrote,
 * publish records aimed at chosen shards, and watch the lease table.
 */
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ListShardsCommand, PutRecordsCommand, Shard } from "@aws-sdk/client-kinesis";
import { LocalLake, startLocalLake } from "../../local/lake";
import type { LakeConfig } from "../../model/config";
import { createLeaseClient } from "../../runtime/leases";
import { Lease, LeaseTable } from "../../runtime/leases";
import { appArgs, PROJECT_DIR } from "./run-app";
import { sleep, until } from "./until";
export { sleep, until };



/** One published record as the workers write it (the publisher's JSON line). */
export interface Line {
  id: string;
  /** The shard the record was aimed at (ExplicitHashKey), when it was. */
  shard?: string;
  /** Date.now() when it was published. */
  at: number;
}

export interface Worker {
  id: string;
  child: ChildProcess;
  /** Every record line written so far. */
  lines(): Line[];
  /** stderr so far. */
  err(): string;
  exited: Promise<number | string>;
  /** Exit code or signal once exited; undefined while running. */
  exitStatus(): number | string | undefined;
}

export interface WorkerOptions {
  segment: string;
  group: string;
  id: string;
  from?: "trim-horizon" | "latest";
  leaseSeconds: number;
  env: NodeJS.ProcessEnv;
  dir: string;
  /** stdout a pipe read by the test (with this --pipe-margin) instead of a file. */
  pipeMargin?: number;
}

const parse = (text: string): Line[] =>
  text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

export function startWorker(o: WorkerOptions): Worker {
  const errFile = path.join(o.dir, `${o.group}-${o.id}.err`);
  const outFile = path.join(o.dir, `${o.group}-${o.id}.out`);
  const errFd = fs.openSync(errFile, "w");
  const args = ["--segment", o.segment, "--group", o.group, "--from", o.from ?? "trim-horizon", "--worker-id", o.id, "--lease-seconds", String(o.leaseSeconds)];
  if (o.pipeMargin !== undefined) args.push("--pipe-margin", String(o.pipeMargin));
  // A file as stdout: the subscriber's checkpoints cover records once written (no pipe margin).
  const outFd = o.pipeMargin === undefined ? fs.openSync(outFile, "w") : "pipe";
  const child = spawn(process.execPath, appArgs("apps/subscriber/main.ts", args), { cwd: PROJECT_DIR, env: o.env, stdio: ["ignore", outFd, errFd] });
  if (typeof outFd === "number") fs.closeSync(outFd);
  fs.closeSync(errFd);
  let piped = "";
  child.stdout?.on("data", (chunk: Buffer) => (piped += chunk.toString()));
  let status: number | string | undefined;
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => {
      status = code ?? signal ?? -1;
      resolve(status);
    }),
  );
  return {
    id: o.id,
    child,
    lines: () => parse(o.pipeMargin === undefined ? fs.readFileSync(outFile, "utf8") : piped.slice(0, piped.lastIndexOf("\n") + 1)),
    err: () => fs.readFileSync(errFile, "utf8"),
    exited,
    exitStatus: () => status,
  };
}

/** The open shards of a stream with their hash key ranges. */
export async function openShards(lake: LocalLake, stream: string): Promise<Shard[]> {
  const out = await lake.client.send(new ListShardsCommand({ StreamName: stream }));
  return (out.Shards ?? []).filter((s) => !s.SequenceNumberRange?.EndingSequenceNumber);
}

/**
 * Publishes one record per entry, each aimed at its shard's starting hash key when `shard` is given (else
 * spread by partition key), `pad` characters longer when asked, retrying the ones kinesis-local refuses.
 */
export async function publish(lake: LocalLake, stream: string, records: Array<{ id: string; shard?: Shard; pad?: number }>): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    let batch = records.slice(i, i + 500).map((r) => ({
      Data: Buffer.from(`${JSON.stringify({ id: r.id, shard: r.shard?.ShardId, at: Date.now(), ...(r.pad ? { pad: "x".repeat(r.pad) } : {}) })}\n`),
      PartitionKey: r.id,
      ExplicitHashKey: r.shard?.HashKeyRange?.StartingHashKey,
    }));
    for (let attempt = 0; batch.length > 0; attempt++) {
      assert.ok(attempt < 50, "PutRecords kept refusing records");
      const out = await lake.client.send(new PutRecordsCommand({ StreamName: stream, Records: batch }));
      batch = batch.filter((_, k) => out.Records?.[k]?.ErrorCode);
      if (batch.length) await sleep(100);
    }
  }
}

/** Every id any of the workers wrote, with how often. */
export function seenIds(workers: Worker[]): Map<string, number> {
  const seen = new Map<string, number>();
  for (const w of workers) for (const l of w.lines()) seen.set(l.id, (seen.get(l.id) ?? 0) + 1);
  return seen;
}

/** Lease counts per owner. */
export async function owners(table: LeaseTable, only?: (l: Lease) => boolean): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const l of await table.list()) if (l.leaseOwner && (!only || only(l))) counts.set(l.leaseOwner, (counts.get(l.leaseOwner) ?? 0) + 1);
  return counts;
}

/** Reads the table every `everyMs` and hands each snapshot to `onRows` (with the time it was read), until stopped. */
export function watchTable(table: LeaseTable, onRows: (rows: Lease[], at: number) => void, everyMs = 100): { stop(): Promise<void> } {
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        onRows(await table.list(), Date.now());
      } catch {
        // a slow scan: the next one
      }
      await sleep(everyMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** A local lake (in memory) for `config`, its catalog in `dir`, and the environment a worker process needs to find it. */
export async function startGroupTestLake(dir: string, config: LakeConfig): Promise<{ lake: LocalLake; env: NodeJS.ProcessEnv }> {
  const lake = await startLocalLake({ config, persist: false, dataDir: path.join(dir, "lake") });
  fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(lake.catalog));
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_KINESIS: lake.endpoint,
    DATALAKE_CATALOG: path.join(dir, "catalog.json"),
  };
  return { lake, env };
}

/** A lease-table client that can be cut off: while `link.cut` is true, every call fails as a refused connection. */
export function cuttableLeaseClient(endpoint: string): { client: ReturnType<typeof createLeaseClient>; cut: boolean } {
  const link = { client: createLeaseClient({ endpoint }), cut: false };
  link.client.middlewareStack.add(
    (next) => async (args) => {
      if (link.cut) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED", name: "Error" });
      return next(args);
    },
    { step: "finalizeRequest", name: "cutOff" },
  );
  return link;
}
