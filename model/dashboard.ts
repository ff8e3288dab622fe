/**
 * The lake's CloudWatch dashboard bodies, built by a pure function from the parsed topology.
 *
 * Layout: one band per layer, top to bottom by layer name (segments and processors by name too, so
 * reordering the config changes nothing). A band starts with a full-width text widget
 * naming the layer, then one row per segment of four graphs (24 grid units wide: 4 x 6):
 *   1. incoming records and bytes (`IncomingRecords`, `IncomingBytes`, Sum);
 *   2. iterator age (`GetRecords.IteratorAgeMilliseconds`, Maximum) with the alarm threshold drawn in;
 *   3. throttles (write, read, PutRecords throttled records, the wire-tap's throttled GetRecords);
 *   4. the wire-tap: delivery success ratio and data freshness.
 * A backed-up segment adds a row below its own: failed replications (the stack's region), the backup's
 * replication latency with the alarm threshold, and what is pending (both in the backup region, where S3
 * publishes them; a widget names its region, so one dashboard shows both).
 * Each processor whose source is in the layer adds a row: its errors and failed records, its iterator age
 * and its dead-letter queue. Every metric names its full dimension set, like the alarms (model/alarms.ts).
 */
import { BackupConfig, LakeConfig, SegmentConfig } from "./config";
import { iteratorAgeThresholdMs, ProcessorMetricNames, REPLICATION_LATENCY_ALARM_SECONDS, replicationDimensions } from "./alarms";
import { parseAddress, segmentNames } from "./naming";
import { PROCESSOR_METRICS, PROCESSOR_METRICS_NAMESPACE } from "./processor/metrics";

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

function replicationRow(lakeName: string, segment: SegmentConfig, backup: BackupConfig, region: string, accountId: string, y: number): DashboardWidget[] {
  const d = replicationDimensions(lakeName, segment, accountId);
  const dims = ["SourceBucket", d.SourceBucket, "DestinationBucket", d.DestinationBucket, "RuleId", d.RuleId];
  const threshold = backup.timeControl ? REPLICATION_LATENCY_ALARM_SECONDS.timeControl : REPLICATION_LATENCY_ALARM_SECONDS.standard;
  return [
    graph(0, y, `${segment.address}: backup, failed replications`, region, [
      ["AWS/S3", "OperationsFailedReplication", ...dims, { stat: "Sum", label: "failed operations" }],
    ]),
    graph(
      GRAPH_WIDTH,
      y,
      `${segment.address}: backup latency (s), ${backup.region}`,
      backup.region,
      [["AWS/S3", "ReplicationLatency", ...dims, { stat: "Maximum", label: "replica behind source" }]],
      { annotations: { horizontal: [{ label: "alarm", value: threshold }] } },
    ),
    graph(GRAPH_WIDTH * 2, y, `${segment.address}: backup pending, ${backup.region}`, backup.region, [
      ["AWS/S3", "OperationsPendingReplication", ...dims, { stat: "Maximum", label: "operations" }],
      ["AWS/S3", "BytesPendingReplication", ...dims, { stat: "Maximum", label: "bytes", yAxis: "right" }],
    ]),
  ];
}

function processorRow(p: ProcessorMetricNames, region: string, y: number): DashboardWidget[] {
  const fn = ["FunctionName", p.functionName];
  return [
    graph(0, y, `processor ${p.route}: errors`, region, [
      ["AWS/Lambda", "Errors", ...fn, { stat: "Sum", label: "errors" }],
      // Records reported as batch item failures: invocations Lambda counts as successes (metrics.ts).
      [PROCESSOR_METRICS_NAMESPACE, PROCESSOR_METRICS.failedRecords, ...fn, { stat: "Sum", label: "failed records" }],
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

/** CloudWatch's quotas for one dashboard: widgets, and metrics across all of its widgets. */
export interface DashboardLimits {
  /** @default 500 */
  widgets: number;
  /** @default 2500 */
  metrics: number;
}

export const DASHBOARD_LIMITS: DashboardLimits = { widgets: 500, metrics: 2500 };

/** A row of graphs, drawn at `y` once the region is known. */
type Row = (region: string, y: number) => DashboardWidget[];

function metricCount(widgets: DashboardWidget[]): number {
  return widgets.reduce((n, w) => n + (Array.isArray(w.properties.metrics) ? w.properties.metrics.length : 0), 0);
}

function layerTitle(layer: string, continued: boolean, y: number): DashboardWidget {
  return {
    type: "text",
    x: 0,
    y,
    width: DASHBOARD_WIDTH,
    height: TITLE_HEIGHT,
    properties: { markdown: `## Layer ${layer}${continued ? " (continued)" : ""}` },
  };
}

/**
 * The dashboard bodies of a lake: one while the lake fits in one dashboard (every lake of up to about
 * 120 segments), else as many as CloudWatch's per-dashboard quotas need, filled row by row in the same
 * order, a layer that does not fit continued on the next under its title marked "(continued)". `processors` are the lake's processors with
 * their physical names; each is drawn in the band of its source segment's layer. How many bodies there
 * are depends on the topology only, not on the region.
 */
export function dashboardBodies(
  config: LakeConfig,
  region: string,
  processors: ProcessorMetricNames[] = [],
  limits: DashboardLimits = DASHBOARD_LIMITS,
  /** The account id, part of the bucket names the backup rows' metrics carry. @default twelve zeros */
  accountId = "000000000000",
): DashboardBody[] {
  const pages: DashboardBody[] = [];
  let page: DashboardBody = { widgets: [] };
  let metrics = 0;
  let y = 0;
  const newPage = () => {
    pages.push(page);
    page = { widgets: [] };
    metrics = 0;
    y = 0;
  };
  const fits = (widgets: number, more: number) =>
    page.widgets.length + widgets <= limits.widgets && metrics + more <= limits.metrics;
  // Sorted by name, not config order: reordering the config must not change the dashboard.
  const byName = <T>(items: T[], name: (t: T) => string) => [...items].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
  for (const layer of byName(config.layers, (l) => l.name)) {
    const own = processors.filter((proc) => parseAddress(proc.source.address)?.layer === layer.name);
    const backup = config.backup;
    const rows: Row[] = [
      ...byName(layer.segments, (sg) => sg.name).flatMap((segment): Row[] => [
        (r, at) => segmentRow(config.name, segment, r, at),
        ...(backup && segment.backup ? [(r: string, at: number) => replicationRow(config.name, segment, backup, r, accountId, at)] : []),
      ]),
      ...byName(own, (proc) => proc.route).map((p): Row => (r, at) => processorRow(p, r, at)),
    ];
    // The layer's title heads its first row on every page the layer is on.
    let titledHere = false;
    let continued = false;
    for (const row of rows) {
      const drawn = row(region, 0);
      const [widgets, more] = [drawn.length, metricCount(drawn)];
      // A row never splits: one that does not fit (with a title if the page needs one) starts a new page.
      if (!fits(widgets + (titledHere ? 0 : 1), more) && page.widgets.length > 0) {
        newPage();
        titledHere = false;
      }
      if (!titledHere) {
        page.widgets.push(layerTitle(layer.name, continued, y));
        y += TITLE_HEIGHT;
        titledHere = true;
        continued = true;
      }
      page.widgets.push(...row(region, y));
      metrics += more;
      y += GRAPH_HEIGHT;
    }
    if (rows.length === 0) {
      if (!fits(1, 0)) newPage();
      page.widgets.push(layerTitle(layer.name, false, y));
      y += TITLE_HEIGHT;
    }
  }
  pages.push(page);
  return pages;
}

/** The dashboards' names: the lake's name for the first (the only one of most lakes), then `<lake>-2`, ... */
export function dashboardNames(lakeName: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? lakeName : `${lakeName}-${i + 1}`));
}
