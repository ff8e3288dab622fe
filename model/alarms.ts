/**
 * The CloudWatch alarms of a lake, as pure data: which metric (namespace, name, dimension, statistic),
 * which threshold, and how missing data counts. Components turn each definition into one
 * `aws.cloudwatch.MetricAlarm`; tests check them without mocks. Every metric, dimension and statistic here
 * is listed with its AWS documentation source in docs/aws-behaviour.md.
 *
 * Why the dimension matters: CloudWatch does not aggregate a metric over a dimension the alarm leaves out.
 * An alarm on `GetRecords.IteratorAgeMilliseconds` without `StreamName` watches a metric that is never
 * published and so never fires. Every definition therefore carries its full dimension set.
 */

export { ALARM_PERIOD_SECONDS, freshnessThresholdSeconds, iteratorAgeThresholdMs, SUSTAINED_PERIODS } from "./alarms/definition";
export type { AlarmDefinition, AlarmNamespace, AlarmStatistic, ComparisonOperator, TreatMissingData } from "./alarms/definition";
export { segmentAlarms } from "./alarms/segment-alarms";
export { processorAlarms } from "./alarms/processor-alarms";
export type { ProcessorMetricNames } from "./alarms/processor-alarms";
export { groupAlarms } from "./alarms/group-alarms";
export { REPLICATION_DIMENSIONS, REPLICATION_METRICS, REQUIRED_DIMENSION, requiredDimensions } from "./alarms/dimensions";
export { REPLICATION_LATENCY_ALARM_SECONDS, replicationAlarms, replicationDimensions } from "./alarms/replication-alarms";
export type { ReplicationAlarms } from "./alarms/replication-alarms";
