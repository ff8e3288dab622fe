/**
 * The lake's alarm topic: its names, its KMS key policy and its topic policy, as pure functions.
 *
 * CloudWatch publishes alarm notifications to an SNS topic. When the topic is encrypted, CloudWatch itself
 * must be allowed to use the topic's key (`kms:Decrypt` and `kms:GenerateDataKey*`): the AWS-managed key
 * `alias/aws/sns` cannot grant that, so the topic gets a customer-managed key of its own. The key policy
 * lists the two data-key actions by name instead of `kms:GenerateDataKey*` (the lake's scanner allows no
 * wildcard action outside the account root's `kms:*`); for a symmetric key that wildcard means exactly
 * `GenerateDataKey` and `GenerateDataKeyWithoutPlaintext` (the `...Pair` actions need asymmetric data keys,
 * which SNS does not use).
 */
import { accountRootKeyStatement, POLICY_VERSION, PolicyDocument } from "./policies";

export interface AlertsNames {
  /** Pulumi logical name of the alerts component. */
  logicalName: string;
  topicName: string;
  kmsAlias: string;
  /** Prefix of every alarm name of the lake (`<lake>-`), for the topic policy's `aws:SourceArn` condition. */
  alarmNamePrefix: string;
  dashboardName: string;
}

export function alertsNames(lake: string): AlertsNames {
  return {
    logicalName: "alerts",
    topicName: `${lake}-alarms`,
    kmsAlias: `alias/${lake}/alarms`,
    alarmNamePrefix: `${lake}-`,
    dashboardName: lake,
  };
}

/** The actions CloudWatch needs on an encrypted topic's key to publish to it. */
export const CLOUDWATCH_TOPIC_KEY_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"];

export interface AlertsKeyPolicyArgs {
  accountId: string;
  /** @default "aws" */
  partition?: string;
}

/**
 * Key policy of the alarm topic's key: the account root (so IAM policies naming the key work, as in AWS's
 * default key policy) and the CloudWatch service principal for the data-key actions it needs to publish.
 * No condition on the CloudWatch statement: AWS's documented statement has none, and a condition key that
 * the KMS request does not carry would silently drop every notification.
 */
export function alertsKeyPolicy(a: AlertsKeyPolicyArgs): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [
      accountRootKeyStatement(a.accountId, a.partition ?? "aws"),
      {
        Sid: "AllowCloudWatchAlarmsToPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: CLOUDWATCH_TOPIC_KEY_ACTIONS,
        Resource: "*",
      },
    ],
  };
}

export interface AlertsTopicPolicyArgs {
  topicArn: string;
  accountId: string;
  region: string;
  lakeName: string;
  /** @default "aws" */
  partition?: string;
}

/**
 * Topic policy: CloudWatch may publish, only for this account's alarms of this lake (`aws:SourceArn`
 * against the alarm-name prefix, the form AWS's knowledge center gives). No TLS-only deny here: whether
 * CloudWatch's own publish carries `aws:SecureTransport` is not documented, and a deny it trips would
 * silently drop every alarm notification.
 */
export function alertsTopicPolicy(a: AlertsTopicPolicyArgs): PolicyDocument {
  const partition = a.partition ?? "aws";
  const alarms = `arn:${partition}:cloudwatch:${a.region}:${a.accountId}:alarm:${alertsNames(a.lakeName).alarmNamePrefix}*`;
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: "AllowCloudWatchAlarmsOfThisLake",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: a.topicArn,
        Condition: {
          StringEquals: { "aws:SourceAccount": a.accountId },
          ArnLike: { "aws:SourceArn": alarms },
        },
      },
    ],
  };
}
