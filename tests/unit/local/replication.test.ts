/**
 * The local lake's stand-in for S3 Replication (local/replication.ts): copies under the same keys, some
 * time after the object appeared, only the replicated prefix, never a delete; plus the local catalog's
 * backup entry (apps/lib/catalog.ts).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { catalogFromConfig } from "../../../runtime/catalog";
import { parseLakeConfig } from "../../../model/config";
import { wireTapObjectKey } from "../../../model/naming";
import { LocalReplication } from "../../../local/replication";

const put = (bucketDir: string, key: string, body: string) => {
  const file = path.join(bucketDir, ...key.split("/"));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, body);
};
const read = (bucketDir: string, key: string) => fs.readFileSync(path.join(bucketDir, ...key.split("/")), "utf8");
const has = (bucketDir: string, key: string) => fs.existsSync(path.join(bucketDir, ...key.split("/")));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, ms: number, check: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    assert.ok(Date.now() < deadline, `${what} did not happen within ${ms} ms`);
    await sleep(20);
  }
}

describe("local S3 replication", function () {
  let dir: string;
  let source: string;
  let replica: string;
  let replication: LocalReplication | undefined;
  const key = (second: number, id: string) => wireTapObjectKey("acme-ingest-persons", "GZIP", new Date(Date.UTC(2026, 10, 26, 10, 0, second)), id);

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-replication-"));
    source = path.join(dir, "s3", "bucket");
    replica = path.join(dir, "s3", "bucket-backup");
  });
  afterEach(async () => {
    await replication?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("copies every archive object under the same key, byte for byte, after it appeared (not at once)", async () => {
    put(source, key(1, "a"), "one\n");
    replication = new LocalReplication({ sourceDir: source, replicaDir: replica, intervalMs: 50 });
    replication.start();
    // Asynchronous, as S3: nothing is there when the lake has only just started.
    assert.ok(!has(replica, key(1, "a")));
    await until("the first copy", 5_000, () => has(replica, key(1, "a")));
    assert.strictEqual(read(replica, key(1, "a")), "one\n");
    put(source, key(2, "b"), "two\n");
    await until("a later object's copy", 5_000, () => has(replica, key(2, "b")));
    assert.deepStrictEqual(replication.stats.keys, [key(1, "a"), key(2, "b")]);
  });

  it("copies only the replicated prefix, and no half-written object", () => {
    put(source, key(1, "a"), "one\n");
    put(source, `${key(2, "b")}.partial`, "half");
    put(source, "errors/processing-failed/year=2026/x.gz", "error");
    replication = new LocalReplication({ sourceDir: source, replicaDir: replica });
    assert.deepStrictEqual(replication.replicateNow(), [key(1, "a")]);
    assert.ok(!has(replica, `${key(2, "b")}.partial`) && !has(replica, "errors/processing-failed/year=2026/x.gz"));
  });

  it("never deletes: removing source objects or the whole source folder leaves the replica as it is", async () => {
    put(source, key(1, "a"), "one\n");
    put(source, key(2, "b"), "two\n");
    replication = new LocalReplication({ sourceDir: source, replicaDir: replica, intervalMs: 50 });
    replication.start();
    await until("both copies", 5_000, () => has(replica, key(1, "a")) && has(replica, key(2, "b")));
    fs.rmSync(path.join(source, ...key(1, "a").split("/")));
    await sleep(200);
    fs.rmSync(source, { recursive: true, force: true });
    await sleep(200);
    assert.deepStrictEqual([read(replica, key(1, "a")), read(replica, key(2, "b"))], ["one\n", "two\n"]);
    // And replication goes on for objects written afterwards.
    put(source, key(3, "c"), "three\n");
    await until("the new object's copy", 5_000, () => has(replica, key(3, "c")));
  });

  it("copies an object once: a copy removed from the replica is not made again", async () => {
    put(source, key(1, "a"), "one\n");
    replication = new LocalReplication({ sourceDir: source, replicaDir: replica, intervalMs: 50 });
    assert.deepStrictEqual(replication.replicateNow(), [key(1, "a")]);
    fs.rmSync(path.join(replica, ...key(1, "a").split("/")));
    assert.deepStrictEqual(replication.replicateNow(), []);
  });

  it("copies what is pending when it stops", async () => {
    replication = new LocalReplication({ sourceDir: source, replicaDir: replica, intervalMs: 60_000 });
    replication.start();
    await sleep(50);
    put(source, key(4, "d"), "four\n");
    await replication.stop();
    assert.strictEqual(read(replica, key(4, "d")), "four\n");
  });

  it("the local catalog names each backed-up segment's replica, in the backup region, and no other", () => {
    const config = parseLakeConfig(
      { name: "acme", backup: { region: "eu-central-1" }, layers: { ingest: { segments: { persons: {}, orders: { backup: false } } } } },
      { project: "datalake", stack: "test", region: "eu-west-1" },
    );
    const catalog = catalogFromConfig(config, { accountId: "000000000000", region: "eu-west-1" });
    assert.deepStrictEqual(catalog["ingest/persons"].backup, {
      bucketName: "acme-ingest-persons-000000000000-backup",
      region: "eu-central-1",
      kmsKeyArn: "arn:aws:kms:eu-central-1:000000000000:alias/acme/backup/ingest",
    });
    assert.strictEqual(catalog["ingest/orders"].backup, undefined);
  });
});
