/** The alarms of one processor (route): errors, failed records, iterator age and dead letters. */
import { SegmentConfig } from "../config";
import { PROCESSOR_METRICS, PROCESSOR_METRICS_NAMESPACE } from "../processor/metrics";
import { ALARM_PERIOD_SECONDS, type AlarmDefinition, hours, iteratorAgeThresholdMs, SUSTAINED_PERIODS } from "./definition";

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
