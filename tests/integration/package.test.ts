/**
 * The package as an application gets it: `npm pack` of this project, installed offline in an empty project,
 * used from a plain Node script (no ts-node, no TypeScript tooling) against a local Kinesis: 10,000 records
 * published, consumed with a checkpoint, the consumer killed with kill -9 midway and restarted, and every
 * record there in the end, repeated only after the last checkpoint.
 *
 * Offline install: npm's cache holds every dependency's tarball (`npm ci` of this checkout put them there),
 * but not the registry's package documents, which npm needs to resolve version ranges; so the empty
 * project gets a package-lock.json made from this project's (its non-dev entries, plus the tarball), as a
 * project with a lockfile has, and `npm install --offline` takes every tarball from the cache.
 */
import * as assert from "assert";
import { ChildProcess, spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createKinesisClient } from "../../runtime/client";
import { ensureStream } from "../../runtime/streams";
import { LocalKinesis, startLocalKinesis } from "../../local/kinesis";
import { PROJECT_DIR } from "../helpers/run-app";

const RECORDS = 10_000;
const SHARDS = 4;
const SEGMENT = "app/events";

/** The application: a plain CommonJS script that uses only the package's public import path. */
const APP = `"use strict";
const fs = require("fs");
const { openLake, CheckpointInUseError } = require("datalake");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const [mode, ...args] = process.argv.slice(2);

async function main() {
  const lake = await openLake({ catalog: "catalog.json" }); // the endpoint comes from AWS_ENDPOINT_URL_KINESIS
  try {
    if (mode === "publish") {
      const count = Number(args[0]);
      const records = function* () {
        for (let i = 1; i <= count; i++) yield { data: JSON.stringify({ id: i }) };
      };
      const summary = await lake.publish({ segment: "${SEGMENT}", records: records() });
      console.log(JSON.stringify({ sent: summary.sent, failed: summary.failed.count }));
      return;
    }
    const [out, checkpoint, idle] = args;
    fs.appendFileSync(out, "# run\\n");
    // A consumer killed a moment ago still holds the checkpoint's lock until it expires: wait for it.
    for (const deadline = Date.now() + 30000; ; ) {
      try {
        const summary = await lake.consume({
          segment: "${SEGMENT}",
          checkpoint,
          from: "trim-horizon",
          autoCheckpoint: false,
          idleTimeoutMs: idle ? Number(idle) : undefined,
          eachBatch: async (batch) => {
            // Handle 100 records at a time (a line each in the output file, then some work), then checkpoint them.
            for (let i = 0; i < batch.records.length; i += 100) {
              const part = batch.records.slice(i, i + 100);
              fs.appendFileSync(out, part.map((r) => batch.shardId + " " + r.sequenceNumber + " " + JSON.parse(r.data).id + "\\n").join(""));
              await sleep(40);
              await batch.checkpoint(part[part.length - 1]);
            }
          },
        });
        console.log(JSON.stringify(summary));
        return;
      } catch (err) {
        if (!(err instanceof CheckpointInUseError) || Date.now() > deadline) throw err;
        await sleep(500);
      }
    }
  } finally {
    await lake.close();
  }
}

main().catch((err) => {
  console.error("error: " + err.message);
  process.exitCode = 1;
});
`;

/** The same application in TypeScript, to check the package's declarations (never run). */
const TYPED_APP = `import { openLake, Batch, CheckpointError, DeliveryError, PublishSummary } from "datalake";
async function main(): Promise<PublishSummary> {
  const lake = await openLake({ catalog: { "${SEGMENT}": { streamName: "s" } }, callTimeoutMs: 5000 });
  await lake.consume({ segment: "${SEGMENT}", checkpoint: "c.json", eachBatch: async (batch: Batch) => { await batch.checkpoint(batch.records[0]); } });
  try {
    return await lake.publish({ segment: "${SEGMENT}", records: [{ data: "x", partitionKey: "k" }] });
  } catch (err) {
    if (err instanceof DeliveryError) return err.summary;
    if (err instanceof CheckpointError) throw new Error(err.message);
    throw err;
  }
}
void main();
`;

function exec(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A package-lock.json for a project whose one dependency is `tarball`: this project's entries for its dependencies. */
function lockfileFor(tarball: string): object {
  const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package-lock.json"), "utf8"));
  const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8"));
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    "": { name: "app", version: "1.0.0", dependencies: { datalake: spec } },
    "node_modules/datalake": {
      version: pkg.version,
      resolved: spec,
      integrity: `sha512-${createHash("sha512").update(fs.readFileSync(tarball)).digest("base64")}`,
      license: pkg.license,
      dependencies: pkg.dependencies,
      bin: pkg.bin,
      engines: pkg.engines,
    },
  };
  for (const [key, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean }>)) {
    if (key.startsWith("node_modules/") && !entry.dev) packages[key] = entry;
  }
  return { name: "app", version: "1.0.0", lockfileVersion: 3, requires: true, packages };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("the packed package, installed in an empty project and used from plain Node", function () {
  this.timeout(300_000);
  let dir: string;
  let appDir: string;
  let kinesis: LocalKinesis;
  let env: NodeJS.ProcessEnv;
  let streamName: string;
  const timings: Record<string, string> = {};

  before(async function () {
    this.timeout(240_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-package-"));
    appDir = path.join(dir, "app");
    fs.mkdirSync(appDir);
    const npmEnv = { PATH: process.env.PATH, HOME: process.env.HOME ?? os.homedir() };
    const started = Date.now();
    // The emulator starts while npm packs (prepack builds dist/ first).
    const [emulator, packed] = await Promise.all([
      startLocalKinesis(),
      exec("npm", ["pack", "--silent", "--pack-destination", dir], PROJECT_DIR, npmEnv).then((r) => ({ ...r, ms: Date.now() - started })),
    ]);
    kinesis = emulator;
    assert.strictEqual(packed.code, 0, packed.stderr);
    timings.pack = seconds(packed.ms);
    const tarball = path.join(dir, packed.stdout.trim().split("\n").pop()!);
    assert.ok(fs.existsSync(tarball), `npm pack printed ${packed.stdout}`);

    fs.writeFileSync(path.join(appDir, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, dependencies: { datalake: `file:${tarball}` } }));
    fs.writeFileSync(path.join(appDir, "package-lock.json"), JSON.stringify(lockfileFor(tarball), null, 1));
    const installStarted = Date.now();
    const installed = await exec("npm", ["install", "--offline", "--no-audit", "--no-fund", tarball], appDir, npmEnv);
    assert.strictEqual(installed.code, 0, installed.stderr);
    timings.install = seconds(Date.now() - installStarted);

    streamName = `package-test-${process.pid}`;
    const client = createKinesisClient({ endpoint: kinesis.endpoint });
    await ensureStream(client, { name: streamName, shards: SHARDS });
    client.destroy();
    // The smallest catalog there is: the segment's stream (a deployed stack's output has every field).
    fs.writeFileSync(path.join(appDir, "catalog.json"), JSON.stringify({ [SEGMENT]: { streamName, region: "us-east-1" } }));
    fs.writeFileSync(path.join(appDir, "app.js"), APP);
    env = { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint, AWS_EC2_METADATA_DISABLED: "true" };
  });
  after(async function () {
    this.timeout(60_000);
    console.log(`      package test timings: ${Object.entries(timings).map(([k, v]) => `${k} ${v}`).join(", ")}`);
    await kinesis?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("installs compiled JavaScript with type declarations and no TypeScript tooling, and its types check from the public import path", async () => {
    const installed = path.join(appDir, "node_modules", "datalake");
    const files = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(d, e.name)) : [path.join(d, e.name)]));
    const shipped = files(installed).map((f) => path.relative(installed, f));
    assert.ok(shipped.includes(path.join("dist", "lib", "index.js")) && shipped.includes(path.join("dist", "lib", "index.d.ts")));
    assert.deepStrictEqual(shipped.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts")), [], "TypeScript sources shipped");
    for (const tool of ["typescript", "ts-node", "esbuild", "@pulumi/pulumi"]) {
      assert.ok(!fs.existsSync(path.join(appDir, "node_modules", tool)), `${tool} was installed with the package`);
    }
    // The checkout's compiler, with nothing of the checkout's configuration: as an application's tsc sees it.
    fs.writeFileSync(path.join(appDir, "typed.ts"), TYPED_APP);
    const started = Date.now();
    const tsc = await exec(
      process.execPath,
      [require.resolve("typescript/bin/tsc"), "--noEmit", "--strict", "--module", "node16", "--moduleResolution", "node16", "--target", "es2022",
        "--types", "node", "--typeRoots", path.join(PROJECT_DIR, "node_modules", "@types"), "typed.ts"],
      appDir,
      env,
    );
    timings.typecheck = seconds(Date.now() - started);
    assert.strictEqual(tsc.code, 0, tsc.stdout + tsc.stderr);
  });

  it(`publishes ${RECORDS} records, consumes them with a checkpoint, is killed with kill -9 midway, resumes, and ends with every record, repeated only after the last checkpoint`, async () => {
    let started = Date.now();
    const published = await exec(process.execPath, ["app.js", "publish", String(RECORDS)], appDir, env);
    assert.strictEqual(published.code, 0, published.stderr);
    assert.deepStrictEqual(JSON.parse(published.stdout), { sent: RECORDS, failed: 0 });
    timings.publish = seconds(Date.now() - started);

    const out = path.join(appDir, "out.txt");
    const checkpoint = path.join(appDir, "checkpoint.json");
    started = Date.now();
    // Killed once a fifth of the records are handled: mid-batch on every shard.
    const first: ChildProcess = spawn(process.execPath, ["app.js", "consume", out, checkpoint], { cwd: appDir, env, stdio: ["ignore", "ignore", "pipe"] });
    let firstErr = "";
    first.stderr!.on("data", (c: Buffer) => (firstErr += c.toString()));
    const killedAt = await new Promise<number>((resolve, reject) => {
      first.once("exit", () => reject(new Error(`the consumer exited before it was killed: ${firstErr}`)));
      const poll = setInterval(() => {
        const lines = fs.existsSync(out) ? fs.readFileSync(out, "utf8").split("\n").length - 2 : 0;
        if (lines >= RECORDS / 5) {
          clearInterval(poll);
          first.removeAllListeners("exit");
          first.kill("SIGKILL");
          resolve(lines);
        }
      }, 10);
    });
    await new Promise((resolve) => (first.exitCode !== null || first.signalCode !== null ? resolve(undefined) : first.once("exit", resolve)));
    assert.strictEqual(first.signalCode, "SIGKILL");
    const saved = JSON.parse(fs.readFileSync(checkpoint, "utf8")).shards as Record<string, { sequenceNumber?: string }>;
    timings["consume until kill -9"] = seconds(Date.now() - started);

    started = Date.now();
    const second = await exec(process.execPath, ["app.js", "consume", out, checkpoint, "3000"], appDir, env);
    assert.strictEqual(second.code, 0, second.stderr);
    assert.strictEqual(JSON.parse(second.stdout).stopReason, "idle-timeout");
    timings["resume to the end"] = seconds(Date.now() - started);

    const [, run1, run2] = fs.readFileSync(out, "utf8").split("# run\n");
    const parse = (text: string) => text.trim().split("\n").filter(Boolean).map((l) => l.split(" ")).map(([shard, seq, id]) => ({ shard, seq: BigInt(seq), id: Number(id) }));
    const before = parse(run1);
    const after = parse(run2);
    assert.ok(before.length >= killedAt && before.length < RECORDS, `killed after ${before.length} records: not midway`);
    // Nothing lost: every record published is in the output.
    const all = new Set([...before, ...after].map((r) => r.id));
    assert.strictEqual(all.size, RECORDS);
    // Nothing checkpointed came again: the restart began right after each shard's checkpoint.
    for (const r of after) {
      const at = saved[r.shard]?.sequenceNumber;
      assert.ok(at === undefined || r.seq > BigInt(at), `record ${r.id} of ${r.shard} came again although checkpointed`);
    }
    // What came twice is exactly what the first run handled after its last checkpoint.
    const repeated = after.filter((r) => before.some((b) => b.id === r.id));
    const uncheckpointed = before.filter((r) => saved[r.shard]?.sequenceNumber === undefined || r.seq > BigInt(saved[r.shard].sequenceNumber!));
    assert.deepStrictEqual(repeated.map((r) => r.id).sort((a, b) => a - b), uncheckpointed.map((r) => r.id).sort((a, b) => a - b));
    // ... which is at most the 100 records a shard handles between two checkpoints.
    assert.ok(repeated.length <= SHARDS * 100, `${repeated.length} records came twice: the checkpoint lagged behind what was handled`);
    timings.records = `${before.length} before the kill, ${after.length} after, ${repeated.length} twice`;
  });

  it("the installed datalake command runs the apps from the compiled JavaScript", async () => {
    const bin = path.join(appDir, "node_modules", ".bin", "datalake");
    const help = await exec(bin, ["--help"], appDir, env);
    assert.strictEqual(help.code, 0, help.stderr);
    assert.match(help.stdout, /^ {2}subscribe {2,}/m);
    const read = await exec(bin, ["subscribe", "--stream", streamName, "--from", "trim-horizon", "--max", "5"], appDir, env);
    assert.strictEqual(read.code, 0, read.stderr);
    assert.strictEqual(read.stdout.trim().split("\n").length, 5);
    assert.ok(read.stdout.trim().split("\n").every((line) => typeof JSON.parse(line).id === "number"));
    const policy = await exec(bin, ["policy-check"], appDir, env);
    assert.strictEqual(policy.code, 2);
    assert.match(policy.stderr, /^datalake: policy-check evaluates the lake's Pulumi program, which this package does not contain; run it in a checkout/);
  });
});
