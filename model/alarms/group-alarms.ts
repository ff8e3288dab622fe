/** The lag alarm of one consumer group. */
import { SegmentConfig } from "../config";
import { GroupConfig } from "../groups";
import { groupNames, segmentNames } from "../naming";
import { ALARM_PERIOD_SECONDS, type AlarmDefinition, hours, iteratorAgeThresholdMs, SUSTAINED_PERIODS } from "./definition";

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
