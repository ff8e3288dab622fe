/**
 * Where `replay --from-backup` reads (apps/replay/archive-source.ts): the catalog's `backup` entry, the
 * replica bucket in the backup region on S3 whatever region the apps are pointed at, the replica folder
 * of a local lake, and a clear error for a segment that has no backup.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { resolveArchiveSource } from "../../../apps/replay/archive-source";
import { S3ArchiveStore } from "../../../runtime/archive/s3-store";
import { UserError } from "../../../runtime/errors";

describe("replay --from-backup: which archive", () => {
  let dir: string;
  const entry = {
    streamName: "acme-ingest-persons",
    bucketName: "acme-ingest-persons-123456789012",
    region: "eu-west-1",
    backup: { bucketName: "acme-ingest-persons-123456789012-backup", region: "eu-central-1", kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/k" },
  };
  const env = (catalog: unknown): NodeJS.ProcessEnv => {
    fs.writeFileSync(path.join(dir, "catalog.json"), JSON.stringify(catalog));
    return { DATALAKE_CATALOG: path.join(dir, "catalog.json"), AWS_REGION: "eu-west-1", AWS_ENDPOINT_URL_KINESIS: "https://kinesis.eu-west-1.amazonaws.com" };
  };
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "replay-backup-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads the replica bucket in the backup region, not the segment's bucket in AWS_REGION", async () => {
    const source = resolveArchiveSource("ingest/persons", { fromBackup: true }, env({ "ingest/persons": entry }));
    try {
      assert.ok(source.store instanceof S3ArchiveStore);
      assert.strictEqual(source.store.description, `s3://${entry.backup.bucketName}`);
      assert.strictEqual(await source.store.client.config.region(), "eu-central-1");
      assert.match(source.description, /^backup \(eu-central-1\): s3:\/\/acme-ingest-persons-123456789012-backup/);
    } finally {
      source.close();
    }
    const own = resolveArchiveSource("ingest/persons", {}, env({ "ingest/persons": entry }));
    try {
      assert.strictEqual(own.store.description, `s3://${entry.bucketName}`);
      assert.strictEqual(await (own.store as S3ArchiveStore).client.config.region(), "eu-west-1");
    } finally {
      own.close();
    }
  });

  it("reads a local lake's replica folder, and the replica's folder under --archive-dir", () => {
    const local = { ...entry, localArchiveDir: path.join(dir, "s3", entry.bucketName), backup: { ...entry.backup, localArchiveDir: path.join(dir, "s3", entry.backup.bucketName) } };
    assert.strictEqual(resolveArchiveSource("ingest/persons", { fromBackup: true }, env({ "ingest/persons": local })).store.description, local.backup.localArchiveDir);
    const archiveDir = path.join(dir, "archive");
    assert.strictEqual(
      resolveArchiveSource("ingest/persons", { fromBackup: true, archiveDir }, env({ "ingest/persons": entry })).store.description,
      path.join(archiveDir, entry.backup.bucketName),
    );
  });

  it("refuses a segment without a backup, naming it and the way out", () => {
    const { backup: _none, ...without } = entry;
    assert.throws(
      () => resolveArchiveSource("ingest/persons", { fromBackup: true }, env({ "ingest/persons": without })),
      (err: Error) => err instanceof UserError && /^ingest\/persons has no backup in catalog .*without --from-backup$/.test(err.message),
    );
  });
});
