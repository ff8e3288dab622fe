/**
 * The archive table of an aggregating route's target fits the records the processor writes there
 * (`{"window":{"start","end"},"key":{…},"count":n,"sum":{…},"min":{…},"max":{…}}`), without the user
 * writing a schema; a segment's own `schema` still wins.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DuckDBInstance } from "@duckdb/node-api";
import { viewSelect } from "../../../apps/query/views";
import { aggregateResultSchema, duckdbType, schemaProblems, structFields } from "../../../model/archive";
import { parseLakeConfig } from "../../../model/config";
import { windowResults, addRecord, emptyState } from "../../../model/processor/aggregate";
import { buildLake, clone, LakeRun, stackTopology } from "../../helpers/pulumi-mocks";

const GLUE_TABLE = "aws:glue/catalogTable:CatalogTable";

/** Column name → Glue type of a recorded Glue table. */
const columnsOf = (run: LakeRun, name: string): Record<string, string> => {
  const table = run.get(GLUE_TABLE, name);
  return Object.fromEntries((table.inputs.storageDescriptor.columns as { name: string; type: string }[]).map((c) => [c.name, c.type]));
};

/** The fields of a JSON object as a Glue type would describe them: nested objects as their field names. */
const shapeOf = (record: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v && typeof v === "object" ? Object.keys(v).sort() : typeof v]));
const shapeOfColumns = (columns: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(columns).map(([k, t]) => {
      const fields = structFields(t);
      return [k, fields ? fields.map(([f]) => f).sort() : t === "bigint" || t === "double" || t === "int" ? "number" : t];
    }),
  );

describe("archive table of an aggregating route's target", function () {
  this.timeout(120_000);
  let run: LakeRun;
  before(async () => {
    run = await buildLake(stackTopology("dev"), { stack: "dev" });
  });

  it("gives curated/order-stats columns that match its window results, field by field", () => {
    const route = run.config.routes.find((r) => r.to === "curated/order-stats")!;
    const spec = route.aggregate!;
    const state = addRecord(emptyState(), { customer: "c1", amount: 12.5 }, spec);
    const [record] = windowResults(state, { start: "2026-11-26T12:00:00Z", end: "2026-11-26T12:01:00Z" }, spec);
    const columns = columnsOf(run, "curated-order-stats-archive-table");
    assert.deepStrictEqual(columns, {
      window: "struct<start:string,end:string>",
      key: "struct<customer:string>",
      count: "bigint",
      sum: "struct<amount:double>",
    });
    assert.deepStrictEqual(shapeOfColumns(columns), shapeOf(record));
  });

  it("keeps the default columns for a segment no aggregating route writes to", () => {
    assert.deepStrictEqual(columnsOf(run, "curated-adults-archive-table"), { id: "string", name: "string", age: "int" });
  });

  it("uses the segment's own schema when it declares one", async () => {
    const raw = clone(stackTopology("dev")) as { layers: { curated: { segments: Record<string, Record<string, unknown>> } } };
    raw.layers.curated.segments["order-stats"] = { schema: { count: "bigint" } };
    const own = await buildLake(raw, { stack: "dev" });
    assert.deepStrictEqual(columnsOf(own, "curated-order-stats-archive-table"), { count: "bigint" });
  });
});

describe("aggregateResultSchema", () => {
  it("has a column per total the routes ask for, the union over several routes into one segment", () => {
    const schema = aggregateResultSchema([
      { groupBy: ["customer"], count: false, sum: ["amount"], min: [], max: [] },
      { groupBy: ["region"], count: true, sum: [], min: ["amount"], max: ["amount", "items"] },
    ]);
    assert.deepStrictEqual(schema, {
      window: "struct<start:string,end:string>",
      key: "struct<customer:string,region:string>",
      count: "bigint",
      sum: "struct<amount:double>",
      min: "struct<amount:double>",
      max: "struct<amount:double,items:double>",
    });
    assert.deepStrictEqual(schemaProblems(schema), []);
  });

  it("maps struct columns to DuckDB structs for the local query engine", () => {
    assert.strictEqual(duckdbType("struct<start:string,end:string>"), 'STRUCT("start" VARCHAR, "end" VARCHAR)');
    assert.strictEqual(duckdbType("bigint"), "BIGINT");
  });

  it("lets the local query engine read a window result through the derived schema", async () => {
    const spec = { windowSeconds: 60, groupBy: ["customer"], count: true, sum: ["amount"], min: [], max: [] };
    const [record] = windowResults(addRecord(emptyState(), { customer: 42, amount: 12.5 }, spec), { start: "s", end: "e" }, spec);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "agg-view-"));
    const file = path.join(dir, "data", "year=2026", "month=11", "day=26", "hour=12", "x");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(record)}\n`);
    try {
      const db = await DuckDBInstance.create(":memory:");
      const c = await db.connect();
      const sql = viewSelect(aggregateResultSchema([spec]), [file]);
      const rows = (await c.runAndReadAll(`SELECT "window"."end" AS e, key.customer AS k, count AS n, sum.amount AS a, hour FROM (${sql})`)).getRowObjectsJson();
      assert.deepStrictEqual(rows, [{ e: "e", k: "42", n: "1", a: 12.5, hour: 12 }]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("lets a schema declare struct columns and rejects malformed ones", () => {
    assert.deepStrictEqual(schemaProblems({ w: "struct<a:string,b:double>" }), []);
    for (const bad of ["struct<>", "struct<a:map>", "struct<A:string>", "struct<a:string,a:int>", "struct<a>"]) {
      assert.strictEqual(schemaProblems({ w: bad }).length, 1, bad);
    }
  });

  it("rejects an aggregate field that cannot be a table field when the target has no schema", () => {
    const raw = {
      layers: { a: { segments: { s: {} } }, b: { segments: { t: {} } } },
      routes: [{ from: "a/s", to: "b/t", aggregate: { windowSeconds: 60, groupBy: ["Customer-Id"], count: true } }],
    };
    assert.throws(() => parseLakeConfig(raw, { project: "p", stack: "s" }), /routes\[0\]\.aggregate\.groupBy\[0\].*give b\/t a schema.*Customer-Id/s);
    const withSchema = clone(raw) as { layers: { b: { segments: { t: Record<string, unknown> } } } };
    withSchema.layers.b.segments.t.schema = { count: "bigint" };
    assert.doesNotThrow(() => parseLakeConfig(withSchema, { project: "p", stack: "s" }));
  });
});
