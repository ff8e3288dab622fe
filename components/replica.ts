/**
 * A segment's backup: a replica bucket in the lake's backup region with the source bucket's guards (public
 * access blocked, ACLs disabled, SSE-KMS with the layer's backup key, versioning, a lifecycle for stale
 * uploads and old versions, a TLS-only bucket policy) plus S3 Object Lock in compliance mode, and the
 * replication configuration on the source bucket that copies every new archive object there.
 *
 * - Delete markers are not replicated (`deleteMarkerReplication: Disabled` on a filtered, i.e. V2, rule),
 *   and S3 never replicates the deletion of an object version: a delete at the source never reaches the
 *   backup. The replication role may not even `s3:ReplicateDelete` (model/backup-policies.ts).
 * - Compliance mode: no user, the account root included, can delete or overwrite a replicated object
 *   version, or shorten its lock, until `objectLockDays` after it was written; governance mode would let
 *   anyone with `s3:BypassGovernanceRetention` (an administrator) do so, which is exactly the mistake or
 *   compromised account the backup is for. Replicas of objects without a lock of their own get the replica
 *   bucket's default retention.
 * - Retained like the source (components/bucket.ts): removing the segment, its layer or the lake's
 *   `backup` deletes the replication configuration and keeps the replica bucket and all its guards in AWS.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { REPLICATED_PREFIX } from "../model/naming";
import { tlsOnlyBucketPolicy } from "../model/policies";
import { ABORT_INCOMPLETE_UPLOADS_DAYS, NONCURRENT_VERSION_DAYS } from "./bucket";
import { Tags } from "./tags";

/** S3 Object Lock mode of every replica (see the file's comment for why compliance). */
export const OBJECT_LOCK_MODE = "COMPLIANCE";
/** S3 Replication Time Control's replication objective, and the event threshold it requires, in minutes. */
export const REPLICATION_TIME_MINUTES = 15;

export interface SegmentReplicaArgs {
  /** Physical name of the replica bucket (`replicaNames(...).bucketName`). */
  bucketName: pulumi.Input<string>;
  /** The layer's backup key (in the backup region): the replicas' encryption. */
  kmsKeyArn: pulumi.Input<string>;
  /** The AWS provider of the backup region: the replica bucket and its guards are created there. */
  provider: aws.Provider;
  /** Days each replicated object version stays locked (compliance mode). */
  objectLockDays: number;
  /** S3 Replication Time Control on the rule. @default false */
  timeControl?: boolean;
  /** The source: the segment's bucket (its name) and its versioning, which replication requires. */
  source: { bucket: pulumi.Input<string>; versioning: pulumi.Resource };
  /** The layer's replication role, and what grants it its permissions (replication waits for both). */
  role: { arn: pulumi.Input<string>; ready: pulumi.Resource[] };
  /** Id of the replication rule (`replicaNames(...).ruleId`), a dimension of the replication metrics. */
  ruleId: string;
  /** Tags for the replica bucket. @default {} */
  tags?: Tags;
}

export class SegmentReplica extends pulumi.ComponentResource {
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;

  constructor(name: string, args: SegmentReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Replica", name, {}, opts);
    // retainOnDelete: as for the source bucket, Pulumi would otherwise delete the guards first and then fail
    // on the non-empty (and locked) bucket, leaving an unguarded backup behind. Retained, it stays as it was.
    const backup = { parent: this, provider: args.provider, retainOnDelete: true };
    const bucket = new aws.s3.Bucket(
      name,
      // Object Lock is switched on when the bucket is created; it can never be switched off again.
      { bucket: args.bucketName, objectLockEnabled: true, tags: args.tags ?? {} },
      backup,
    );
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      backup,
    );
    new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, backup);
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn }, bucketKeyEnabled: true }] },
      backup,
    );
    const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, backup);
    const objectLock = new aws.s3.BucketObjectLockConfiguration(
      `${name}-object-lock`,
      { bucket: bucket.id, objectLockEnabled: "Enabled", rule: { defaultRetention: { mode: OBJECT_LOCK_MODE, days: args.objectLockDays } } },
      // Object Lock works on object versions: versioning is on first.
      { ...backup, dependsOn: [versioning] },
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_DAYS } },
          // A version stays locked whatever the lifecycle says: expiry applies once its lock has run out.
          { id: "expire-noncurrent-versions", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_DAYS } },
        ],
      },
      // Noncurrent-version rules only take effect once versioning is on.
      { ...backup, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      // Public access is blocked before any bucket policy exists (the order AWS recommends).
      { ...backup, dependsOn: [publicAccessBlock] },
    );

    // On the source bucket, in the stack's region (the default provider); not retained: removing the backup
    // stops replicating, and the replica keeps what it has.
    new aws.s3.BucketReplicationConfig(
      `${name}-replication`,
      {
        bucket: args.source.bucket,
        role: args.role.arn,
        rules: [
          {
            id: args.ruleId,
            status: "Enabled",
            priority: 1,
            // A filter makes this a V2 rule, whose delete markers are replicated only when asked for (a rule
            // without one is V1 and replicates them).
            filter: { prefix: REPLICATED_PREFIX },
            deleteMarkerReplication: { status: "Disabled" },
            // S3 skips SSE-KMS objects (all of the archive) unless the rule opts in.
            sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
            destination: {
              bucket: bucket.arn,
              encryptionConfiguration: { replicaKmsKeyId: args.kmsKeyArn },
              // Replication metrics (latency, pending, failed) without paying for Replication Time Control.
              metrics: args.timeControl
                ? { status: "Enabled", eventThreshold: { minutes: REPLICATION_TIME_MINUTES } }
                : { status: "Enabled" },
              ...(args.timeControl ? { replicationTime: { status: "Enabled", time: { minutes: REPLICATION_TIME_MINUTES } } } : {}),
            },
          },
        ],
      },
      {
        parent: this,
        // S3 refuses a replication configuration unless both buckets are versioned; and an object written
        // before the replica is guarded, locked and encrypted, or before the role may act, would fail to
        // replicate and stay FAILED until someone runs S3 Batch Replication.
        dependsOn: [args.source.versioning, versioning, objectLock, encryption, publicAccessBlock, ...args.role.ready],
      },
    );

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.registerOutputs({ bucketName: this.bucketName, bucketArn: this.bucketArn });
  }
}
