/**
 * Where the local lake's stand-in for an event source mapping filters: with the default
 * `filterAt: function` it hands every record to the handler (which filters after unpacking KPL
 * aggregates); with `filterAt: mapping` it applies Lambda's rule to the record as stored, so a KPL
 * aggregate (not JSON) is dropped whole: the reading of Lambda's docs that loses records, never kinder.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LocalProcessor } from "../../../local/processor";
import { aggregate as kplAggregate } from "../../../model/kpl";
import { parseLakeConfig, RouteConfig } from "../../../model/config";

const layers = { ingest: { segments: { persons: {} } }, curated: { segments: { adults: {} } } };
const routeOf = (extra: Record<string, unknown>): RouteConfig =>
  parseLakeConfig({ layers, routes: [{ from: "ingest/persons", to: "curated/adults", filter: { age: [{ numeric: [">=", 18] }] }, ...extra }] }, { project: "datalake", stack: "t" })
    .routes[0];

describe("local processor: where the route's filter runs", () => {
  let dataDir: string;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "processor-filter-"))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const processor = (route: RouteConfig) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    new LocalProcessor({ route, client: {} as any, sourceStream: "s", targetStream: "t", sourceStreamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/s", dataDir });
  const adult = Buffer.from('{"age":30}');
  const child = Buffer.from('{"age":3}');
  const notJson = Buffer.from("age=40");
  const agg = Buffer.from(kplAggregate([{ partitionKey: "a", data: adult }]).data);

  it("hands every record to the handler by default", () => {
    const p = processor(routeOf({}));
    for (const data of [adult, child, notJson, agg]) assert.ok(p.accepts(data));
  });

  it("drops non-matching, non-JSON and KPL-aggregated records before the handler with filterAt: mapping", () => {
    const p = processor(routeOf({ filterAt: "mapping" }));
    assert.deepStrictEqual([adult, child, notJson, agg].map((d) => p.accepts(d)), [true, false, false, false]);
  });
});
