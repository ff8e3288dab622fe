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

    // The wire-tap wrote the Firehose layout, and every published record is in storage exactly once.
    const bucket = path.join(out, "s3", "datalake-dev-ingest-persons-000000000000");
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
    const adults = readWireTapRecords(path.join(out, "s3", "datalake-dev-curated-adults-000000000000")).map((l) => JSON.parse(l) as { age: number });
    assert.strictEqual(adults.length, stored.filter((r) => r.age >= 18).length);
    assert.ok(adults.every((r) => r.age >= 18));
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
