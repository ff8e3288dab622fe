/**
 * The CloudWatch alarms of a lake, as pure data: which metric (namespace, name, dimension, statistic),
 * which threshold, and how missing data counts. Components turn each definition into one
 * `aws.cloudwatch.MetricAlarm`; tests check them without mocks. Every metric, dimension and statistic here
 * is listed with its AWS documentation source in README.md ("AWS behaviour relied on").
 *
 * Why the dimension matters: CloudWatch does not aggregate a metric over a dimension the alarm leaves out.
 * An alarm on `GetRecords.IteratorAgeMilliseconds` without `StreamName` watches a metric that is never
 * published and so never fires. Every definition therefore carries its full dimension set.
 */
import { AlarmsConfig, BackupConfig, SegmentConfig } from "./config";
import { GroupConfig } from "./groups";
import { groupNames, replicaNames, segmentNames } from "./naming";
import { PROCESSOR_METRICS, PROCESSOR_METRICS_NAMESPACE } from "./processor/metrics";

export type AlarmNamespace = "AWS/Kinesis" | "AWS/Firehose" | "AWS/Lambda" | "AWS/SQS" | "AWS/S3" | typeof PROCESSOR_METRICS_NAMESPACE;
export type AlarmStatistic = "Maximum" | "Minimum" | "Average" | "Sum";
export type ComparisonOperator = "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
/** CloudWatch's four treatments of a period without data points. */
export type TreatMissingData = "breaching" | "notBreaching" | "ignore" | "missing";

export interface AlarmDefinition {
  /** Stable id within its segment or processor, part of the alarm's names: `iterator-age`. */
  id: string;
  /** Physical alarm name: `<lake>-<layer>-<segment>-<id>` or `<lake>-<route>-<id>`; unique per account and region. */
  alarmName: string;
  /** What firing means and what to do; CloudWatch puts it into every notification. */
  description: string;
  namespace: AlarmNamespace;
  metricName: string;
  /** The metric's full dimension set (CloudWatch matches dimensions exactly). */
  dimensions: Record<string, string>;
  statistic: AlarmStatistic;
  /** Seconds per data point. */
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  treatMissingData: TreatMissingData;
  /** Why missing data is treated so (documentation and tests read it; CloudWatch does not). */
  missingDataReason: string;
}

/** Five minutes: every metric used here is published at least this often while its resource is busy. */
export const ALARM_PERIOD_SECONDS = 300;
/** Throttling and retried failures are normal in bursts; only 15 minutes of them in a row alarm. */
export const SUSTAINED_PERIODS = 3;

/** Iterator-age threshold in milliseconds: `percent` of the retention (records expire unread at 100 %). */
export function iteratorAgeThresholdMs(retentionHours: number, percent: number): number {
  return Math.round(retentionHours * 3600 * 1000 * (percent / 100));
}

/** Wire-tap freshness threshold in seconds: Firehose holds records up to the buffer interval, plus a margin. */
export function freshnessThresholdSeconds(bufferSeconds: number, marginSeconds: number): number {
  return bufferSeconds + marginSeconds;
}

const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;

/**
 * The alarms of one segment (none when `segment.alarms.enabled` is false): consumer lag, write and read
 * throttling, failing producers, and the wire-tap falling behind, failing or being throttled.
 */
export function segmentAlarms(lakeName: string, segment: SegmentConfig): AlarmDefinition[] {
  const settings: AlarmsConfig = segment.alarms;
  if (!settings.enabled) return [];
  const names = segmentNames(lakeName, segment.layer, segment.name, "");
  const stream = { StreamName: names.streamName };
  const firehose = { DeliveryStreamName: names.deliveryStreamName };
  const prefix = `${lakeName}-${segment.layer}-${segment.name}`;
  const where = `segment ${segment.address}`;
  const ageMs = iteratorAgeThresholdMs(segment.retentionHours, settings.iteratorAgePercentOfRetention);
  const freshness = freshnessThresholdSeconds(segment.wireTap.bufferSeconds, settings.freshnessMarginSeconds);
  const sustained = { period: ALARM_PERIOD_SECONDS, evaluationPeriods: SUSTAINED_PERIODS, datapointsToAlarm: SUSTAINED_PERIODS };
  const noTraffic =
    "no data means no calls in the period (nothing written or read), so nothing can have been throttled or failed";

  return [
    {
      id: "iterator-age",
      alarmName: `${prefix}-iterator-age`,
      description:
        `${where}: a reader of stream ${names.streamName} is ${hours(ageMs)} behind, ${settings.iteratorAgePercentOfRetention}% of the ` +
        `${segment.retentionHours} h retention; records expire unread at 100%. Find the slow reader (npm run -s lag), scale it or add shards.`,
      namespace: "AWS/Kinesis",
      metricName: "GetRecords.IteratorAgeMilliseconds",
      dimensions: stream,
      statistic: "Maximum",
      ...sustained,
      threshold: ageMs,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "breaching",
      missingDataReason:
        "the wire-tap polls every shard all the time, so a period without any GetRecords call means nobody reads the stream at all",
    },
    {
      id: "write-throttled",
      alarmName: `${prefix}-write-throttled`,
      description:
        `${where}: writes to ${names.streamName} were throttled for 15 minutes in a row (shard limit 1,000 records/s or 1 MiB/s). ` +
        `Publishers retry, but add shards or spread partition keys before retries run out.`,
      namespace: "AWS/Kinesis",
      metricName: "WriteProvisionedThroughputExceeded",
      dimensions: stream,
      statistic: "Sum",
      ...sustained,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason: noTraffic,
    },
    {
      id: "read-throttled",
      alarmName: `${prefix}-read-throttled`,
      description:
        `${where}: GetRecords calls on ${names.streamName} were throttled for 15 minutes in a row (5 calls/s and 2 MiB/s per shard, ` +
        `shared by every polling reader). Move readers to enhanced fan-out consumers or add shards.`,
      namespace: "AWS/Kinesis",
      metricName: "ReadProvisionedThroughputExceeded",
      dimensions: stream,
      statistic: "Sum",
      ...sustained,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason: noTraffic,
    },
    {
      id: "put-records-failed",
      alarmName: `${prefix}-put-records-failed`,
      description:
        `${where}: PutRecords to ${names.streamName} had failed records (internal failures) for 15 minutes in a row. ` +
        `Publishers resend failed entries; check their exit status and the AWS Health dashboard.`,
      namespace: "AWS/Kinesis",
      metricName: "PutRecords.FailedRecords",
      dimensions: stream,
      statistic: "Sum",
      ...sustained,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason: noTraffic,
    },
    {
      id: "put-records-throttled",
      alarmName: `${prefix}-put-records-throttled`,
      description:
        `${where}: PutRecords to ${names.streamName} had throttled records for 15 minutes in a row. ` +
        `Publishers resend them with backoff; add shards (or use on-demand) if it persists.`,
      namespace: "AWS/Kinesis",
      metricName: "PutRecords.ThrottledRecords",
      dimensions: stream,
      statistic: "Sum",
      ...sustained,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason: noTraffic,
    },
    {
      id: "wire-tap-freshness",
      alarmName: `${prefix}-wire-tap-freshness`,
      description:
        `${where}: the oldest record not yet in the bucket is older than ${freshness} s (buffer interval ` +
        `${segment.wireTap.bufferSeconds} s + ${settings.freshnessMarginSeconds} s). Check the Firehose error log ` +
        `${names.logGroupName} and the bucket's key and policy.`,
      namespace: "AWS/Firehose",
      metricName: "DeliveryToS3.DataFreshness",
      dimensions: firehose,
      statistic: "Maximum",
      period: ALARM_PERIOD_SECONDS,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: freshness,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason:
        "Firehose reports freshness only while it holds records; a wire-tap that stopped reading altogether shows up in the iterator-age alarm, which treats missing data as breaching",
    },
    {
      id: "wire-tap-delivery",
      alarmName: `${prefix}-wire-tap-delivery`,
      description:
        `${where}: some S3 deliveries of ${names.deliveryStreamName} failed for 15 minutes in a row (success ratio below 1). ` +
        `Firehose retries, then writes failures under errors/ in the bucket; read ${names.logGroupName}.`,
      namespace: "AWS/Firehose",
      metricName: "DeliveryToS3.Success",
      dimensions: firehose,
      statistic: "Average",
      ...sustained,
      threshold: 1,
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason: "no data means no delivery was attempted (nothing arrived), so none failed",
    },
    {
      id: "wire-tap-throttled",
      alarmName: `${prefix}-wire-tap-throttled`,
      description:
        `${where}: the wire-tap's GetRecords calls on ${names.streamName} were throttled for 15 minutes in a row; other polling ` +
        `readers are using the shard's read budget. Move them to enhanced fan-out consumers.`,
      namespace: "AWS/Firehose",
      metricName: "ThrottledGetRecords",
      dimensions: firehose,
      statistic: "Sum",
      ...sustained,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason: noTraffic,
    },
  ];
}

/** Physical names of a processor's Lambda function and dead-letter queue, as the alarms need them. */
export interface ProcessorMetricNames {
  /** The route's name (`routes[i].name`). */
  route: string;
  /** Source segment, for the threshold of the iterator-age alarm. */
  source: SegmentConfig;
  functionName: string;
  queueName: string;
}

/**
 * Alarms of one processor (route): its Lambda function's errors, the records it reported as failed (a
 * metric the function publishes itself, model/processor/metrics.ts), its iterator age, and messages
 * waiting in its dead-letter queue. They follow the source segment's `alarms` settings (switched off with it).
 */
export function processorAlarms(lakeName: string, p: ProcessorMetricNames): AlarmDefinition[] {
  const settings = p.source.alarms;
  if (!settings.enabled) return [];
  const prefix = `${lakeName}-${p.route}`;
  const where = `processor ${p.route}`;
  const fn = { FunctionName: p.functionName };
  const ageMs = iteratorAgeThresholdMs(p.source.retentionHours, settings.iteratorAgePercentOfRetention);
  return [
    {
      id: "errors",
      alarmName: `${prefix}-errors`,
      description:
        `${where}: function ${p.functionName} failed batches in the last 5 minutes. Failed batches are retried, then sent to ` +
        `${p.queueName}; read the function's log for the error.`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: fn,
      statistic: "Sum",
      period: ALARM_PERIOD_SECONDS,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason: "Lambda publishes Errors only for periods with invocations; no invocation, no error",
    },
    {
      id: "failed-records",
      alarmName: `${prefix}-failed-records`,
      description:
        `${where}: function ${p.functionName} reported records as failed in the last 5 minutes (its target refused them past ` +
        `the bounded resends, or a poison record could not be dead-lettered). Lambda counts these batches as successes, so ` +
        `the errors alarm stays quiet; the records are retried, then sent to ${p.queueName}. Read the function's log.`,
      namespace: PROCESSOR_METRICS_NAMESPACE,
      metricName: PROCESSOR_METRICS.failedRecords,
      dimensions: fn,
      statistic: "Sum",
      period: ALARM_PERIOD_SECONDS,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason:
        "the function publishes FailedRecords once per batch (embedded metric format), so no data means no batch and nothing failed",
    },
    {
      id: "iterator-age",
      alarmName: `${prefix}-iterator-age`,
      description:
        `${where}: the newest record processed by ${p.functionName} is ${hours(ageMs)} old, ${settings.iteratorAgePercentOfRetention}% ` +
        `of ${p.source.address}'s ${p.source.retentionHours} h retention. Look for errors or throttles of the function; raise its ` +
        `parallelization factor or batch size.`,
      namespace: "AWS/Lambda",
      metricName: "IteratorAge",
      dimensions: fn,
      statistic: "Maximum",
      period: ALARM_PERIOD_SECONDS,
      evaluationPeriods: SUSTAINED_PERIODS,
      datapointsToAlarm: SUSTAINED_PERIODS,
      threshold: ageMs,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
      missingDataReason:
        "Lambda publishes IteratorAge only when it invokes the function, i.e. when records arrive; an idle source sends nothing",
    },
    {
      id: "dead-letters",
      alarmName: `${prefix}-dead-letters`,
      description:
        `${where}: records that kept failing wait in dead-letter queue ${p.queueName}. Fix the cause, then replay them ` +
        `(the messages name the shard and sequence numbers) before the queue's retention ends.`,
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: p.queueName },
      statistic: "Maximum",
      period: ALARM_PERIOD_SECONDS,
      evaluationPeriods: 1,
      datapointsToAlarm: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      missingDataReason:
        "SQS stops publishing metrics for a queue inactive for six hours, which an empty dead-letter queue is; a message wakes it",
    },
  ];
}

/**
 * The lag alarm of one consumer group (none when the segment's alarms are off), on a metric Kinesis
 * publishes itself, so the workers need no CloudWatch permission (`PutMetricData` takes no resource, and
 * the lake grants no `Resource: "*"`):
 * - a group reading through a consumer: `SubscribeToShardEvent.MillisBehindLatest` of that consumer
 *   (dimensions StreamName and ConsumerName): the group's own lag, as the group's workers see it;
 * - a polling group: `GetRecords.IteratorAgeMilliseconds` of the stream, the oldest position of every
 *   polling reader (the wire-tap too); the same metric as the segment's iterator-age alarm, named for the
 *   group. Give the group a consumer for an alarm that watches it alone.
 * Same threshold as the segment's: `iteratorAgePercentOfRetention` of the retention.
 */
export function groupAlarms(lakeName: string, segment: SegmentConfig, group: GroupConfig): AlarmDefinition[] {
  const settings = segment.alarms;
  if (!settings.enabled) return [];
  const streamName = segmentNames(lakeName, segment.layer, segment.name, "").streamName;
  const names = groupNames(lakeName, segment.layer, segment.name, group.name);
  const ageMs = iteratorAgeThresholdMs(segment.retentionHours, settings.iteratorAgePercentOfRetention);
  const where = `consumer group ${group.name} of segment ${segment.address}`;
  const share = `${settings.iteratorAgePercentOfRetention}% of the ${segment.retentionHours} h retention; records expire unread at 100%`;
  const act = `Check that its workers run (npm run -s lag), add workers (up to one per shard) or shards.`;
  const common = {
    id: "lag",
    alarmName: `${names.alarmPrefix}-lag`,
    namespace: "AWS/Kinesis" as const,
    statistic: "Maximum" as const,
    period: ALARM_PERIOD_SECONDS,
    evaluationPeriods: SUSTAINED_PERIODS,
    datapointsToAlarm: SUSTAINED_PERIODS,
    threshold: ageMs,
    comparisonOperator: "GreaterThanOrEqualToThreshold" as const,
    treatMissingData: "breaching" as const,
  };
  if (group.consumer) {
    return [
      {
        ...common,
        description: `${where}: its workers, reading through consumer ${group.consumer}, are ${hours(ageMs)} behind, ${share}. ${act}`,
        metricName: "SubscribeToShardEvent.MillisBehindLatest",
        dimensions: { StreamName: streamName, ConsumerName: group.consumer },
        missingDataReason:
          "Kinesis publishes the metric while a subscription is open, and a running group keeps one open on every shard; none for 15 minutes means no worker of the group reads",
      },
    ];
  }
  return [
    {
      ...common,
      description: `${where}: the oldest polling reader of stream ${streamName} (this group, the wire-tap or another poller) is ${hours(ageMs)} behind, ${share}. ${act}`,
      metricName: "GetRecords.IteratorAgeMilliseconds",
      dimensions: { StreamName: streamName },
      missingDataReason:
        "the wire-tap polls every shard all the time, so a period without any GetRecords call means nobody reads the stream at all, the group included",
    },
  ];
}

/** The dimension name each namespace's alarms must carry (tests and the policy pack check it). */
export const REQUIRED_DIMENSION: Record<AlarmNamespace, string> = {
  "AWS/Kinesis": "StreamName",
  "AWS/Firehose": "DeliveryStreamName",
  "AWS/Lambda": "FunctionName",
  "AWS/SQS": "QueueName",
  [PROCESSOR_METRICS_NAMESPACE]: "FunctionName",
  "AWS/S3": "SourceBucket",
};

/** S3 Replication metrics (published per replication rule when the rule enables metrics). */
export const REPLICATION_METRICS = ["ReplicationLatency", "BytesPendingReplication", "OperationsPendingReplication", "OperationsFailedReplication"];
/** The dimension set of every S3 Replication metric: the rule's source bucket, destination bucket and rule id. */
export const REPLICATION_DIMENSIONS = ["SourceBucket", "DestinationBucket", "RuleId"];

/**
 * Every dimension an alarm on this metric must carry to watch a metric that exists; undefined for
 * namespaces the lake does not alarm on. S3's replication metrics need all three of theirs; its other
 * metrics name the bucket (`BucketName`).
 */
export function requiredDimensions(namespace: string, metricName: string): string[] | undefined {
  if (namespace === "AWS/S3") return REPLICATION_METRICS.includes(metricName) ? REPLICATION_DIMENSIONS : ["BucketName"];
  const one = REQUIRED_DIMENSION[namespace as AlarmNamespace];
  return one === undefined ? undefined : [one];
}

/**
 * Replication latency (seconds) above which the latency alarm fires: S3 RTC's 15-minute objective when
 * Replication Time Control is on, otherwise an hour (S3 replicates most objects within minutes without an
 * SLA; an hour behind is well outside that and still inside a working day's recovery point).
 */
export const REPLICATION_LATENCY_ALARM_SECONDS = { timeControl: 900, standard: 3600 };

/** The replication metrics' dimensions of one backed-up segment. */
export function replicationDimensions(lakeName: string, segment: SegmentConfig, accountId: string): Record<string, string> {
  const replica = replicaNames(lakeName, segment.layer, segment.name, accountId);
  return {
    SourceBucket: segmentNames(lakeName, segment.layer, segment.name, accountId).bucketName,
    DestinationBucket: replica.bucketName,
    RuleId: replica.ruleId,
  };
}

/** A backed-up segment's replication alarms, by the region they live in (CloudWatch's region of their metric). */
export interface ReplicationAlarms {
  /** In the stack's region, where S3 publishes `OperationsFailedReplication`. */
  sourceRegion: AlarmDefinition[];
  /** In the backup region, where S3 publishes `ReplicationLatency` (an alarm watches metrics of its own region). */
  backupRegion: AlarmDefinition[];
}

/**
 * The replication alarms of one segment (none when it is not backed up or its alarms are off): objects S3
 * failed to replicate, and the backup falling behind.
 */
export function replicationAlarms(lakeName: string, segment: SegmentConfig, backup: BackupConfig | undefined, accountId: string): ReplicationAlarms {
  if (!backup || !segment.backup || !segment.alarms.enabled) return { sourceRegion: [], backupRegion: [] };
  const dimensions = replicationDimensions(lakeName, segment, accountId);
  const prefix = `${lakeName}-${segment.layer}-${segment.name}`;
  const where = `segment ${segment.address}`;
  const latency = backup.timeControl ? REPLICATION_LATENCY_ALARM_SECONDS.timeControl : REPLICATION_LATENCY_ALARM_SECONDS.standard;
  return {
    sourceRegion: [
      {
        id: "replication-failed",
        alarmName: `${prefix}-replication-failed`,
        description:
          `${where}: S3 failed to replicate objects of ${dimensions.SourceBucket} to its backup ${dimensions.DestinationBucket} ` +
          `(${backup.region}) in the last 5 minutes; those objects are not in the backup. Find them (replication status FAILED), fix the ` +
          `role, key or replica bucket, then replicate them again with S3 Batch Replication (README "Backup and recovery").`,
        namespace: "AWS/S3",
        metricName: "OperationsFailedReplication",
        dimensions,
        statistic: "Sum",
        period: ALARM_PERIOD_SECONDS,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        threshold: 0,
        comparisonOperator: "GreaterThanThreshold",
        // AWS's advice for replication-metric alarms: missing data keeps the alarm's state (delivery is best effort).
        treatMissingData: "ignore",
        missingDataReason:
          "AWS advises treating missing replication metrics as ignore (keep the state): S3 publishes failed operations only while replication occurs, best effort, so a fired alarm stays until replication reports no failures",
      },
    ],
    backupRegion: [
      {
        id: "replication-latency",
        alarmName: `${prefix}-replication-latency`,
        description:
          `${where}: the backup ${dimensions.DestinationBucket} in ${backup.region} has been more than ${latency / 60} minutes behind ` +
          `${dimensions.SourceBucket} for 15 minutes in a row${backup.timeControl ? " (S3 Replication Time Control's 15-minute objective)" : ""}. ` +
          `A lost region now would lose that much of the archive: check the replication-failed alarm, the AWS Health dashboard and KMS throttling.`,
        namespace: "AWS/S3",
        metricName: "ReplicationLatency",
        dimensions,
        statistic: "Maximum",
        period: ALARM_PERIOD_SECONDS,
        evaluationPeriods: SUSTAINED_PERIODS,
        datapointsToAlarm: SUSTAINED_PERIODS,
        threshold: latency,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "ignore",
        missingDataReason:
          "AWS advises treating missing replication metrics as ignore (keep the state); a replica bucket that is gone shows as failed operations (still published when the destination bucket is deleted), and S3's first data points come some minutes after backup is switched on",
      },
    ],
  };
}

