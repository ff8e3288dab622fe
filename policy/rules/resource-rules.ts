/** Resource rules: each checks one resource's own properties (keys, least privilege, logging, retention, alarms). */
import type { ReportViolation, ResourceValidationPolicy } from "@pulumi/policy";
import { requiredDimensions } from "../../model/alarms";
import { RANGES } from "../../model/config";
import { findPolicyViolations } from "../../model/policies";
import { keyProblem, POLICY_DOCUMENTS, policyDocuments, type Props, str, TYPES } from "./resources";

/** Log groups must expire: 1 day to 10 years (CloudWatch Logs' largest retention setting). */
export const LOG_RETENTION_DAYS = { min: 1, max: 3653 };

export function resourceRule(
  name: string,
  description: string,
  type: string | string[],
  check: (props: Props, report: ReportViolation, type: string) => void,
): ResourceValidationPolicy {
  const types = Array.isArray(type) ? type : [type];
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (types.includes(args.type)) check(args.props, report, args.type);
    },
  };
}

export const streamsEncrypted = resourceRule(
  "streams-encrypted-with-cmk",
  "Kinesis streams are encrypted at rest with a customer-managed KMS key.",
  TYPES.stream,
  (p, report) => {
    if (p.encryptionType !== "KMS") return report(`stream encryptionType is ${JSON.stringify(p.encryptionType ?? "NONE")}; set "KMS" with the layer key`);
    const problem = keyProblem("the stream", p.kmsKeyId);
    if (problem) report(problem);
  },
);

export const logGroupsEncrypted = resourceRule(
  "log-groups-encrypted-with-cmk",
  "CloudWatch log groups are encrypted with a customer-managed KMS key.",
  TYPES.logGroup,
  (p, report) => {
    const problem = keyProblem("the log group", p.kmsKeyId);
    if (problem) report(problem);
  },
);

export const queuesEncrypted = resourceRule(
  "queues-encrypted-with-cmk",
  "SQS queues (dead-letter queues) are encrypted with a customer-managed KMS key, not SQS-managed SSE.",
  TYPES.queue,
  (p, report) => {
    const problem = keyProblem("the queue", p.kmsMasterKeyId);
    if (problem) report(problem);
  },
);

export const topicsEncrypted = resourceRule(
  "topics-encrypted-with-cmk",
  "SNS topics are encrypted with a customer-managed KMS key (CloudWatch cannot publish to alias/aws/sns).",
  TYPES.topic,
  (p, report) => {
    const problem = keyProblem("the topic", p.kmsMasterKeyId);
    if (problem) report(problem);
  },
);

export const tablesEncrypted = resourceRule(
  "tables-encrypted-with-cmk",
  "DynamoDB tables (consumer groups' lease tables) are encrypted with a customer-managed KMS key, not the AWS owned or AWS managed key.",
  TYPES.table,
  (p, report) => {
    const sse = p.serverSideEncryption;
    if (sse?.enabled !== true) return report("the table uses the AWS owned key; set serverSideEncryption { enabled: true, kmsKeyArn: <the layer key> }");
    const problem = keyProblem("the table", sse.kmsKeyArn);
    if (problem) report(problem);
  },
);

export const tablesRecoverable = resourceRule(
  "tables-point-in-time-recovery",
  "DynamoDB tables keep point-in-time recovery on: a lease table holds its group's checkpoints.",
  TYPES.table,
  (p, report) => {
    if (p.pointInTimeRecovery?.enabled !== true) report("point-in-time recovery is off; set pointInTimeRecovery { enabled: true }");
  },
);

export const leastPrivilege = resourceRule(
  "iam-least-privilege",
  'No Allow with a wildcard action, on Resource "*" (outside key policies), to the public, or with NotAction/NotResource.',
  Object.keys(POLICY_DOCUMENTS),
  (p, report, type) => {
    let docs;
    try {
      docs = policyDocuments(type, p);
    } catch (err) {
      return report(`a policy document is not valid JSON (${(err as Error).message})`);
    }
    for (const { field, doc, isKeyPolicy } of docs) {
      for (const v of findPolicyViolations(doc as never, { isKeyPolicy })) {
        const where = v.statement < 0 ? field : `${field} statement ${v.statement}${v.sid ? ` (${v.sid})` : ""}`;
        report(`${where}: ${v.message}`);
      }
    }
  },
);

export const wireTapsLogErrors = resourceRule(
  "wire-taps-log-errors",
  "Firehose wire-taps log delivery errors to CloudWatch Logs and write failed records under an error prefix.",
  TYPES.firehose,
  (p, report) => {
    const s3 = p.extendedS3Configuration;
    if (!s3) return report("the delivery stream has no extendedS3Configuration (a wire-tap writes to its segment's bucket)");
    const logging = s3.cloudwatchLoggingOptions;
    if (logging?.enabled !== true || !str(logging.logGroupName) || !str(logging.logStreamName)) {
      report("delivery-error logging is off; set cloudwatchLoggingOptions { enabled: true, logGroupName, logStreamName }");
    }
    if (!str(s3.errorOutputPrefix)) report("no errorOutputPrefix: failed records would mix with delivered ones");
  },
);

export const retentionWithinBounds = resourceRule(
  "retention-within-bounds",
  `Stream retention ${RANGES.retentionHours.min}-${RANGES.retentionHours.max} h; log groups expire after ${LOG_RETENTION_DAYS.min}-${LOG_RETENTION_DAYS.max} days.`,
  [TYPES.stream, TYPES.logGroup],
  (p, report, type) => {
    if (type === TYPES.stream) {
      const hours = p.retentionPeriod ?? 24;
      if (!Number.isInteger(hours) || hours < RANGES.retentionHours.min || hours > RANGES.retentionHours.max) {
        report(`stream retentionPeriod ${hours} h is outside ${RANGES.retentionHours.min}-${RANGES.retentionHours.max} h`);
      }
      return;
    }
    const days = p.retentionInDays;
    if (days === undefined || days === 0) return report("the log group never expires; set retentionInDays");
    if (days < LOG_RETENTION_DAYS.min || days > LOG_RETENTION_DAYS.max) {
      report(`log group retentionInDays ${days} is outside ${LOG_RETENTION_DAYS.min}-${LOG_RETENTION_DAYS.max}`);
    }
  },
);

export const alarmsNameTheirResource = resourceRule(
  "alarms-name-their-resource",
  "Alarms on Kinesis, Firehose, Lambda, SQS and S3 replication metrics and on the processors' own metrics carry the dimensions naming the resource (StreamName, DeliveryStreamName, FunctionName, QueueName; SourceBucket, DestinationBucket and RuleId): CloudWatch does not aggregate over a missing dimension, so such an alarm never fires.",
  TYPES.alarm,
  (p, report) => {
    const needed = requiredDimensions(String(p.namespace), String(p.metricName));
    if (needed === undefined || p.metricQueries !== undefined) return; // other namespaces; metric-math alarms name theirs per query
    const missing = needed.filter((d) => !str(p.dimensions?.[d]));
    if (missing.length > 0) {
      report(`alarm on ${p.namespace} ${p.metricName} has no ${missing.join(", ")} dimension${missing.length > 1 ? "s" : ""}, so it watches no resource and never fires`);
    }
  },
);
