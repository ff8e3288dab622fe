/**
 * The pure alarm and dashboard model (model/alarms.ts, model/alarms-topic.ts, model/dashboard.ts),
 * without Pulumi.
 */
import * as assert from "assert";
import { freshnessThresholdSeconds, iteratorAgeThresholdMs, processorAlarms, REQUIRED_DIMENSION, segmentAlarms } from "../../../model/alarms";
import { alertsKeyPolicy, alertsTopicPolicy } from "../../../model/alarms-topic";
import { parseLakeConfig } from "../../../model/config";
import { DASHBOARD_LIMITS, dashboardBodies, DashboardBody, dashboardNames } from "../../../model/dashboard";
import { findPolicyViolations } from "../../../model/policies";
import { PROCESSOR_METRICS, PROCESSOR_METRICS_NAMESPACE } from "../../../model/processor/metrics";

const config = parseLakeConfig(
  {
    name: "acme",
    layers: {
      ingest: { segments: { persons: { retentionHours: 48, alarms: { iteratorAgePercentOfRetention: 25, freshnessMarginSeconds: 120 } }, orders: { alarms: { enabled: false } } } },
      curated: { segments: { adults: {} } },
    },
    routes: [{ from: "ingest/persons", to: "curated/adults" }],
  },
  { project: "datalake", stack: "test" },
);
const persons = config.segments[0];

describe("alarm model", () => {
  it("computes thresholds from retention and buffer settings", () => {
    assert.strictEqual(iteratorAgeThresholdMs(24, 50), 12 * 3_600_000);
    assert.strictEqual(iteratorAgeThresholdMs(48, 25), 12 * 3_600_000);
    assert.strictEqual(freshnessThresholdSeconds(60, 300), 360);
    const by = Object.fromEntries(segmentAlarms("acme", persons).map((a) => [a.id, a]));
    assert.strictEqual(by["iterator-age"].threshold, 12 * 3_600_000);
    assert.strictEqual(by["wire-tap-freshness"].threshold, 300 + 120);
  });

  it("gives every alarm the dimension its namespace needs, the physical name, and a reason for its missing-data choice", () => {
    const all = [
      ...segmentAlarms("acme", persons),
      ...processorAlarms("acme", { route: "r1", source: persons, functionName: "acme-r1", queueName: "acme-r1-dlq" }),
    ];
    assert.strictEqual(all.length, 12);
    for (const a of all) {
      assert.deepStrictEqual(Object.keys(a.dimensions), [REQUIRED_DIMENSION[a.namespace]], a.alarmName);
      assert.ok(Object.values(a.dimensions).every((v) => v.startsWith("acme-")), a.alarmName);
      assert.ok(a.missingDataReason.length > 20, a.alarmName);
      assert.ok(a.datapointsToAlarm <= a.evaluationPeriods);
    }
    const ids = all.map((a) => a.alarmName);
    assert.strictEqual(new Set(ids).size, ids.length, "alarm names are unique");
    const age = all.find((a) => a.id === "iterator-age" && a.namespace === "AWS/Kinesis")!;
    assert.deepStrictEqual(age.dimensions, { StreamName: "acme-ingest-persons" });
    assert.strictEqual(age.treatMissingData, "breaching", "nobody reading at all must alarm");
  });

  it("alarms on the failed records a processor publishes itself, which Lambda's Errors never counts (issue 17.4)", () => {
    const by = Object.fromEntries(processorAlarms("acme", { route: "r1", source: persons, functionName: "acme-r1", queueName: "acme-r1-dlq" }).map((a) => [a.id, a]));
    const failed = by["failed-records"];
    assert.ok(failed, "no failed-records alarm");
    // The metric the Lambda adapter writes in embedded metric format (model/processor/metrics.ts).
    assert.deepStrictEqual(
      [failed.namespace, failed.metricName, failed.dimensions, failed.statistic],
      [PROCESSOR_METRICS_NAMESPACE, PROCESSOR_METRICS.failedRecords, { FunctionName: "acme-r1" }, "Sum"],
    );
    assert.deepStrictEqual(
      [failed.period, failed.evaluationPeriods, failed.datapointsToAlarm, failed.threshold, failed.comparisonOperator, failed.treatMissingData],
      [300, 1, 1, 0, "GreaterThanThreshold", "notBreaching"],
      "one failed record in 5 minutes fires it, as one failed batch fires the errors alarm",
    );
    assert.strictEqual(failed.alarmName, "acme-r1-failed-records");
  });

  it("switches a segment's alarms and its processors' alarms off together", () => {
    const orders = config.segments[1];
    assert.deepStrictEqual(segmentAlarms("acme", orders), []);
    assert.deepStrictEqual(processorAlarms("acme", { route: "r", source: orders, functionName: "f", queueName: "q" }), []);
  });
});

describe("alarm topic policies", () => {
  it("let CloudWatch use the key and publish to the topic, and pass the lake's scanner", () => {
    const key = alertsKeyPolicy({ accountId: "123456789012" });
    const cw = key.Statement.find((s) => typeof s.Principal === "object" && s.Principal.Service === "cloudwatch.amazonaws.com")!;
    assert.deepStrictEqual(cw.Action, ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"]);
    assert.deepStrictEqual(findPolicyViolations(key, { isKeyPolicy: true }), []);
    const topic = alertsTopicPolicy({ topicArn: "arn:aws:sns:eu-west-1:123456789012:acme-alarms", accountId: "123456789012", region: "eu-west-1", lakeName: "acme" });
    assert.deepStrictEqual(topic.Statement[0].Condition, {
      StringEquals: { "aws:SourceAccount": "123456789012" },
      ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:acme-*" },
    });
    assert.deepStrictEqual(findPolicyViolations(topic), []);
  });
});

describe("dashboard body", () => {
  const processors = [{ route: "r1", source: persons, functionName: "acme-r1", queueName: "acme-r1-dlq" }];
  const bodies = dashboardBodies(config, "eu-west-1", processors);
  const [body] = bodies;

  it("has one band per layer (by name) with a row per segment and per processor, within the 24-unit grid", () => {
    assert.strictEqual(bodies.length, 1, "a small lake has one dashboard");
    const titles = body.widgets.filter((w) => w.type === "text").map((w) => w.properties.markdown);
    assert.deepStrictEqual(titles, ["## Layer curated", "## Layer ingest"]);
    for (const w of body.widgets) assert.ok(w.x + w.width <= 24 && w.x >= 0, JSON.stringify(w));
    const rows = new Map<number, string[]>();
    for (const w of body.widgets.filter((x) => x.type === "metric")) rows.set(w.y, [...(rows.get(w.y) ?? []), String(w.properties.title)]);
    assert.strictEqual(rows.size, config.segments.length + processors.length);
    const ingestTitle = body.widgets.find((w) => w.properties.markdown === "## Layer ingest")!;
    const r1 = body.widgets.find((w) => String(w.properties.title).startsWith("processor r1"))!;
    assert.ok(r1.y > ingestTitle.y, "the processor is drawn in its source segment's layer");
  });

  it("draws every metric with its full dimension set and the segment's iterator-age threshold", () => {
    const text = JSON.stringify(body);
    for (const s of config.segments) assert.ok(text.includes(`"StreamName","acme-${s.layer}-${s.name}"`));
    assert.ok(text.includes(`"FunctionName","acme-r1"`) && text.includes(`"QueueName","acme-r1-dlq"`));
    assert.ok(text.includes(`"DataLake/Processors","FailedRecords","FunctionName","acme-r1"`), "the processor's failed records are drawn (issue 17.4)");
    for (const w of body.widgets.filter((x) => x.type === "metric")) {
      for (const line of w.properties.metrics as unknown[][]) {
        const [ns, , dim] = line as string[];
        assert.strictEqual(dim, REQUIRED_DIMENSION[ns as keyof typeof REQUIRED_DIMENSION], JSON.stringify(line));
      }
    }
    assert.ok(text.includes(String(iteratorAgeThresholdMs(48, 25))));
  });

  it("does not change when layers and segments are listed in another order", () => {
    const reordered = { ...config, layers: [...config.layers].reverse().map((l) => ({ ...l, segments: [...l.segments].reverse() })) };
    assert.deepStrictEqual(dashboardBodies(reordered, "eu-west-1", processors), bodies);
  });
});

describe("dashboards of a lake too big for one", () => {
  // 3 layers of 50 segments and a processor per segment of the first: 4 widgets and 9 metrics per segment,
  // 3 and 4 per processor, 3 titles: 803 widgets and 1,550 metrics, over CloudWatch's 500 widgets.
  const raw = {
    name: "big",
    layers: Object.fromEntries(
      ["a", "b", "c"].map((layer) => [layer, { segments: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`s${String(i).padStart(2, "0")}`, {}])) }]),
    ),
  };
  const big = parseLakeConfig(raw, { project: "datalake", stack: "test" });
  const procs = big.segments
    .filter((sg) => sg.layer === "a")
    .map((sg) => ({ route: `r-${sg.name}`, source: sg, functionName: `big-r-${sg.name}`, queueName: `big-r-${sg.name}-dlq` }));
  const metricsOf = (b: DashboardBody) => b.widgets.reduce((n, w) => n + ((w.properties.metrics as unknown[] | undefined)?.length ?? 0), 0);
  const rowTitles = (bs: DashboardBody[]) => bs.flatMap((b) => b.widgets.map((w) => String(w.properties.title ?? "")).filter((t) => t.endsWith(": incoming records and bytes")));

  it("spreads it over dashboards within CloudWatch's quotas, every segment and processor on exactly one", () => {
    const bs = dashboardBodies(big, "eu-west-1", procs);
    assert.strictEqual(bs.length, 2);
    for (const b of bs) {
      assert.ok(b.widgets.length <= DASHBOARD_LIMITS.widgets, `${b.widgets.length} widgets`);
      assert.ok(metricsOf(b) <= DASHBOARD_LIMITS.metrics, `${metricsOf(b)} metrics`);
      assert.ok(b.widgets.every((w) => w.y >= 0 && w.x + w.width <= 24));
      assert.strictEqual(Math.min(...b.widgets.map((w) => w.y)), 0, "each dashboard starts at the top");
    }
    const titles = rowTitles(bs);
    assert.strictEqual(titles.length, 150);
    assert.strictEqual(new Set(titles).size, 150);
    const procRows = bs.flatMap((b) => b.widgets.filter((w) => String(w.properties.title).endsWith(": errors")));
    assert.strictEqual(procRows.length, 50);
    // The layer that runs over is continued under its own title on the next dashboard.
    const texts = bs.map((b) => b.widgets.filter((w) => w.type === "text").map((w) => w.properties.markdown));
    assert.strictEqual(texts[0][0], "## Layer a");
    assert.match(String(texts[1][0]), /^## Layer [abc] \(continued\)$/);
    assert.deepStrictEqual(dashboardNames("big", bs.length), ["big", "big-2"]);
  });

  it("counts metrics as well as widgets", () => {
    // Room for 1,000 widgets but 100 metrics: 9 metrics per segment row puts 11 rows on a dashboard.
    const bs = dashboardBodies(big, "eu-west-1", [], { widgets: 1000, metrics: 100 });
    assert.strictEqual(bs.length, Math.ceil(150 / 11));
    for (const b of bs) assert.ok(metricsOf(b) <= 100);
    assert.strictEqual(rowTitles(bs).length, 150);
  });

  it("needs as many dashboards whatever the region (the count is known before the region is)", () => {
    assert.strictEqual(dashboardBodies(big, "", procs).length, dashboardBodies(big, "ap-southeast-2", procs).length);
  });
});
