/**
 * The policy documents of a layer's backup (issue 20): the trust and permissions of the role S3 replicates
 * the layer's buckets with, and the key policy of the layer's backup key in the backup region. Pure, like
 * model/policies.ts, whose scanner (`findPolicyViolations`) the tests run over every one of them.
 *
 * What S3 needs, from AWS's "Setting up permissions for live replication" and "Replicating encrypted
 * objects": on the source bucket `s3:GetReplicationConfiguration` and `s3:ListBucket`; on its objects
 * `s3:GetObjectVersionForReplication`, `s3:GetObjectVersionAcl`, `s3:GetObjectVersionTagging`, plus
 * `s3:GetObjectRetention` and `s3:GetObjectLegalHold` when Object Lock is involved; on the destination's
 * objects `s3:ReplicateObject` (and `s3:ReplicateTags`); `kms:Decrypt` of the source key through S3 in the
 * source region and `kms:Encrypt` of the replica key through S3 in the destination region. With S3 Bucket
 * Keys the encryption context is the bucket's ARN, not the object's, so the conditions name both.
 */
import { accountRootKeyStatement, ConditionBlock, POLICY_VERSION, PolicyDocument, PolicyStatement, viaService } from "./policies";

/**
 * Trust policy of a layer's replication role: S3 may assume it. This is AWS's documented trust policy for
 * replication, without conditions: the docs give none for S3 replication, and one S3 does not satisfy
 * would fail every replication. No other account can point a replication rule at the role, because naming
 * a role in a replication configuration needs `iam:PassRole` in the role's own account.
 */
export function replicationAssumeRolePolicy(): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [{ Sid: "S3AssumesRoleToReplicate", Effect: "Allow", Principal: { Service: "s3.amazonaws.com" }, Action: "sts:AssumeRole" }],
  };
}

/** One backed-up segment of the layer: its source bucket and its replica. */
export interface ReplicatedBucket {
  sourceBucketArn: string;
  replicaBucketArn: string;
}

export interface ReplicationRolePolicyArgs {
  /** The layer's backed-up segments (at least one). */
  buckets: ReplicatedBucket[];
  /** The layer's key: encrypts the source objects. */
  sourceKeyArn: string;
  /** The layer's backup key, in the backup region: encrypts the replicas. */
  replicaKeyArn: string;
  /** The stack's region (the source buckets'). */
  sourceRegion: string;
  /** The backup region (the replicas'). */
  backupRegion: string;
  /** The partition's DNS suffix, for `kms:ViaService`. @default "amazonaws.com" */
  dnsSuffix?: string;
}

const sorted = (values: string[]) => [...new Set(values)].sort();
/** Bucket ARNs and their objects: the two forms `kms:EncryptionContext:aws:s3:arn` takes (Bucket Key or not). */
const bucketsAndObjects = (arns: string[]) => sorted(arns.flatMap((arn) => [arn, `${arn}/*`]));

/** Decrypting source objects: through S3 in the stack's region, for the layer's backed-up buckets only. */
function sourceKeyCondition(a: ReplicationRolePolicyArgs): ConditionBlock {
  return {
    StringEquals: { "kms:ViaService": viaService("s3", a.sourceRegion, a.dnsSuffix) },
    StringLike: { "kms:EncryptionContext:aws:s3:arn": bucketsAndObjects(a.buckets.map((b) => b.sourceBucketArn)) },
  };
}

/** Encrypting replicas: through S3 in the backup region, for the layer's replica buckets only. */
export function replicaKeyCondition(a: Pick<ReplicationRolePolicyArgs, "buckets" | "backupRegion" | "dnsSuffix">): ConditionBlock {
  return {
    StringEquals: { "kms:ViaService": viaService("s3", a.backupRegion, a.dnsSuffix) },
    StringLike: { "kms:EncryptionContext:aws:s3:arn": bucketsAndObjects(a.buckets.map((b) => b.replicaBucketArn)) },
  };
}

/**
 * What the replica key lets the replication role do: encrypt replicas, and `kms:Decrypt`, which S3 calls to
 * check an S3 Bucket Key before using it, and `kms:GenerateDataKey` for the bucket-level data key.
 */
export const REPLICA_KEY_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"];

/**
 * Permissions of a layer's replication role: read the layer's backed-up source buckets for replication,
 * write replicas into their replica buckets only, decrypt with the layer key and encrypt with the backup
 * key, each only through S3 in its region and only for those buckets. No `s3:ReplicateDelete`: delete
 * markers are never replicated (and could not be, should a rule ever ask for it), so a delete at the source
 * never reaches the backup.
 */
export function replicationRolePolicy(a: ReplicationRolePolicyArgs): PolicyDocument {
  const sources = sorted(a.buckets.map((b) => b.sourceBucketArn));
  const replicas = sorted(a.buckets.map((b) => b.replicaBucketArn));
  const statements: PolicyStatement[] = [
    {
      Sid: "ReadSourceBucketConfiguration",
      Effect: "Allow",
      Action: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
      Resource: sources,
    },
    {
      Sid: "ReadSourceObjectsForReplication",
      Effect: "Allow",
      Action: [
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionTagging",
        "s3:GetObjectRetention",
        "s3:GetObjectLegalHold",
      ],
      Resource: sources.map((arn) => `${arn}/*`),
    },
    {
      Sid: "WriteReplicas",
      Effect: "Allow",
      Action: ["s3:ReplicateObject", "s3:ReplicateTags"],
      Resource: replicas.map((arn) => `${arn}/*`),
    },
    {
      Sid: "DecryptSourceObjects",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.sourceKeyArn,
      Condition: sourceKeyCondition(a),
    },
    {
      Sid: "EncryptReplicas",
      Effect: "Allow",
      Action: REPLICA_KEY_ACTIONS,
      Resource: a.replicaKeyArn,
      Condition: replicaKeyCondition(a),
    },
  ];
  return { Version: POLICY_VERSION, Statement: statements };
}

export interface BackupKeyPolicyArgs {
  accountId: string;
  /** @default "aws" */
  partition?: string;
  /** The layer's replication role: named in the key policy, as S3 Bucket Keys with replication require. */
  replicationRoleArn: string;
  buckets: ReplicatedBucket[];
  backupRegion: string;
  /** @default "amazonaws.com" */
  dnsSuffix?: string;
}

/**
 * Key policy of a layer's backup key: the account root (IAM policies naming the key take effect, as in
 * AWS's default key policy), and the layer's replication role for the replica actions, only through S3 in
 * the backup region and only for the layer's replica buckets. AWS: "To use replication with an S3 Bucket
 * Key, the AWS KMS key policy for the KMS key that's used to encrypt the object replica must include the
 * kms:Decrypt permission for the calling principal"; the role's own policy grants the same.
 */
export function backupKeyPolicy(a: BackupKeyPolicyArgs): PolicyDocument {
  return {
    Version: POLICY_VERSION,
    Statement: [
      accountRootKeyStatement(a.accountId, a.partition ?? "aws"),
      {
        Sid: "AllowReplicationRoleForReplicas",
        Effect: "Allow",
        Principal: { AWS: a.replicationRoleArn },
        Action: REPLICA_KEY_ACTIONS,
        Resource: "*",
        Condition: replicaKeyCondition(a),
      },
    ],
  };
}
