/**
 * Issue 10 under Pulumi mocks: every segment of the dev stack has its alarms (metric, dimension,
 * statistic, threshold) wired to the lake's encrypted topic, whose key lets CloudWatch use it, and every
 * segment appears on the lake's dashboard.
 */
import * as assert from "assert";
import { iteratorAgeThresholdMs, REQUIRED_DIMENSION } from "../../../model/alarms";
import { findPolicyViolations } from "../../../model/policies";
import { parseLakeConfig } from "../../../model/config";
import { buildLake, clone, LakeRun, RecordedResource, settle, stackTopology, startMockRun, valueOf } from "../../helpers/pulumi-mocks";

const T = {
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  key: "aws:kms/key:Key",
  stream: "aws:kinesis/stream:Stream",
  alerts: "datalake:lake:Alerts",
};

/** The metric, dimension and statistic each segment alarm must watch. */
const EXPECTED: Record<string, { namespace: string; metricName: string; statistic: string; dimension: "stream" | "firehose" }> = {
  "iterator-age": { namespace: "AWS/Kinesis", metricName: "GetRecords.IteratorAgeMilliseconds", statistic: "Maximum", dimension: "stream" },
  "write-throttled": { namespace: "AWS/Kinesis", metricName: "WriteProvisionedThroughputExceeded", statistic: "Sum", dimension: "stream" },
  "read-throttled": { namespace: "AWS/Kinesis", metricName: "ReadProvisionedThroughputExceeded", statistic: "Sum", dimension: "stream" },
  "put-records-failed": { namespace: "AWS/Kinesis", metricName: "PutRecords.FailedRecords", statistic: "Sum", dimension: "stream" },
  "put-records-throttled": { namespace: "AWS/Kinesis", metricName: "PutRecords.ThrottledRecords", statistic: "Sum", dimension: "stream" },
  "wire-tap-freshness": { namespace: "AWS/Firehose", metricName: "DeliveryToS3.DataFreshness", statistic: "Maximum", dimension: "firehose" },
  "wire-tap-delivery": { namespace: "AWS/Firehose", metricName: "DeliveryToS3.Success", statistic: "Average", dimension: "firehose" },
  "wire-tap-throttled": { namespace: "AWS/Firehose", metricName: "ThrottledGetRecords", statistic: "Sum", dimension: "firehose" },
};

describe("operations: alarms, topic and dashboard of the dev stack (mocks)", function () {
  let run: LakeRun;
  let topic: RecordedResource;
  before(async () => {
    const raw = clone(stackTopology("dev")) as Record<string, unknown>;
    raw.alerts = { email: "oncall@example.com" };
    run = await buildLake(raw, { stack: "dev" });
    topic = run.ofType(T.topic)[0];
  });

  const alarmsOf = (segmentLogical: string) =>
    run.ofType(T.alarm).filter((a) => a.name.startsWith(`${segmentLogical}-alarms-`));

  it("has one encrypted alarm topic whose key lets CloudWatch publish", () => {
    assert.strictEqual(run.ofType(T.topic).length, 1);
    const alerts = run.get(T.alerts, "alerts");
    const key = run.only(alerts, T.key);
    assert.strictEqual(topic.inputs.kmsMasterKeyId, key.state.arn, "topic encrypted with the alerts key");
    const policy = JSON.parse(key.inputs.policy);
    const cw = policy.Statement.find((s: { Principal?: { Service?: string } }) => s.Principal?.Service === "cloudwatch.amazonaws.com");
    assert.ok(cw, "a statement for cloudwatch.amazonaws.com");
    assert.strictEqual(cw.Effect, "Allow");
    for (const action of ["kms:Decrypt", "kms:GenerateDataKey"]) assert.ok(cw.Action.includes(action), action);
    assert.deepStrictEqual(findPolicyViolations(key.inputs.policy, { isKeyPolicy: true }), []);
    const topicPolicy = JSON.parse(run.ofType(T.topicPolicy)[0].inputs.policy);
    assert.strictEqual(topicPolicy.Statement[0].Principal.Service, "cloudwatch.amazonaws.com");
    assert.strictEqual(topicPolicy.Statement[0].Action, "sns:Publish");
    assert.strictEqual(topicPolicy.Statement[0].Resource, topic.state.arn);
    assert.deepStrictEqual(findPolicyViolations(run.ofType(T.topicPolicy)[0].inputs.policy), []);
  });

  it("exposes the topic and the dashboard as outputs of the lake", async () => {
    const { valueOf } = await import("../../helpers/pulumi-mocks");
    assert.strictEqual(await valueOf(run.lake.alarmTopicArn), topic.state.arn);
    assert.strictEqual(await valueOf(run.lake.dashboardName), run.lakeName);
  });

  it("subscribes the configured e-mail address", () => {
    const sub = run.ofType(T.subscription);
    assert.strictEqual(sub.length, 1);
    assert.deepStrictEqual([sub[0].inputs.protocol, sub[0].inputs.endpoint, sub[0].inputs.topic], ["email", "oncall@example.com", topic.state.arn]);
  });

  it("gives every segment its alarms on the right metric, dimension and statistic, wired to the topic", () => {
    for (const s of run.config.segments) {
      const entry = run.catalog[s.address];
      const alarms = alarmsOf(`${s.layer}-${s.name}`);
      assert.deepStrictEqual(alarms.map((a) => a.name.split("-alarms-")[1]).sort(), Object.keys(EXPECTED).sort(), s.address);
      for (const a of alarms) {
        const id = a.name.split("-alarms-")[1];
        const want = EXPECTED[id];
        const i = a.inputs;
        assert.strictEqual(i.namespace, want.namespace, `${a.name} namespace`);
        assert.strictEqual(i.metricName, want.metricName, `${a.name} metric`);
        assert.strictEqual(i.statistic, want.statistic, `${a.name} statistic`);
        const dims = want.dimension === "stream" ? { StreamName: entry.streamName } : { DeliveryStreamName: entry.deliveryStreamName };
        assert.deepStrictEqual(i.dimensions, dims, `${a.name} dimensions`);
        assert.ok(REQUIRED_DIMENSION[i.namespace as keyof typeof REQUIRED_DIMENSION] in i.dimensions);
        assert.deepStrictEqual(i.alarmActions, [topic.state.arn], `${a.name} notifies the lake topic`);
        assert.deepStrictEqual(i.okActions, [topic.state.arn]);
        assert.ok(["breaching", "notBreaching"].includes(i.treatMissingData), `${a.name} treats missing data deliberately`);
        assert.ok(i.name.startsWith(`${run.lakeName}-${s.layer}-${s.name}-`), i.name);
      }
    }
  });

  it("sets thresholds from the segment's config", () => {
    const get = (seg: string, id: string) => run.get(T.alarm, `${seg}-alarms-${id}`).inputs;
    // persons: 24 h retention, 50 % -> 12 h; orders: 168 h -> 84 h.
    assert.strictEqual(get("ingest-persons", "iterator-age").threshold, 12 * 3600 * 1000);
    assert.strictEqual(get("ingest-orders", "iterator-age").threshold, 84 * 3600 * 1000);
    assert.strictEqual(get("ingest-orders", "iterator-age").comparisonOperator, "GreaterThanOrEqualToThreshold");
    // freshness: buffer interval + 300 s margin (orders buffers 60 s, persons the default 300 s).
    assert.strictEqual(get("ingest-orders", "wire-tap-freshness").threshold, 360);
    assert.strictEqual(get("ingest-persons", "wire-tap-freshness").threshold, 600);
    assert.strictEqual(get("ingest-persons", "wire-tap-delivery").threshold, 1);
    assert.strictEqual(get("ingest-persons", "wire-tap-delivery").comparisonOperator, "LessThanThreshold");
    assert.strictEqual(get("ingest-persons", "write-throttled").threshold, 0);
  });

  it("gives every processor alarms on its function's errors and iterator age and its dead-letter queue", () => {
    for (const route of run.config.routes) {
      const alarms = run.ofType(T.alarm).filter((a) => a.name.startsWith(`route-${route.name}-alarms-`));
      const by = Object.fromEntries(alarms.map((a) => [a.name.split("-alarms-")[1], a.inputs]));
      assert.deepStrictEqual(Object.keys(by).sort(), ["dead-letters", "errors", "failed-records", "iterator-age"]);
      assert.deepStrictEqual([by.errors.namespace, by.errors.metricName, by.errors.statistic], ["AWS/Lambda", "Errors", "Sum"]);
      // The names of the processor's own function and dead-letter queue (components/route.ts).
      const routeComponent = run.get("datalake:lake:Route", `route-${route.name}`);
      const fn = run.only(routeComponent, "aws:lambda/function:Function");
      const dlq = run.only(routeComponent, "aws:sqs/queue:Queue");
      assert.deepStrictEqual(by.errors.dimensions, { FunctionName: fn.inputs.name });
      assert.deepStrictEqual(by["iterator-age"].dimensions, { FunctionName: fn.inputs.name });
      // Partial batch failures: the metric the function prints in embedded metric format (issue 17.4).
      assert.deepStrictEqual(
        [by["failed-records"].namespace, by["failed-records"].metricName, by["failed-records"].statistic, by["failed-records"].dimensions],
        ["DataLake/Processors", "FailedRecords", "Sum", { FunctionName: fn.inputs.name }],
      );
      assert.deepStrictEqual([by["failed-records"].threshold, by["failed-records"].comparisonOperator], [0, "GreaterThanThreshold"]);
      assert.deepStrictEqual(by["dead-letters"].dimensions, { QueueName: dlq.inputs.name });
      assert.deepStrictEqual([by["iterator-age"].metricName, by["iterator-age"].statistic], ["IteratorAge", "Maximum"]);
      assert.deepStrictEqual(
        [by["dead-letters"].namespace, by["dead-letters"].metricName, by["dead-letters"].statistic],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum"],
      );
      assert.ok(by["dead-letters"].dimensions.QueueName);
      for (const a of alarms) assert.deepStrictEqual(a.inputs.alarmActions, [topic.state.arn]);
    }
  });

  it("shows every layer and every segment on the dashboard", () => {
    const dashboards = run.ofType(T.dashboard);
    assert.strictEqual(dashboards.length, 1);
    assert.strictEqual(dashboards[0].inputs.dashboardName, run.lakeName);
    const body = JSON.parse(dashboards[0].inputs.dashboardBody);
    const text = JSON.stringify(body);
    for (const layer of run.config.layers) {
      assert.ok(body.widgets.some((w: { type: string; properties: { markdown?: string } }) => w.type === "text" && w.properties.markdown === `## Layer ${layer.name}`));
    }
    for (const s of run.config.segments) {
      const entry = run.catalog[s.address];
      const titles = body.widgets.map((w: { properties: { title?: string } }) => w.properties.title ?? "");
      assert.ok(titles.some((t: string) => t.startsWith(`${s.address}: incoming`)), `${s.address} row`);
      assert.ok(text.includes(`"StreamName","${entry.streamName}"`), `${s.address} stream metrics`);
      assert.ok(text.includes(`"DeliveryStreamName","${entry.deliveryStreamName}"`), `${s.address} wire-tap metrics`);
    }
    assert.ok(text.includes(String(iteratorAgeThresholdMs(168, 50))), "the iterator-age alarm threshold is drawn");
  });

  it("declares no alarms for a segment whose alarms are switched off", async () => {
    const raw = clone(stackTopology("dev")) as { layers: Record<string, { segments: Record<string, Record<string, unknown>> }> };
    raw.layers.ingest.segments.persons.alarms = { enabled: false };
    const off = await buildLake(raw, { stack: "dev" });
    assert.strictEqual(off.ofType(T.alarm).filter((a) => a.name.startsWith("ingest-persons-alarms-")).length, 0);
    assert.strictEqual(off.ofType(T.alarm).filter((a) => a.name.startsWith("ingest-orders-alarms-")).length, 8);
    assert.strictEqual(off.ofType(T.subscription).length, 0, "no e-mail configured, no subscription");
  });
});

describe("operations: the dashboards of a lake too big for one (mocks)", () => {
  it("declares one dashboard per page, the first under the name and resource name a small lake has", async () => {
    const run = await startMockRun();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { DataDashboard } = require("../../../components/dashboard") as typeof import("../../../components/dashboard");
    const segments = Object.fromEntries(Array.from({ length: 130 }, (_, i) => [`s${i}`, {}]));
    const config = parseLakeConfig({ name: "huge", layers: { ingest: { segments } } }, { project: "datalake", stack: "test" });
    const dashboard = new DataDashboard("dashboard", { config, region: "eu-west-1" });
    const names = await valueOf(dashboard.dashboardNames);
    await settle();
    const declared = run.ofType(T.dashboard);
    assert.deepStrictEqual(declared.map((d) => d.name), ["dashboard-dashboard", "dashboard-dashboard-2"]);
    assert.deepStrictEqual(names, ["huge", "huge-2"]);
    assert.strictEqual(await valueOf(dashboard.dashboardName), "huge");
    const bodies = declared.map((d) => JSON.parse(d.inputs.dashboardBody as string) as { widgets: { properties: { title?: string } }[] });
    for (const b of bodies) assert.ok(b.widgets.length <= 500, `${b.widgets.length} widgets`);
    const rows = bodies.flatMap((b) => b.widgets.filter((w) => (w.properties.title ?? "").endsWith(": incoming records and bytes")));
    assert.strictEqual(rows.length, 130);
  });
});
