/** Service endpoint names, service principals and the ARNs (account root, log group) policies name. */

/** The DNS suffix of the `aws` partition; China's is `amazonaws.com.cn` (`aws.getPartition().dnsSuffix`). */
export const DEFAULT_DNS_SUFFIX = "amazonaws.com";

/**
 * `kinesis.eu-west-1.amazonaws.com`: the value of `kms:ViaService` for a service in a region. It is the
 * service's regional endpoint name, so it ends in the partition's DNS suffix (`amazonaws.com.cn` in China).
 */
export function viaService(service: "kinesis" | "s3" | "logs" | "sqs" | "dynamodb", region: string, dnsSuffix: string = DEFAULT_DNS_SUFFIX): string {
  return `${service}.${region}.${dnsSuffix}`;
}

/**
 * The IAM service principal of a global service in a role's trust policy: `firehose.amazonaws.com`. IAM
 * documents `<service>.amazonaws.com` as the usual form in every partition, China included; only some
 * older services (EC2, S3, EMR) also answer to `.amazonaws.com.cn` there, and Lambda rejects it. Regional
 * principals that are endpoint names (CloudWatch Logs in a key policy) use `regionalServicePrincipal`.
 */
export function servicePrincipal(service: "firehose" | "pipes" | "lambda"): string {
  return `${service}.amazonaws.com`;
}

/** `logs.eu-west-1.amazonaws.com` (`logs.cn-north-1.amazonaws.com.cn` in China): CloudWatch Logs in a key policy. */
export function regionalServicePrincipal(service: "logs", region: string, dnsSuffix: string = DEFAULT_DNS_SUFFIX): string {
  return `${service}.${region}.${dnsSuffix}`;
}

/** `arn:aws:iam::123456789012:root`: the principal that stands for "IAM policies of this account". */
export function accountRootArn(accountId: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** ARN of a CloudWatch Logs log group, as `kms:EncryptionContext:aws:logs:arn` carries it (no `:*`). */
export function logGroupArn(logGroupName: string, region: string, accountId: string, partition = "aws"): string {
  return `arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}`;
}
