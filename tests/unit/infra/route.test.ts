/**
 * Routes: the EventBridge pipe between two segments' streams, its filter and its role, under mocks.
 */
import * as assert from "assert";
import { buildLake, LakeRun, policyOf, RecordedResource, TYPES } from "../../helpers/pulumi-mocks";

const TOPOLOGY = {
  name: "unit",
  layers: {
    ingest: { segments: { persons: {}, orders: {} } },
    curated: { segments: { adults: {}, all: {} } },
  },
  routes: [
    { from: "ingest/persons", to: "curated/adults", filter: { age: [{ numeric: [">=", 18] }] } },
    { name: "everything", from: "ingest/orders", to: "curated/all" },
  ],
};

describe("DataRoute", function () {
  let run: LakeRun;
  before(async () => {
    run = await buildLake(TOPOLOGY);
  });

  const route = (name: string) => run.get(TYPES.route, name);
  const under = (root: RecordedResource, type: string) => run.only(root, type);
  const segment = (name: string) => run.get(TYPES.segment, name);
  const keyOfLayer = (layer: string): string => run.only(run.get(TYPES.layer, layer), TYPES.key).state.arn;

  it("is one component per route, inside the lake, named after the route", () => {
    const routes = run.ofType(TYPES.route);
    assert.deepStrictEqual(routes.map((r) => r.name).sort(), ["route-everything", "route-ingest-persons-to-curated-adults"]);
    const lake = run.ofType(TYPES.lake)[0];
    for (const r of routes) {
      assert.strictEqual(r.parent, lake.urn);
      for (const c of run.childrenOf(r)) assert.ok(c.name.startsWith(`${r.name}-`), c.name);
    }
  });

  it("pipes the source segment's stream into the target segment's stream", () => {
    const pipe = under(route("route-ingest-persons-to-curated-adults"), TYPES.pipe).inputs;
    assert.strictEqual(pipe.name, "unit-ingest-persons-to-curated-adults");
    assert.strictEqual(pipe.source, under(segment("ingest-persons"), TYPES.stream).state.arn);
    assert.strictEqual(pipe.target, under(segment("curated-adults"), TYPES.stream).state.arn);
  });

  it("filters on the record's JSON, which Pipes exposes under data", () => {
    const pipe = under(route("route-ingest-persons-to-curated-adults"), TYPES.pipe).inputs;
    const filters = pipe.sourceParameters.filterCriteria.filters;
    assert.strictEqual(filters.length, 1);
    assert.deepStrictEqual(JSON.parse(filters[0].pattern), { data: { age: [{ numeric: [">=", 18] }] } });
  });

  it("forwards every record when the route has no filter", () => {
    const pipe = under(route("route-everything"), TYPES.pipe).inputs;
    assert.strictEqual(pipe.sourceParameters.filterCriteria, undefined);
    assert.strictEqual(pipe.name, "unit-everything");
  });

  it("starts at the oldest retained record and writes the original record under its partition key", () => {
    const pipe = under(route("route-ingest-persons-to-curated-adults"), TYPES.pipe).inputs;
    assert.deepStrictEqual(pipe.sourceParameters.kinesisStreamParameters, { startingPosition: "TRIM_HORIZON" });
    assert.deepStrictEqual(pipe.targetParameters, {
      kinesisStreamParameters: { partitionKey: "$.partitionKey" },
      inputTemplate: "<$.data>",
    });
  });

  it("runs as its own role, created (with its permissions) before the pipe", () => {
    const r = route("route-ingest-persons-to-curated-adults");
    const role = under(r, TYPES.role);
    const pipe = under(r, TYPES.pipe);
    assert.strictEqual(pipe.inputs.roleArn, role.state.arn);
    assert.strictEqual(role.inputs.name, "unit-ingest-persons-to-curated-adults-route");
    assert.deepStrictEqual(policyOf(role, "assumeRolePolicy").Statement[0].Principal, { Service: "pipes.amazonaws.com" });
    const rolePolicy = under(r, TYPES.rolePolicy);
    assert.strictEqual(rolePolicy.inputs.role, role.id);
    assert.ok(pipe.dependencies.includes(rolePolicy.urn), "the pipe does not wait for its role policy");
  });

  it("may read only the source stream and write only the target stream, each with its own layer's key", () => {
    const doc = policyOf(under(route("route-ingest-persons-to-curated-adults"), TYPES.rolePolicy));
    const source = under(segment("ingest-persons"), TYPES.stream).state.arn;
    const target = under(segment("curated-adults"), TYPES.stream).state.arn;
    type S = { Action: string | string[]; Resource: string | string[] };
    const resourcesFor = (action: string) =>
      (doc.Statement as S[]).filter((s) => ([] as string[]).concat(s.Action).includes(action)).flatMap((s) => ([] as string[]).concat(s.Resource));
    assert.deepStrictEqual(resourcesFor("kinesis:GetRecords"), [source]);
    assert.deepStrictEqual(resourcesFor("kinesis:PutRecords"), [target]);
    assert.deepStrictEqual(resourcesFor("kms:Decrypt"), [keyOfLayer("ingest")]);
    assert.deepStrictEqual(resourcesFor("kms:GenerateDataKey"), [keyOfLayer("curated")]);
    const text = JSON.stringify(doc);
    for (const other of ["ingest-orders", "curated-all"]) {
      assert.ok(!text.includes(under(segment(other), TYPES.stream).state.arn), `route policy names ${other}`);
    }
  });
});
