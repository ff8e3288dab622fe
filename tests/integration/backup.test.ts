/**
 * Recovery from the backup on the local lake (issue 20), as a user runs it: the dev topology with a backup,
 * `npm run publish` into ingest/persons, wait until the wire-tap has archived every record and replication
 * has copied the archive to the replica folder, delete the segment's folder (a lost bucket or region), then
 * `npm run replay -- --from-backup` into another segment delivers every record. The lake runs in this
 * process (its emulator's front door too), so the apps run through the asynchronous runNpm.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CONFIG_KEY, parseLakeConfig } from "../../model/config";
import { readWireTapRecords } from "../../local/firehose";
import { LocalLake, startLocalLake } from "../../local/lake";
import { runNpm } from "../helpers/run-app";
import { readAll, until } from "../helpers/stream-reading";

const ROOT = path.resolve(__dirname, "..", "..");
const N = 400;

describe("backup and recovery on the local lake", function () {
  this.timeout(600_000);
  let lake: LocalLake;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const started = new Date();

  before(async function () {
    this.timeout(180_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-backup-"));
    // The dev topology with a backup to Frankfurt; no routes, so only what the test publishes moves.
    const stackFile = parseYaml(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, Record<string, unknown>> };
    const raw = { ...stackFile.config[CONFIG_KEY], routes: [], backup: { region: "eu-central-1" } };
    const config = parseLakeConfig(raw, { project: "datalake", stack: "dev", region: String(stackFile.config["aws:region"]) });
    lake = await startLocalLake({ config, stack: "dev", dataDir: path.join(dir, "lake"), persist: false, services: "all", wireTapMaxSeconds: 1, warn: () => undefined });
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(lake.catalog));
    env = {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ENDPOINT_URL_KINESIS: lake.endpoint,
      AWS_REGION: lake.region,
      DATALAKE_CATALOG: path.join(dir, "catalog.json"),
    };
  });
  after(async function () {
    this.timeout(60_000);
    await lake?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("publish, archive, replicate, lose the segment's folder, replay --from-backup into another segment: every record arrives", async () => {
    const persons = lake.catalog["ingest/persons"];
    const sourceDir = persons.localArchiveDir!;
    const replicaDir = persons.backup!.localArchiveDir!;
    assert.notStrictEqual(sourceDir, replicaDir);
    assert.ok(replicaDir.endsWith(`${persons.bucketName}-backup`), replicaDir);

    const records = Array.from({ length: N }, (_, i) => JSON.stringify({ id: `b-${i + 1}`, name: `dennis ${i + 1}`, age: i % 90 }));
    fs.writeFileSync(path.join(dir, "records.jsonl"), `${records.join("\n")}\n`);
    const published = await runNpm("publish", ["--segment", "ingest/persons", "--file", path.join(dir, "records.jsonl"), "--key-field", "id"], env);
    assert.strictEqual(published.status, 0, published.stderr);

    const ids = (lines: string[]) => new Set(lines.map((l) => (JSON.parse(l) as { id: string }).id));
    await until("the wire-tap to archive every record", 120_000, async () => ids(readWireTapRecords(sourceDir)).size >= N);
    await until("replication to copy the archive", 60_000, async () => ids(readWireTapRecords(replicaDir)).size >= N);
    // Same keys on both sides, as S3 replication keeps them.
    const keys = (bucketDir: string) => {
      const out: string[] = [];
      const walk = (d: string, prefix: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(path.join(d, e.name), `${prefix}${e.name}/`) : out.push(`${prefix}${e.name}`);
      };
      walk(bucketDir, "");
      return out.sort();
    };
    assert.deepStrictEqual(keys(replicaDir), keys(sourceDir));

    // The segment's bucket is lost; its backup is not.
    fs.rmSync(sourceDir, { recursive: true, force: true });
    const window = ["--from", new Date(started.getTime() - 3_600_000).toISOString(), "--to", new Date(Date.now() + 3_600_000).toISOString()];
    const fromSource = await runNpm("replay", ["--segment", "ingest/persons", "--into", "curated/order-stats", ...window, "--dry-run"], env);
    assert.strictEqual(fromSource.status, 0, fromSource.stderr);
    assert.strictEqual((JSON.parse(fromSource.stdout) as { matched: number }).matched, 0, "the source archive is gone");

    const checkpoint = path.join(dir, "replay-from-backup.json");
    const replay = await runNpm("replay", ["--segment", "ingest/persons", "--from-backup", "--into", "curated/order-stats", ...window, "--checkpoint", checkpoint], env);
    assert.strictEqual(replay.status, 0, replay.stderr);
    assert.match(replay.stderr, /backup \(eu-central-1\): .*-backup/);
    const summary = JSON.parse(replay.stdout) as { published: number; failed: { count: number } };
    assert.deepStrictEqual([summary.published, summary.failed.count], [N, 0]);

    const target = await readAll(lake.client, lake.catalog["curated/order-stats"].streamName);
    const got = target.map((r) => Buffer.from(r.Data!).toString("utf8"));
    assert.strictEqual(got.length, N);
    assert.deepStrictEqual([...ids(got)].sort(), [...ids(records)].sort());
  });

  it("says which segment has no backup and how to replay instead", async () => {
    const window = ["--from", "2026-11-26T10:00:00Z", "--to", "2026-11-26T11:00:00Z"];
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, "catalog.json"), "utf8"));
    delete catalog["ingest/orders"].backup;
    fs.writeFileSync(path.join(dir, "no-backup.json"), JSON.stringify(catalog));
    const run = await runNpm("replay", ["--segment", "ingest/orders", "--from-backup", "--into", "curated/adults", ...window], { ...env, DATALAKE_CATALOG: path.join(dir, "no-backup.json") });
    assert.strictEqual(run.status, 2, run.stderr);
    assert.match(run.stderr, /^error: ingest\/orders has no backup in catalog .*replay its own archive without --from-backup/m);
  });
});
