/**
 * The local query's views (apps/query/views.ts): what DuckDB is asked to read (one glob per hour folder of
 * GZIP objects, plain objects by name, never a `.partial` object), and lines that are not JSON objects
 * reading as rows of NULLs with their partition columns, counted apart, as Athena's OpenX JSON SerDe with
 * `ignore.malformed.json` reads them.
 */
import { DuckDBInstance } from "@duckdb/node-api";
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";
import { archiveSources, malformedCountSelect, viewSelect } from "../../../apps/query/views";
import { wireTapObjectKey } from "../../../model/naming";

describe("local query views", () => {
  let dir: string;
  const put = (key: string, body: Buffer) => {
    const file = path.join(dir, ...key.split("/"));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    return file;
  };
  const key = (iso: string, id: string, compression = "GZIP") => wireTapObjectKey("ds", compression, new Date(iso), id);
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "query-views-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("names an hour folder's GZIP objects with one glob, plain objects by name, and no partial object", () => {
    put(key("2026-11-26T10:00:01Z", "a"), zlib.gzipSync("{}\n"));
    put(key("2026-11-26T10:00:02Z", "b"), zlib.gzipSync("{}\n"));
    put(`${key("2026-11-26T10:00:03Z", "c")}.partial`, Buffer.from("half"));
    const plain = put(key("2026-11-26T11:00:00Z", "d", "UNCOMPRESSED"), Buffer.from("{}\n"));
    const { sources, objects } = archiveSources(dir);
    assert.strictEqual(objects, 3);
    assert.deepStrictEqual(sources, [path.join(dir, "data", "year=2026", "month=11", "day=26", "hour=10", "*.gz"), plain]);
  });

  it("reads a line that is not a JSON object as a row of NULLs (partitions kept), and counts such lines", async () => {
    const lines = ['{"id":"a","age":1}', "not json", '{"id":"b","age":"old"}', "[1,2]", '{"id":"c","age":3}', '{"id":"d"'];
    put(key("2026-11-26T10:00:01Z", "a"), zlib.gzipSync(`${lines.join("\n")}\n`));
    const { sources } = archiveSources(dir);
    const db = await DuckDBInstance.create(":memory:");
    const c = await db.connect();
    try {
      const rows = (await c.runAndReadAll(`SELECT id, age, hour FROM (${viewSelect({ id: "string", age: "int" }, sources)})`)).getRowObjectsJson();
      assert.deepStrictEqual(rows, [
        { id: "a", age: 1, hour: 10 },
        { id: null, age: null, hour: 10 },
        { id: "b", age: null, hour: 10 },
        { id: null, age: null, hour: 10 },
        { id: "c", age: 3, hour: 10 },
        { id: null, age: null, hour: 10 },
      ]);
      const counted = (await c.runAndReadAll(malformedCountSelect(sources))).getRowObjectsJson();
      assert.deepStrictEqual(counted, [{ malformed: "3" }]);
    } finally {
      c.closeSync();
      db.closeSync();
    }
  });
});
