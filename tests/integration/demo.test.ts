import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readWireTapRecords } from "../../local/firehose";
import { runApp } from "../helpers/run-app";

/** No AWS account configured at all. */
const NO_AWS = { PATH: process.env.PATH, HOME: os.tmpdir() };

describe("npm run demo (the demo's own path, no AWS)", function () {
  this.timeout(180_000);
  let out: string;
  before(() => (out = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-demo-"))));
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it("publishes, subscribes, routes and wire-taps the dev topology with nothing lost", async () => {
    const count = 1500;
    const run = await runApp("apps/demo/main.ts", ["--count", String(count), "--out", out], NO_AWS);
    assert.strictEqual(run.code, 0, `demo failed:\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, new RegExp(`subscribed\\s+${count} distinct records from \\d+ shards: 0 lost, 0 duplicates`));
    assert.match(run.stdout, /result\s+OK/);

    // The run wrote into a folder of its own under --out.
    const runs = fs.readdirSync(out);
    assert.strictEqual(runs.length, 1, runs.join(", "));
    const runDir = path.join(out, runs[0]);
    assert.ok(run.stderr.includes(runs[0]), "the demo says where its output is");

    // The wire-tap wrote the Firehose layout, and every published record is in storage exactly once.
    const bucket = path.join(runDir, "s3", "datalake-dev-ingest-persons-000000000000");
    const stored = readWireTapRecords(bucket).map((line) => JSON.parse(line) as { id: string; age: number });
    assert.strictEqual(new Set(stored.map((r) => r.id)).size, count);
    assert.strictEqual(stored.length, count);
    const files: string[] = [];
    const walk = (d: string): void => fs.readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : files.push(path.relative(bucket, path.join(d, e.name)))));
    walk(bucket);
    for (const file of files) {
      assert.match(file, /^data\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/datalake-dev-ingest-persons-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]+\.gz$/);
    }

    // The route delivered exactly the adults, and only them.
    const adults = readWireTapRecords(path.join(runDir, "s3", "datalake-dev-curated-adults-000000000000")).map((l) => JSON.parse(l) as { age: number });
    assert.strictEqual(adults.length, stored.filter((r) => r.age >= 18).length);
    assert.ok(adults.every((r) => r.age >= 18));
  });

  it("two demos at once with one --out both succeed, and nothing already in --out is deleted", async () => {
    const shared = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-demo-shared-"));
    try {
      const mine = path.join(shared, "s3", "my-bucket", "keep.txt"); // what the old demo deleted without asking
      fs.mkdirSync(path.dirname(mine), { recursive: true });
      fs.writeFileSync(mine, "mine");
      const [a, b] = await Promise.all([
        runApp("apps/demo/main.ts", ["--count", "300", "--out", shared], NO_AWS),
        runApp("apps/demo/main.ts", ["--count", "300", "--out", shared], NO_AWS),
      ]);
      assert.strictEqual(a.code, 0, `first demo:\n${a.stdout}\n${a.stderr}`);
      assert.strictEqual(b.code, 0, `second demo:\n${b.stdout}\n${b.stderr}`);
      assert.doesNotMatch(a.stdout + b.stdout, /records are missing/);
      assert.strictEqual(fs.readFileSync(mine, "utf8"), "mine");
      assert.strictEqual(fs.readdirSync(shared).filter((d) => d !== "s3").length, 2, "one folder per run");
    } finally {
      fs.rmSync(shared, { recursive: true, force: true });
    }
  });

  it("an unknown segment is one line on stderr and a non-zero exit", async () => {
    const run = await runApp("apps/demo/main.ts", ["--segment", "ingest/nope", "--out", out], NO_AWS);
    assert.notStrictEqual(run.code, 0);
    const errors = run.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.strictEqual(errors.length, 1, run.stderr);
    assert.match(errors[0], /unknown segment "ingest\/nope"; known segments: .*ingest\/persons/);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
  });
});
