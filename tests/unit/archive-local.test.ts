/**
 * The local side of the archive: the local wire-tap appends the record delimiter exactly as Firehose's
 * AppendDelimiterToRecord does, and the local archive store lists keys as S3 would (publish's lines:
 * tests/unit/apps/publish-lines.test.ts).
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { parseLakeConfig } from "../../model/config";
import { LocalArchiveStore } from "../../runtime/archive/local-store";
import { LocalWireTap } from "../../local/firehose";

const segment = (compression: "GZIP" | "UNCOMPRESSED") =>
  ({
    ...parseLakeConfig({ layers: { ingest: { segments: { persons: {} } } } }, { project: "datalake", stack: "t" }).segments[0],
    wireTap: { bufferSeconds: 900, bufferMiB: 128, compression },
  });

describe("local wire-tap delimiter", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "wiretap-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("appends a new line to every record, also to one that already ends in a new line", () => {
    const tap = new LocalWireTap(segment("UNCOMPRESSED"), "s", dir, () => new Date("2026-11-26T10:00:00Z"));
    tap.add(Buffer.from('{"id":"1"}'));
    tap.add(Buffer.from("raw line"));
    tap.add(Buffer.from('{"id":"3"}\n'));
    tap.close();
    assert.strictEqual(tap.stats.objects.length, 1);
    assert.strictEqual(fs.readFileSync(tap.stats.objects[0], "utf8"), '{"id":"1"}\nraw line\n{"id":"3"}\n\n');
  });

  it("does the same inside GZIP objects", () => {
    const tap = new LocalWireTap(segment("GZIP"), "s", dir, () => new Date("2026-11-26T10:00:00Z"));
    tap.add(Buffer.from("a"));
    tap.add(Buffer.from("b"));
    tap.close();
    assert.strictEqual(zlib.gunzipSync(fs.readFileSync(tap.stats.objects[0])).toString(), "a\nb\n");
  });
});

describe("local archive store", () => {
  it("lists the keys under a prefix as S3 would, and reads them back", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-"));
    try {
      for (const key of ["data/year=2026/month=11/day=26/hour=10/a", "data/year=2026/month=11/day=26/hour=11/b", "errors/x"]) {
        fs.mkdirSync(path.dirname(path.join(dir, key)), { recursive: true });
        fs.writeFileSync(path.join(dir, key), key);
      }
      const store = new LocalArchiveStore(dir);
      const keys: string[] = [];
      for await (const k of store.list("data/year=2026/month=11/day=26/hour=10/")) keys.push(k);
      assert.deepStrictEqual(keys, ["data/year=2026/month=11/day=26/hour=10/a"]);
      const none: string[] = [];
      for await (const k of store.list("data/year=2030/")) none.push(k);
      assert.deepStrictEqual(none, []);
      assert.strictEqual((await store.read(keys[0])).toString(), keys[0]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
