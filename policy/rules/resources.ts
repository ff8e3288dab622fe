/** The resource types the rules read, the properties that carry policy documents, and the KMS key checks. */

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Props = Record<string, any>;

export const TYPES = {
  stream: "aws:kinesis/stream:Stream",
  firehose: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  encryptionV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  versioningV2: "aws:s3/bucketVersioningV2:BucketVersioningV2",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  lifecycleV2: "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  key: "aws:kms/key:Key",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  objectLockV2: "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
  replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
  table: "aws:dynamodb/table:Table",
} as const;

/** Resource types that carry policy documents, and the properties they carry them in. */
export const POLICY_DOCUMENTS: Record<string, { fields: string[]; isKeyPolicy?: boolean }> = {
  "aws:iam/policy:Policy": { fields: ["policy"] },
  "aws:iam/rolePolicy:RolePolicy": { fields: ["policy"] },
  "aws:iam/userPolicy:UserPolicy": { fields: ["policy"] },
  "aws:iam/groupPolicy:GroupPolicy": { fields: ["policy"] },
  "aws:iam/role:Role": { fields: ["assumeRolePolicy"] },
  "aws:s3/bucketPolicy:BucketPolicy": { fields: ["policy"] },
  "aws:sns/topicPolicy:TopicPolicy": { fields: ["policy"] },
  "aws:sqs/queuePolicy:QueuePolicy": { fields: ["policy"] },
  "aws:kinesis/resourcePolicy:ResourcePolicy": { fields: ["policy"] },
  "aws:kms/key:Key": { fields: ["policy"], isKeyPolicy: true },
};

/** `alias/aws/...` or an ARN of one: an AWS-managed key, which cannot be governed or shared-nothing. */
export function isAwsManagedKey(key: string): boolean {
  return /(^|:)alias\/aws\//.test(key);
}

export const str = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** Why a key reference is not a customer-managed key; undefined when it is one. */
export function keyProblem(what: string, key: unknown): string | undefined {
  if (!str(key)) return `${what} has no KMS key; set a customer-managed key (the layer key)`;
  if (isAwsManagedKey(key)) return `${what} uses the AWS-managed key ${key}; use a customer-managed key (the layer key)`;
  return undefined;
}

/** Every policy document a resource carries, parsed; `undefined` documents (not set) are skipped. */
export function policyDocuments(type: string, props: Props): { field: string; doc: Props; isKeyPolicy: boolean }[] {
  const spec = POLICY_DOCUMENTS[type];
  const out: { field: string; doc: Props; isKeyPolicy: boolean }[] = [];
  if (spec) {
    for (const field of spec.fields) {
      const value = props[field];
      if (value === undefined || value === null || value === "") continue;
      out.push({ field, doc: typeof value === "string" ? JSON.parse(value) : value, isKeyPolicy: spec.isKeyPolicy ?? false });
    }
  }
  if (type === "aws:iam/role:Role" && Array.isArray(props.inlinePolicies)) {
    props.inlinePolicies.forEach((p: Props, i: number) => {
      if (str(p?.policy)) out.push({ field: `inlinePolicies[${i}].policy`, doc: JSON.parse(p.policy), isKeyPolicy: false });
    });
  }
  return out;
}
