/** What an alarm definition holds, the shared period, and the thresholds derived from a segment's settings. */
import { PROCESSOR_METRICS_NAMESPACE } from "../processor/metrics";

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

export const hours = (ms: number) => `${Math.round((ms / 3_600_000) * 10) / 10} h`;
