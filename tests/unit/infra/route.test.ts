/**
 * Routes as stream processors under mocks: per route a Lambda function, an event source mapping on the
 * route's own enhanced fan-out consumer with the filter, the failure settings and the dead-letter queue,
 * a deterministic code package, and a role that reaches only its two segments.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { buildLake, LakeRun, policyOf, RecordedResource, TYPES } from "../../helpers/pulumi-mocks";
import { logsMayUseKey } from "../../helpers/key-policy-match";
import * as path from "path";
import { buildProcessorHandler, processorPackageFiles } from "../../../components/processor-package";
import { processorSpec } from "../../../model/processor/spec";

const TOPOLOGY = {
  name: "unit",
  layers: {
    ingest: { segments: { persons: {}, orders: {} } },
    curated: { segments: { adults: {}, all: {}, stats: {}, big: {} } },
  },
  routes: [
    {
      from: "ingest/persons",
      to: "curated/adults",
      filter: { age: [{ numeric: [">=", 18] }] },
      transform: { select: ["id", "name", "age"] },
      failure: { maximumRetryAttempts: 2, maximumRecordAgeInSeconds: 600 },
      startAt: "2026-11-26T12:00:00Z",
    },
    { name: "everything", from: "ingest/orders", to: "curated/all", startAt: "latest" },
    { name: "big-orders", from: "ingest/orders", to: "curated/big", filter: { amount: [{ numeric: [">", 1000] }] }, filterAt: "mapping", startAt: "latest" },
    { name: "order-stats", from: "ingest/orders", to: "curated/stats", aggregate: { windowSeconds: 60, groupBy: ["customer"], count: true, sum: ["amount"] } },
  ],
};
const ADULTS = "route-ingest-persons-to-curated-adults";

describe("DataRoute (processor)", function () {
  this.timeout(60_000);
  let run: LakeRun;
  const warnings: string[] = [];
  before(async () => {
    const original = pulumi.log.warn;
    pulumi.log.warn = async (message: string) => void warnings.push(message);
    try {
      run = await buildLake(TOPOLOGY);
    } finally {
      pulumi.log.warn = original;
    }
  });

  const route = (name: string) => run.get(TYPES.route, name);
  const under = (root: RecordedResource, type: string) => run.only(root, type);
  const segment = (name: string) => run.get(TYPES.segment, name);
  const streamArn = (seg: string): string => under(segment(seg), TYPES.stream).state.arn;
  const keyOfLayer = (layer: string): string => run.only(run.get(TYPES.layer, layer), TYPES.key).state.arn;

  it("is one component per route, inside the lake, every child named after the route", () => {
    const routes = run.ofType(TYPES.route);
    assert.deepStrictEqual(routes.map((r) => r.name).sort(), ["route-big-orders", "route-everything", ADULTS, "route-order-stats"]);
    const lake = run.ofType(TYPES.lake)[0];
    for (const r of routes) {
      assert.strictEqual(r.parent, lake.urn);
      for (const c of run.childrenOf(r)) assert.ok(c.name.startsWith(`${r.name}-`), c.name);
    }
    assert.strictEqual(run.resources.filter((x) => x.type.startsWith("aws:pipes")).length, 0, "a pipe is left");
  });

  it("is a Lambda function on nodejs22.x whose mapping reads the source through the route's own consumer", () => {
    const r = route(ADULTS);
    const fn = under(r, TYPES.function);
    const consumer = under(r, TYPES.streamConsumer);
    const mapping = under(r, TYPES.eventSourceMapping);
    assert.strictEqual(fn.inputs.name, "unit-ingest-persons-to-curated-adults");
    assert.strictEqual(fn.inputs.runtime, "nodejs22.x");
    assert.strictEqual(fn.inputs.handler, "index.handle");
    assert.strictEqual(consumer.inputs.streamArn, streamArn("ingest-persons"));
    assert.strictEqual(mapping.inputs.eventSourceArn, consumer.state.arn);
    assert.strictEqual(mapping.inputs.functionName, fn.state.arn);
    assert.strictEqual(fn.inputs.environment.variables.TARGET_STREAM_NAME, under(segment("curated-adults"), TYPES.stream).state.name);
  });

  it("filters in the function by default, and in the mapping too (on the record's JSON under data) only when asked", () => {
    // Default: every record reaches the handler, which unpacks KPL aggregates before it filters.
    assert.strictEqual(under(route(ADULTS), TYPES.eventSourceMapping).inputs.filterCriteria, undefined);
    const adults = run.config.routes.find((r) => r.to === "curated/adults")!;
    assert.deepStrictEqual(processorSpec(adults).filter, { age: [{ numeric: [">=", 18] }] }, "the handler's spec carries the filter");
    const filters = under(route("route-big-orders"), TYPES.eventSourceMapping).inputs.filterCriteria.filters;
    assert.deepStrictEqual(filters.map((f: { pattern: string }) => JSON.parse(f.pattern)), [{ data: { amount: [{ numeric: [">", 1000] }] } }]);
    assert.strictEqual(under(route("route-everything"), TYPES.eventSourceMapping).inputs.filterCriteria, undefined);
  });

  it("has bounded failure: retries, record age, bisect, partial batch responses and an on-failure queue", () => {
    const r = route(ADULTS);
    const m = under(r, TYPES.eventSourceMapping).inputs;
    const queue = under(r, TYPES.queue);
    assert.deepStrictEqual(
      [m.maximumRetryAttempts, m.maximumRecordAgeInSeconds, m.bisectBatchOnFunctionError, m.functionResponseTypes, m.batchSize],
      [2, 600, true, ["ReportBatchItemFailures"], 100],
    );
    assert.deepStrictEqual(m.destinationConfig, { onFailure: { destinationArn: queue.state.arn } });
    const defaults = under(route("route-everything"), TYPES.eventSourceMapping).inputs;
    assert.deepStrictEqual([defaults.maximumRetryAttempts, defaults.maximumRecordAgeInSeconds, defaults.bisectBatchOnFunctionError], [3, 3600, true]);
    assert.strictEqual(queue.inputs.name, "unit-ingest-persons-to-curated-adults-dlq");
    assert.strictEqual(queue.inputs.kmsMasterKeyId, keyOfLayer("curated"));
    assert.strictEqual(queue.inputs.maxMessageSize, 256 * 1024, "the size the handler cuts dead letters to and the local lake refuses past");
    assert.strictEqual(under(r, TYPES.function).inputs.environment.variables.DEAD_LETTER_QUEUE_URL, queue.state.url);
  });

  it("starts where the route says: a time, latest, or the oldest retained record", () => {
    const pos = (name: string) => {
      const m = under(route(name), TYPES.eventSourceMapping).inputs;
      return [m.startingPosition, m.startingPositionTimestamp];
    };
    assert.deepStrictEqual(pos(ADULTS), ["AT_TIMESTAMP", "2026-11-26T12:00:00.000Z"]);
    assert.deepStrictEqual(pos("route-everything"), ["LATEST", undefined]);
    assert.deepStrictEqual(pos("route-order-stats"), ["TRIM_HORIZON", undefined]);
  });

  it("warns, naming the route, when a route does not say where to start (it re-sends what the source retains)", () => {
    const about = warnings.filter((w) => /startAt/.test(w));
    assert.strictEqual(about.length, 1, warnings.join("\n"));
    assert.match(about[0], /route order-stats \(ingest\/orders -> curated\/stats\) has no startAt.*trim-horizon/);
  });

  it("aggregates in tumbling windows of the configured length; other routes have none", () => {
    assert.strictEqual(under(route("route-order-stats"), TYPES.eventSourceMapping).inputs.tumblingWindowInSeconds, 60);
    assert.strictEqual(under(route(ADULTS), TYPES.eventSourceMapping).inputs.tumblingWindowInSeconds, undefined);
  });

  it("logs to its own log group, kept 30 days and encrypted with the target layer's key, which may serve it", () => {
    const r = route(ADULTS);
    const logGroup = under(r, TYPES.logGroup);
    const fn = under(r, TYPES.function);
    assert.strictEqual(logGroup.inputs.name, "/datalake/unit/curated/processors/ingest-persons-to-curated-adults");
    assert.deepStrictEqual([logGroup.inputs.retentionInDays, logGroup.inputs.kmsKeyId], [30, keyOfLayer("curated")]);
    assert.strictEqual(fn.inputs.loggingConfig.logGroup, logGroup.state.name);
    assert.ok(fn.dependencies.includes(logGroup.urn), "the function does not wait for its log group");
    const keyPolicy = (layer: string) => policyOf(run.only(run.get(TYPES.layer, layer), TYPES.key));
    assert.ok(logsMayUseKey(keyPolicy("curated") as never, logGroup.state.arn), "the curated key policy does not let Logs use the key for the processor's log group");
    assert.ok(!logsMayUseKey(keyPolicy("ingest") as never, logGroup.state.arn), "the ingest key serves a curated processor's log group");
  });

  it("runs as its own Lambda role, whose permissions exist before the function and the mapping", () => {
    const r = route(ADULTS);
    const role = under(r, TYPES.role);
    assert.strictEqual(under(r, TYPES.function).inputs.role, role.state.arn);
    assert.strictEqual(role.inputs.name, "unit-ingest-persons-to-curated-adults-route");
    assert.deepStrictEqual(policyOf(role, "assumeRolePolicy").Statement[0].Principal, { Service: "lambda.amazonaws.com" });
    const rolePolicy = under(r, TYPES.rolePolicy);
    assert.strictEqual(rolePolicy.inputs.role, role.id);
    assert.ok(under(r, TYPES.eventSourceMapping).dependencies.includes(rolePolicy.urn), "the mapping does not wait for its role policy");
    assert.ok(under(r, TYPES.function).dependencies.includes(rolePolicy.urn), "the function does not wait for its role policy");
  });

  it("reaches only its two segments: source via its consumer, target stream, its queue, its log group, the two keys", () => {
    const r = route(ADULTS);
    const doc = policyOf(under(r, TYPES.rolePolicy));
    type S = { Action: string | string[]; Resource: string | string[] };
    const resourcesFor = (action: string) =>
      (doc.Statement as S[]).filter((s) => ([] as string[]).concat(s.Action).includes(action)).flatMap((s) => ([] as string[]).concat(s.Resource));
    assert.deepStrictEqual(resourcesFor("kinesis:SubscribeToShard"), [under(r, TYPES.streamConsumer).state.arn]);
    assert.deepStrictEqual(resourcesFor("kinesis:GetRecords"), [streamArn("ingest-persons")]);
    assert.deepStrictEqual(resourcesFor("kinesis:PutRecords"), [streamArn("curated-adults")]);
    assert.deepStrictEqual(resourcesFor("kms:Decrypt").sort(), [keyOfLayer("curated"), keyOfLayer("ingest")].sort());
    assert.deepStrictEqual(resourcesFor("kms:GenerateDataKey"), [keyOfLayer("curated"), keyOfLayer("curated")]);
    assert.deepStrictEqual(resourcesFor("sqs:SendMessage"), [under(r, TYPES.queue).state.arn]);
    assert.deepStrictEqual(resourcesFor("logs:PutLogEvents"), [`${under(r, TYPES.logGroup).state.arn}:*`]);
    const text = JSON.stringify(doc);
    for (const other of ["ingest-orders", "curated-all", "curated-stats"]) assert.ok(!text.includes(streamArn(other)), `route policy names ${other}`);
    for (const otherRoute of ["route-everything", "route-order-stats"]) {
      assert.ok(!text.includes(under(route(otherRoute), TYPES.queue).state.arn), `route policy names ${otherRoute}'s queue`);
    }
  });

  it("lists each route's dead-letter queue in the catalog, on its source segment", () => {
    assert.deepStrictEqual(Object.keys(run.catalog["ingest/orders"].deadLetterQueues ?? {}).sort(), ["big-orders", "everything", "order-stats"]);
    assert.deepStrictEqual(run.catalog["ingest/persons"].deadLetterQueues?.["ingest-persons-to-curated-adults"], {
      to: "curated/adults",
      queueUrl: under(route(ADULTS), TYPES.queue).state.url,
      queueArn: under(route(ADULTS), TYPES.queue).state.arn,
    });
    assert.strictEqual(run.catalog["curated/adults"].deadLetterQueues, undefined);
  });

  it("ships a deterministic package: the bundled handler and the route's spec, the same bytes on every build", () => {
    const fn = under(route("route-order-stats"), TYPES.function);
    assert.ok(fn.inputs.code, "the function has no code");
    const spec = { route: "order-stats", from: "ingest/orders", to: "curated/stats" };
    const a = processorPackageFiles(spec);
    assert.deepStrictEqual(Object.keys(a), ["index.js", "spec.json"]);
    assert.deepStrictEqual(JSON.parse(a["spec.json"]), spec);
    // Two separate esbuild runs give the same bytes, with no absolute path or time in them.
    const first = buildProcessorHandler();
    const second = buildProcessorHandler();
    assert.ok(first.length > 10_000, "the bundle is suspiciously small");
    assert.strictEqual(first, second);
    assert.strictEqual(first, a["index.js"]);
    assert.ok(!first.includes(path.resolve(__dirname, "..", "..", "..")), "the bundle embeds an absolute path");
    assert.ok(!first.includes(new Date().toISOString().slice(0, 10)), "the bundle embeds today's date");
    // The bundle exports the handler the function's `handler: index.handle` names.
    const mod = { exports: {} as Record<string, unknown> };
    new Function("module", "exports", "require", "__dirname", first)(mod, mod.exports, require, "/nonexistent");
    assert.strictEqual(typeof mod.exports.handle, "function");
  });
});
