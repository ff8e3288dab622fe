/**
 * The metrics a processor publishes itself, as one CloudWatch embedded metric format (EMF) document per
 * batch: a JSON line on stdout from which CloudWatch Logs extracts the metric values (no API call, no
 * permission). Why: a batch that returns `batchItemFailures` (target writes throttled past the bounded
 * resends, a poison record the dead-letter queue refused) is a successful invocation for Lambda, so its
 * `Errors` metric stays 0; `FailedRecords` is what the processor's `failed-records` alarm watches
 * (model/alarms.ts). Pure: the Lambda adapter (lambda.ts) writes the line.
 */

/** The CloudWatch namespace of the processors' own metrics (custom namespaces may not start with `AWS/`). */
export const PROCESSOR_METRICS_NAMESPACE = "DataLake/Processors";

/** Metric names, each a count per batch, with the dimension `FunctionName` only. */
export const PROCESSOR_METRICS = {
  /** Records of the batch reported as batch item failures (Lambda retries them, then dead-letters them). */
  failedRecords: "FailedRecords",
  /** 1 when the batch reported any failed record, else 0. */
  partialBatchFailures: "PartialBatchFailures",
} as const;

export interface BatchOutcome {
  /** The function's name (`AWS_LAMBDA_FUNCTION_NAME`): the metrics' one dimension, as the alarm names it. */
  functionName: string;
  /** Records in the batch (logged beside the metrics, not a metric). */
  records: number;
  /** `batchItemFailures.length` of the response. */
  failedRecords: number;
  /** Milliseconds since the epoch: the metrics' time. */
  timestamp: number;
}

/**
 * The EMF document for one batch, as one line ending in "\n". The log event must be exactly this JSON
 * object: Lambda's `console.log` prefixes a time, request id and level, so the adapter writes it to
 * stdout directly. A clean batch publishes zeros, so the metric exists from the first batch on.
 */
export function batchMetricsLine(o: BatchOutcome): string {
  const doc = {
    _aws: {
      Timestamp: Math.round(o.timestamp),
      CloudWatchMetrics: [
        {
          Namespace: PROCESSOR_METRICS_NAMESPACE,
          Dimensions: [["FunctionName"]],
          Metrics: [
            { Name: PROCESSOR_METRICS.failedRecords, Unit: "Count" },
            { Name: PROCESSOR_METRICS.partialBatchFailures, Unit: "Count" },
          ],
        },
      ],
    },
    FunctionName: o.functionName,
    [PROCESSOR_METRICS.failedRecords]: o.failedRecords,
    [PROCESSOR_METRICS.partialBatchFailures]: o.failedRecords > 0 ? 1 : 0,
    Records: o.records,
  };
  return `${JSON.stringify(doc)}\n`;
}
