/** The alarms of one segment: consumer lag, throttling, failing producers, and the wire-tap. */
import { AlarmsConfig, SegmentConfig } from "../config";
import { segmentNames } from "../naming";
import { ALARM_PERIOD_SECONDS, type AlarmDefinition, freshnessThresholdSeconds, hours, iteratorAgeThresholdMs, SUSTAINED_PERIODS } from "./definition";

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
