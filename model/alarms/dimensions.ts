/** The dimensions each alarmed metric must carry to watch a metric that exists. */
import { PROCESSOR_METRICS_NAMESPACE } from "../processor/metrics";
import type { AlarmNamespace } from "./definition";

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
