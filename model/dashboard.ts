/**
 * The lake's CloudWatch dashboard body, built by a pure function from the parsed topology.
 *
 * Layout: one band per layer, top to bottom by layer name (segments and processors by name too, so
 * reordering the config changes nothing). A band starts with a full-width text widget
 * naming the layer, then one row per segment of four graphs (24 grid units wide: 4 x 6):
 *   1. incoming records and bytes (`IncomingRecords`, `IncomingBytes`, Sum);
 *   2. iterator age (`GetRecords.IteratorAgeMilliseconds`, Maximum) with the alarm threshold drawn in;
 *   3. throttles (write, read, PutRecords throttled records, the wire-tap's throttled GetRecords);
 *   4. the wire-tap: delivery success ratio and data freshness.
 * Each processor whose source is in the layer adds a row: its errors, its iterator age and its dead-letter
 * queue. Every metric names its full dimension set, like the alarms (model/alarms.ts).
 */
import { LakeConfig, SegmentConfig } from "./config";
import { iteratorAgeThresholdMs, ProcessorMetricNames } from "./alarms";
import { parseAddress, segmentNames } from "./naming";

/** A metric line as CloudWatch's dashboard body takes it: namespace, name, dimension pairs, options last. */
export type MetricLine = (string | Record<string, unknown>)[];

export interface DashboardWidget {
  type: "metric" | "text";
  x: number;
  y: number;
  width: number;
  height: number;
  properties: Record<string, unknown>;
}

export interface DashboardBody {
  widgets: DashboardWidget[];
}

export const DASHBOARD_WIDTH = 24;
const GRAPH_WIDTH = 6;
const GRAPH_HEIGHT = 6;
const TITLE_HEIGHT = 1;
const PERIOD = 300;

function graph(
  x: number,
  y: number,
  title: string,
  region: string,
  metrics: MetricLine[],
  extra: Record<string, unknown> = {},
): DashboardWidget {
  return {
    type: "metric",
    x,
    y,
    width: GRAPH_WIDTH,
    height: GRAPH_HEIGHT,
    properties: { title, region, view: "timeSeries", stacked: false, period: PERIOD, metrics, ...extra },
  };
}

function segmentRow(lakeName: string, segment: SegmentConfig, region: string, y: number): DashboardWidget[] {
  const n = segmentNames(lakeName, segment.layer, segment.name, "");
  const s = ["StreamName", n.streamName];
  const f = ["DeliveryStreamName", n.deliveryStreamName];
  const ageThreshold = iteratorAgeThresholdMs(segment.retentionHours, segment.alarms.iteratorAgePercentOfRetention);
  return [
    graph(0, y, `${segment.address}: incoming records and bytes`, region, [
      ["AWS/Kinesis", "IncomingRecords", ...s, { stat: "Sum", label: "records" }],
      ["AWS/Kinesis", "IncomingBytes", ...s, { stat: "Sum", label: "bytes", yAxis: "right" }],
    ]),
    graph(
      GRAPH_WIDTH,
      y,
      `${segment.address}: iterator age (ms)`,
      region,
      [["AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", ...s, { stat: "Maximum", label: "oldest read record" }]],
      { annotations: { horizontal: [{ label: `alarm (${segment.alarms.iteratorAgePercentOfRetention}% of retention)`, value: ageThreshold }] } },
    ),
    graph(GRAPH_WIDTH * 2, y, `${segment.address}: throttles`, region, [
      ["AWS/Kinesis", "WriteProvisionedThroughputExceeded", ...s, { stat: "Sum", label: "write throttled" }],
      ["AWS/Kinesis", "ReadProvisionedThroughputExceeded", ...s, { stat: "Sum", label: "read throttled" }],
      ["AWS/Kinesis", "PutRecords.ThrottledRecords", ...s, { stat: "Sum", label: "PutRecords throttled records" }],
      ["AWS/Firehose", "ThrottledGetRecords", ...f, { stat: "Sum", label: "wire-tap GetRecords throttled" }],
    ]),
    graph(GRAPH_WIDTH * 3, y, `${segment.address}: wire-tap delivery and freshness`, region, [
      ["AWS/Firehose", "DeliveryToS3.Success", ...f, { stat: "Average", label: "delivery success ratio" }],
      ["AWS/Firehose", "DeliveryToS3.DataFreshness", ...f, { stat: "Maximum", label: "freshness (s)", yAxis: "right" }],
    ]),
  ];
}

function processorRow(p: ProcessorMetricNames, region: string, y: number): DashboardWidget[] {
  const fn = ["FunctionName", p.functionName];
  return [
    graph(0, y, `processor ${p.route}: errors`, region, [
      ["AWS/Lambda", "Errors", ...fn, { stat: "Sum", label: "errors" }],
      ["AWS/Lambda", "Invocations", ...fn, { stat: "Sum", label: "invocations", yAxis: "right" }],
    ]),
    graph(GRAPH_WIDTH, y, `processor ${p.route}: iterator age (ms)`, region, [
      ["AWS/Lambda", "IteratorAge", ...fn, { stat: "Maximum", label: "iterator age" }],
    ]),
    graph(GRAPH_WIDTH * 2, y, `processor ${p.route}: dead-letter queue`, region, [
      ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", p.queueName, { stat: "Maximum", label: "waiting" }],
    ]),
  ];
}

/**
 * The dashboard body of a lake. `processors` are the lake's processors with their physical names; each
 * is drawn in the band of its source segment's layer.
 */
export function dashboardBody(config: LakeConfig, region: string, processors: ProcessorMetricNames[] = []): DashboardBody {
  const widgets: DashboardWidget[] = [];
  let y = 0;
  // Sorted by name, not config order: reordering the config must not change the dashboard.
  const byName = <T>(items: T[], name: (t: T) => string) => [...items].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  for (const layer of byName(config.layers, (l) => l.name)) {
    widgets.push({
      type: "text",
      x: 0,
      y,
      width: DASHBOARD_WIDTH,
      height: TITLE_HEIGHT,
      properties: { markdown: `## Layer ${layer.name}` },
    });
    y += TITLE_HEIGHT;
    for (const segment of byName(layer.segments, (sg) => sg.name)) {
      widgets.push(...segmentRow(config.name, segment, region, y));
      y += GRAPH_HEIGHT;
    }
    const own = processors.filter((proc) => parseAddress(proc.source.address)?.layer === layer.name);
    for (const p of byName(own, (proc) => proc.route)) {
      widgets.push(...processorRow(p, region, y));
      y += GRAPH_HEIGHT;
    }
  }
  return { widgets };
}
