/**
 * `npm run local-lake` is the whole lake: streams, routes and wire-taps, used by the apps through the
 * variables it prints, as a user would (real processes, real emulator).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { readWireTapRecords } from "../../local/firehose";
import { runApp } from "../helpers/run-app";
import { lakeEnv, LakeProcess, startLakeProcess } from "../helpers/local-lake-process";

function files(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("npm run local-lake (streams, routes, wire-taps as one lake)", function () {
  this.timeout(240_000);
  let dataDir: string;
  let lake: LakeProcess | undefined;
  before(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-lake-"))));
  // A test that fails midway must not leave its lake holding the folder for the next one.
  afterEach(async () => {
    if (lake && lake.child.exitCode === null && lake.child.signalCode === null) {
      process.kill(-lake.child.pid!, "SIGINT");
      await lake.exited;
    }
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it("publish to ingest/persons, subscribe to curated/adults: exactly the records the route's filter matches; wire-tap objects appear while it runs", async () => {
    lake = await startLakeProcess(dataDir, ["--wire-tap-seconds", "1"]);
    assert.match(lake.stdout(), /^export AWS_ENDPOINT_URL_KINESIS=http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(lake.stdout(), new RegExp(`^export DATALAKE_CATALOG=${dataDir}/catalog\\.json$`, "m"));
    const env = { ...lakeEnv(dataDir), ...lake.vars };

    const count = 400;
    const published = await runApp("apps/publisher/main.ts", ["--segment", "ingest/persons", "--count", String(count)], env);
    assert.strictEqual(published.code, 0, published.stderr);
    const adultsExpected = count - 17; // demo person i has age i: ages 18..400 match `age >= 18`

    const subscribed = await runApp(
      "apps/subscriber/main.ts",
      ["--segment", "curated/adults", "--from", "trim-horizon", "--max", String(adultsExpected), "--idle-timeout", "60"],
      env,
    );
    assert.strictEqual(subscribed.code, 0, subscribed.stderr);
    const adults = subscribed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: string; age: number });
    assert.strictEqual(adults.length, adultsExpected);
    assert.ok(adults.every((r) => r.age >= 18), "only records the filter matches");
    assert.strictEqual(new Set(adults.map((r) => r.age)).size, adultsExpected, "every matching record, once");

    // Nothing more arrives: the route forwarded exactly the matches.
    const rest = await runApp("apps/subscriber/main.ts", ["--segment", "curated/adults", "--from", "trim-horizon", "--idle-timeout", "5"], env);
    assert.strictEqual(rest.stdout.trim().split("\n").length, adultsExpected);

    // The wire-taps wrote Firehose's object layout under the lake's folder while it runs.
    const persons = path.join(dataDir, "s3", "datalake-dev-ingest-persons-000000000000");
    const adultsBucket = path.join(dataDir, "s3", "datalake-dev-curated-adults-000000000000");
    await until("persons objects", () => (readWireTapRecords(persons).length >= count ? true : undefined), 60_000);
    await until("adults objects", () => (readWireTapRecords(adultsBucket).length >= adultsExpected ? true : undefined), 60_000);
    assert.strictEqual(lake.child.exitCode, null, "still running");
    for (const file of files(persons)) {
      assert.match(
        path.relative(persons, file),
        /^data\/year=\d{4}\/month=\d{2}\/day=\d{2}\/hour=\d{2}\/datalake-dev-ingest-persons-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$/,
      );
    }
    const stored = readWireTapRecords(persons).map((l) => JSON.parse(l) as { id: string });
    assert.strictEqual(new Set(stored.map((r) => r.id)).size, count, "every published record is in the bucket");

    // replay, query and lag with exactly the lines the lake printed (no --archive-dir, no --endpoint).
    const printed: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_EC2_METADATA_DISABLED: "true", ...lake.vars };
    const queried = await runApp("apps/query/main.ts", ["SELECT count(DISTINCT id) AS n FROM ingest.persons"], printed);
    assert.strictEqual(queried.code, 0, queried.stderr);
    assert.match(queried.stdout, new RegExp(`\\b${count}\\b`), queried.stdout);
    await new Promise((r) => setTimeout(r, 1100)); // the window ends before now: every object so far is in it
    const window = ["--from", new Date(Date.now() - 3_600_000).toISOString(), "--to", new Date().toISOString()];
    const replayed = await runApp("apps/replay/main.ts", ["--segment", "ingest/persons", "--into", "curated/order-stats", ...window], printed);
    assert.strictEqual(replayed.code, 0, replayed.stderr);
    const checkpoint = path.join(dataDir, "stats.checkpoint.json");
    const read = await runApp(
      "apps/subscriber/main.ts",
      ["--segment", "curated/order-stats", "--from", "trim-horizon", "--max", String(count), "--idle-timeout", "30", "--checkpoint", checkpoint],
      printed,
    );
    assert.strictEqual(read.code, 0, read.stderr);
    const replayedIds = read.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { id?: string }).id);
    assert.strictEqual(new Set(replayedIds).size, count, "replay delivered every archived record into the other segment");
    const lag = await runApp("apps/lag/main.ts", ["--segment", "curated/order-stats", "--checkpoint", checkpoint, "--json"], printed);
    assert.strictEqual(lag.code, 0, lag.stderr);
    assert.ok(lag.stdout.trim().split("\n").length >= 1, lag.stdout);

    // Ctrl-C (to the whole process group, as a terminal sends it) stops the lake cleanly.
    process.kill(-lake.child.pid!, "SIGINT");
    assert.strictEqual(await lake.exited, 0, lake.stderr());
  });

  it("an app that finds the lake held by npm run local-lake says so and how to use it", async () => {
    lake = await startLakeProcess(dataDir);
    try {
      const run = await runApp("apps/subscriber/main.ts", ["--segment", "ingest/persons", "--max", "1"], lakeEnv(dataDir));
      assert.notStrictEqual(run.code, 0);
      const errors = run.stderr.split("\n").filter((l) => l.startsWith("error:"));
      assert.strictEqual(errors.length, 1, run.stderr);
      assert.match(errors[0], /running under `npm run local-lake`/);
      // Every line the lake printed, so pasting them from the message works as well as from the lake.
      for (const [name, value] of Object.entries(lake.vars)) assert.ok(errors[0].includes(`export ${name}=${value}`), errors[0]);
      // (AWS_ENDPOINT_URL_DYNAMODB: the dev stack declares consumer groups, whose lease tables the lake holds.)
      assert.deepStrictEqual(Object.keys(lake.vars).sort(), ["AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_KINESIS", "AWS_REGION", "DATALAKE_CATALOG", "DATALAKE_STACK"]);
    } finally {
      process.kill(-lake.child.pid!, "SIGINT");
      await lake.exited;
    }
  });
});
