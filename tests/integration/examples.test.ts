/**
 * The examples in examples/ (applications written against `import ... from "datalake"`) run against a
 * local lake as a user runs them: real processes, the variables `datalake local-lake` prints.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalLake, startLocalLake } from "../../local/lake";
import { runNode, RUN_TS } from "../helpers/run-app";

describe("examples/ against a local lake", function () {
  this.timeout(180_000);
  let dir: string;
  let lake: LocalLake;
  let env: NodeJS.ProcessEnv;

  before(async function () {
    this.timeout(120_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-examples-"));
    lake = await startLocalLake({ stack: "dev", dataDir: path.join(dir, "lake"), services: "streams" });
    const catalogFile = path.join(dir, "catalog.json");
    fs.writeFileSync(catalogFile, JSON.stringify(lake.catalog));
    // What `datalake local-lake` prints, and nothing of the developer's AWS settings.
    env = { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_ENDPOINT_URL_KINESIS: lake.endpoint, AWS_REGION: lake.region, DATALAKE_CATALOG: catalogFile };
  });
  after(async function () {
    this.timeout(60_000);
    await lake?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const example = (name: string, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => runNode([RUN_TS, `examples/${name}.ts`, ...args], { ...env, ...extraEnv });
  const ids = (stdout: string) => stdout.trim().split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { id: string }).id);

  it("publish.ts delivers every record; consume.ts writes each once and, run again with its checkpoint, only what came since", async () => {
    const published = await example("publish", ["ingest/persons", "3000", "first"]);
    assert.strictEqual(published.code, 0, published.stderr);
    const summary = JSON.parse(published.stdout) as { sent: number; interrupted: boolean };
    assert.strictEqual(summary.sent, 3000);
    assert.strictEqual(summary.interrupted, false);

    const checkpoint = path.join(dir, "persons.checkpoint.json");
    const first = await example("consume", ["ingest/persons", checkpoint, "3"]);
    assert.strictEqual(first.code, 0, first.stderr);
    const firstIds = ids(first.stdout);
    assert.strictEqual(firstIds.length, 3000);
    assert.deepStrictEqual(new Set(firstIds), new Set(Array.from({ length: 3000 }, (_, i) => `first-${i + 1}`)));
    assert.match(first.stderr, /consumed 3000 records in \d+ batches from 2 shards \(idle-timeout\)/);

    const more = await example("publish", ["ingest/persons", "200", "second"]);
    assert.strictEqual(more.code, 0, more.stderr);
    const second = await example("consume", ["ingest/persons", checkpoint, "3"]);
    assert.strictEqual(second.code, 0, second.stderr);
    assert.deepStrictEqual(ids(second.stdout).sort(), Array.from({ length: 200 }, (_, i) => `second-${i + 1}`).sort());
  });

  it("a mistake the caller can make ends in one line that says what to fix (typed errors)", async () => {
    const unknown = await example("consume", ["ingest/nope", path.join(dir, "nope.json"), "1"]);
    assert.strictEqual(unknown.code, 2, unknown.stderr);
    assert.strictEqual(unknown.stderr, `error: unknown segment "ingest/nope" in catalog ${env.DATALAKE_CATALOG} (DATALAKE_CATALOG); known segments: ${Object.keys(lake.catalog).sort().join(", ")}\n`);

    const noCatalog = await example("publish", ["ingest/persons", "1"], { DATALAKE_CATALOG: "" });
    assert.strictEqual(noCatalog.code, 2, noCatalog.stderr);
    assert.match(noCatalog.stderr, /^error: no catalog: pass openLake\(\{ catalog \}\) .* or set DATALAKE_CATALOG/);
    assert.strictEqual(noCatalog.stderr.split("\n").length, 2, noCatalog.stderr);
  });
});
