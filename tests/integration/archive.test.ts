/**
 * The archive on the local lake, as users run it: publish N records from a file, query the archive,
 * replay a window into another segment (exactly N arrive), a replay killed with SIGKILL and resumed
 * (all N arrive, at most one batch twice), a corrupt object, window boundaries, GZIP and plain objects,
 * and the refusal to replay into the source segment. The archive objects are written with the local
 * wire-tap directly (the wire-tap's timing is not the subject here).
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";
import * as assert from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { catalogFromConfig } from "../../runtime/catalog";
import { loadStackTopology } from "../../runtime/topology";
import { SegmentConfig } from "../../model/config";
import { wireTapObjectKey } from "../../model/naming";
import { LocalWireTap } from "../../local/firehose";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { appArgs, runNode, runNpm } from "../helpers/run-app";

const ROOT = path.resolve(__dirname, "..", "..");


/** Every record a stream holds, read from every shard at TRIM_HORIZON until it is drained. */
async function readStream(client: KinesisClient, stream: string): Promise<string[]> {
  const out: string[] = [];
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  for (const shard of shards) {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" })))
      .ShardIterator;
    let empty = 0;
    while (iterator && empty < 2) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const r of page.Records ?? []) out.push(Buffer.from(r.Data!).toString("utf8"));
      empty = (page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0 ? empty + 1 : 0;
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

const ids = (records: string[]) => records.map((r) => (JSON.parse(r) as { id: string }).id);

describe("the archive: publish, query, replay, recover (local lake)", function () {
  this.timeout(600_000);
  const emulator = useLocalKinesis();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-archive-"));
  const archiveRoot = path.join(dir, "s3");
  const config = loadStackTopology("dev");
  const devCatalog = catalogFromConfig(config);
  const persons = devCatalog["ingest/persons"];
  const bucketDir = path.join(archiveRoot, persons.bucketName);
  const N = 1000;
  const windowArgs = ["--from", "2026-11-26T10:00:00Z", "--to", "2026-11-26T11:00:00Z"];
  const targets: Record<string, string> = {};
  let env: NodeJS.ProcessEnv;

  const line = (id: string, i: number) => JSON.stringify({ id, name: `dennis ${i}`, age: i % 90 });
  const writeObject = (compression: "GZIP" | "UNCOMPRESSED", at: string, lines: string[]) => {
    const segment = { ...config.segments[0], wireTap: { bufferSeconds: 900, bufferMiB: 128, compression } } as SegmentConfig;
    const tap = new LocalWireTap(segment, persons.deliveryStreamName, bucketDir, () => new Date(at));
    for (const l of lines) tap.add(Buffer.from(l));
    tap.close();
  };

  before(async () => {
    const catalog: Record<string, unknown> = { ...devCatalog };
    for (const name of ["persons", "replayed", "killed", "corrupt", "stdin"]) {
      targets[name] = await emulator.createStream(emulator.uniqueName(`archive-${name}`), 2);
      catalog[`test/${name}`] = { ...persons, address: `test/${name}`, streamName: targets[name] };
    }
    // The source segment publishes into its own fresh stream; its archive is the dev bucket folder.
    catalog["ingest/persons"] = { ...persons, streamName: targets.persons };
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(catalog));
    env = {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_KINESIS: emulator.endpoint,
      DATALAKE_CATALOG: path.join(dir, "catalog.json"),
      DATALAKE_ARCHIVE_DIR: archiveRoot,
    };
    // In the window [10:00, 11:00): a GZIP object exactly at its start and a plain one; outside it, one a
    // second before and one exactly at its (exclusive) end.
    const inWindow = Array.from({ length: N }, (_, i) => line(`w-${i + 1}`, i + 1));
    fs.writeFileSync(path.join(dir, "records.jsonl"), `${inWindow.join("\n")}\n`);
    writeObject("GZIP", "2026-11-26T10:00:00Z", inWindow.slice(0, 600));
    writeObject("UNCOMPRESSED", "2026-11-26T10:40:00Z", inWindow.slice(600));
    writeObject("GZIP", "2026-11-26T09:59:59Z", Array.from({ length: 30 }, (_, i) => line(`o-a${i}`, i)));
    writeObject("UNCOMPRESSED", "2026-11-26T11:00:00Z", Array.from({ length: 50 }, (_, i) => line(`o-b${i}`, i)));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("publishes every line of a file as one record, keyed by a field", async () => {
    const run = await runNpm("publish", ["--segment", "ingest/persons", "--file", path.join(dir, "records.jsonl"), "--key-field", "id"], env);
    assert.strictEqual(run.status, 0, run.stderr);
    assert.match(run.stderr, new RegExp(`published ${N} of ${N} records`));
    const stored = await readStream(emulator.client, targets.persons);
    assert.strictEqual(new Set(ids(stored)).size, N);
  });

  it("refuses a file with a line missing the key field, naming the line, before sending anything", async () => {
    const bad = path.join(dir, "bad.jsonl");
    fs.writeFileSync(bad, `${line("x-1", 1)}\n{"name":"no id"}\n`);
    const run = await runNpm("publish", ["--segment", "test/corrupt", "--file", bad, "--key-field", "id"], env);
    assert.strictEqual(run.status, 2, run.stderr);
    assert.match(run.stderr, /^error: nothing was published: line 2 of .*bad\.jsonl has no field "id"/m);
  });

  it("from stdin, stops at a line missing the key field, naming it, after delivering the lines before it", async () => {
    const input = `${line("s-1", 1)}\n${line("s-2", 2)}\n\n${line("s-3", 3)}\n{"name":"no id"}\n${line("s-4", 4)}\n`;
    const run = await runNpm("publish", ["--segment", "test/stdin", "--key-field", "id"], env, { input });
    assert.strictEqual(run.status, 2, run.stderr);
    assert.match(run.stderr, /^error: stopped: line 5 of stdin has no field "id" for the partition key; the 3 records before it were delivered$/m);
    assert.deepStrictEqual(ids(await readStream(emulator.client, targets.stdin)).sort(), ["s-1", "s-2", "s-3"]);
  });

  it("queries the archive with the Glue tables' names and partition columns", async () => {
    const run = await runNpm("query", ["SELECT count(*) AS n, count(DISTINCT hour) AS hours FROM ingest.persons WHERE id LIKE 'w-%'"], env);
    assert.strictEqual(run.status, 0, run.stderr);
    assert.deepStrictEqual(JSON.parse(run.stdout.trim()), { n: N, hours: 1 });
    const all = await runNpm("query", ["SELECT count(*) AS n FROM datalake_dev_ingest.persons"], env);
    assert.deepStrictEqual(JSON.parse(all.stdout.trim()), { n: N + 80 });
    const unknown = await runNpm("query", ["SELECT * FROM ingest.nothing"], env);
    assert.strictEqual(unknown.status, 2);
    assert.match(unknown.stderr, /^error: the query failed: Catalog Error: .*the tables are ingest\.persons/m);
    assert.strictEqual(unknown.stderr.trim().split("\n").filter((l) => l.startsWith("error")).length, 1);
  });

  it("query reads a line that is not JSON as a row of NULLs, as Athena does, and counts it on stderr", async () => {
    const root = path.join(dir, "malformed-s3");
    const tap = new LocalWireTap(
      { ...config.segments[0], wireTap: { bufferSeconds: 900, bufferMiB: 128, compression: "GZIP" } } as SegmentConfig,
      persons.deliveryStreamName,
      path.join(root, persons.bucketName),
      () => new Date("2026-11-26T10:05:00Z"),
    );
    for (const l of [line("m-1", 1), "this is not json", line("m-2", 2), '{"id":"m-3"']) tap.add(Buffer.from(l));
    tap.close();
    const run = await runNpm("query", ["--archive-dir", root, "SELECT count(*) AS n, count(id) AS ids, count(hour) AS hours FROM ingest.persons"], env);
    assert.strictEqual(run.status, 0, run.stderr);
    assert.deepStrictEqual(JSON.parse(run.stdout.trim()), { n: 4, ids: 2, hours: 4 });
    assert.match(run.stderr, /^query: ingest\.persons: 2 line\(s\) of its archive are not JSON objects and read as rows of NULLs/m);
  });

  it("query's memory stays bounded with many small objects (20,000 objects of 10 records)", async function () {
    const root = path.join(dir, "many-s3");
    const bucket = path.join(root, persons.bucketName);
    const body = (o: number) => zlib.gzipSync(`${Array.from({ length: 10 }, (_, i) => line(`s-${o}-${i}`, i)).join("\n")}\n`);
    for (let o = 0; o < 20_000; o++) {
      const key = wireTapObjectKey(persons.deliveryStreamName, "GZIP", new Date(Date.UTC(2026, 10, 26, 0, 0, 0) + o * 1000), `o${o}`);
      const file = path.join(bucket, ...key.split("/"));
      if (o % 3600 === 0) fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, body(o));
    }
    const run = await runNode(["--require", path.join(ROOT, "tests", "helpers", "report-maxrss.js"), ...appArgs("apps/query/main.ts", ["--archive-dir", root, "SELECT count(*) AS n, count(DISTINCT hour) AS hours FROM ingest.persons"])], env);
    assert.strictEqual(run.code, 0, run.stderr);
    assert.deepStrictEqual(JSON.parse(run.stdout.trim()), { n: 200_000, hours: 6 });
    const rssMiB = Number(/maxrss-kb (\d+)/.exec(run.stderr)![1]) / 1024;
    // Measured on the test machine: 528 MiB before (every path written into two views' SQL), about 200 after.
    assert.ok(rssMiB < 320, `peak memory ${rssMiB.toFixed(0)} MiB`);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it("refuses to replay a segment into itself without --allow-source-replay", async () => {
    const run = await runNpm("replay", ["--segment", "ingest/persons", ...windowArgs], env);
    assert.strictEqual(run.status, 2, run.stderr);
    assert.match(run.stderr, /^error: replaying ingest\/persons into itself would archive the same records a second time/m);
  });

  it("replays exactly the window's N records (GZIP and plain objects, boundaries honoured) into another segment", async () => {
    const dry = await runNpm("replay", ["--segment", "ingest/persons", "--into", "test/replayed", ...windowArgs, "--dry-run"], env);
    assert.strictEqual(dry.status, 0, dry.stderr);
    assert.strictEqual(JSON.parse(dry.stdout).matched, N);
    const checkpoint = path.join(dir, "replayed.json");
    const run = await runNpm("replay", ["--segment", "ingest/persons", "--into", "test/replayed", ...windowArgs, "--checkpoint", checkpoint], env);
    assert.strictEqual(run.status, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as { objects: number; published: number };
    assert.deepStrictEqual([summary.objects, summary.published], [2, N]);
    const got = ids(await readStream(emulator.client, targets.replayed));
    assert.strictEqual(got.length, N);
    assert.strictEqual(new Set(got).size, N);
    assert.ok(got.every((id) => id.startsWith("w-")));
    // The same command again does nothing: the checkpoint says the window was replayed.
    const again = await runNpm("replay", ["--segment", "ingest/persons", "--into", "test/replayed", ...windowArgs, "--checkpoint", checkpoint], env);
    assert.strictEqual(again.status, 0, again.stderr);
    assert.strictEqual((await readStream(emulator.client, targets.replayed)).length, N);
    // A dry run reads the same checkpoint: nothing left to replay.
    const dryAgain = await runNpm("replay", ["--segment", "ingest/persons", "--into", "test/replayed", ...windowArgs, "--checkpoint", checkpoint, "--dry-run"], env);
    assert.strictEqual(dryAgain.status, 0, dryAgain.stderr);
    assert.match(dryAgain.stderr, /completed at .*nothing to do/);
    assert.ok(JSON.parse(dryAgain.stdout).alreadyCompleted);
  });

  it("a dry run checks what the real run checks: an unknown or missing --into is exit 2", async () => {
    const typo = await runNpm("replay", ["--segment", "ingest/persons", "--into", "test/replayd", ...windowArgs, "--dry-run"], env);
    assert.strictEqual(typo.status, 2, typo.stderr);
    assert.match(typo.stderr, /^error: unknown segment "test\/replayd" in .*known segments: /m);
    const missing = await runNpm("replay", ["--segment", "ingest/persons", ...windowArgs, "--dry-run"], env);
    assert.strictEqual(missing.status, 2, missing.stderr);
    assert.match(missing.stderr, /^error: replaying ingest\/persons into itself/m);
  });

  it("refuses a window that starts in the future, saying so", async () => {
    const run = await runNpm("replay", ["--segment", "ingest/persons", "--into", "test/replayed", "--from", "2099-01-01T00:00:00Z", "--to", "2099-01-02T00:00:00Z"], env);
    assert.strictEqual(run.status, 2, run.stderr);
    assert.match(run.stderr, /^error: --from 2099-01-01T00:00:00Z is in the future \(it is .* now\): the archive holds nothing from then yet/m);
  });

  it("resumes a replay killed with SIGKILL: all N arrive, at most one batch twice", async () => {
    const checkpoint = path.join(dir, "killed.json");
    const args = ["--segment", "ingest/persons", "--into", "test/killed", ...windowArgs, "--checkpoint", checkpoint, "--rate", "200"];
    const child = spawn(process.execPath, appArgs("apps/replay/main.ts", args), { cwd: ROOT, env, stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    // Kill it once a checkpoint shows progress but before the end (bounded wait: fails only on a hang).
    const deadline = Date.now() + 120_000;
    for (;;) {
      assert.ok(Date.now() < deadline, "the replay never saved a checkpoint");
      const published = fs.existsSync(checkpoint) ? (JSON.parse(fs.readFileSync(checkpoint, "utf8")) as { published: number }).published : 0;
      if (published >= 400) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill("SIGKILL");
    await exited;
    const before = (JSON.parse(fs.readFileSync(checkpoint, "utf8")) as { published: number; completedAt?: string });
    assert.ok(before.published < N && !before.completedAt, "killed before the end");
    const resumed = await runNpm("replay", args, env);
    assert.strictEqual(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming after record/);
    const got = ids(await readStream(emulator.client, targets.killed));
    assert.strictEqual(new Set(got).size, N, "every record arrived");
    assert.ok(got.length - N <= 200, `${got.length - N} records were sent twice, more than the one batch of 200 in flight`);
  });

  it("skips a corrupt object by name, replays everything else once, exits non-zero until it is restored and replayed", async () => {
    const key = wireTapObjectKey(persons.deliveryStreamName, "GZIP", new Date("2026-11-26T10:20:00Z"), "corrupt");
    const file = path.join(bucketDir, ...key.split("/"));
    const gz = zlib.gzipSync(Buffer.from(`${line("c-1", 1)}\n${line("c-2", 2)}\n`));
    fs.writeFileSync(file, gz.subarray(0, gz.length - 8));
    const args = ["--segment", "ingest/persons", "--into", "test/corrupt", ...windowArgs, "--checkpoint", path.join(dir, "corrupt.json")];
    try {
      const run = await runNpm("replay", args, env);
      assert.strictEqual(run.status, 1, run.stderr);
      assert.ok(run.stderr.includes(`skipped corrupt object ${key}`), run.stderr);
      assert.match(run.stderr, /^error: 1 corrupt object\(s\) skipped and not replayed/m);
      const got = ids(await readStream(emulator.client, targets.corrupt));
      assert.strictEqual(got.length, N);
      assert.ok(!got.some((id) => id.startsWith("c-")), "nothing of the corrupt object was published");

      // A retry loop does not end green while the object's records were never replayed.
      const retry = await runNpm("replay", args, env);
      assert.strictEqual(retry.status, 1, retry.stderr);
      assert.doesNotMatch(retry.stderr, /nothing to do/);
      assert.ok(retry.stderr.includes(`error: 1 corrupt object(s) skipped and not replayed (${key})`), retry.stderr);
      const dry = await runNpm("replay", [...args, "--dry-run"], env);
      assert.strictEqual(dry.status, 1, dry.stderr);

      // Restored (as from a previous version): the next run replays exactly its records, and then passes.
      fs.writeFileSync(file, gz);
      const restored = await runNpm("replay", args, env);
      assert.strictEqual(restored.status, 0, restored.stderr);
      assert.ok(restored.stderr.includes(`replayed an object skipped as corrupt before: ${key}`), restored.stderr);
      const after = ids(await readStream(emulator.client, targets.corrupt));
      assert.deepStrictEqual(after.filter((id) => id.startsWith("c-")).sort(), ["c-1", "c-2"]);
      assert.strictEqual(after.length, N + 2);
      const done = await runNpm("replay", args, env);
      assert.strictEqual(done.status, 0, done.stderr);
      assert.match(done.stderr, /nothing to do/);
    } finally {
      fs.rmSync(file);
    }
  });
});
