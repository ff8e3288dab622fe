/**
 * A segment's persistence: the S3 bucket the wire-tap writes to, and every guard around it: public access
 * blocked, ACLs disabled (bucket owner enforced), SSE-KMS with the layer key, versioning, a lifecycle for
 * stale uploads and old versions, and a bucket policy that refuses plain HTTP.
 *
 * Removing the segment (or its layer) from the config never deletes or weakens persisted data: the bucket
 * and every guard are `retainOnDelete`, so Pulumi drops them from the stack but leaves them in AWS exactly
 * as they were (still private, encrypted, versioned, TLS-only). README: "Changing the topology safely".
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "../model/policies";
import { movedChild } from "./moved";
import { Tags } from "./tags";

/** Days after which S3 aborts an unfinished multipart upload (Firehose retries leave them behind). */
export const ABORT_INCOMPLETE_UPLOADS_DAYS = 7;
/** Days a replaced or deleted object version is kept before it expires (the bucket's backup window). */
export const NONCURRENT_VERSION_DAYS = 30;

export interface SegmentBucketArgs {
  /** Physical bucket name (`segmentNames(...).bucketName`, ends in the account id). */
  bucketName: pulumi.Input<string>;
  /** ARN of the layer's KMS key: the bucket's default encryption (SSE-KMS). */
  kmsKeyArn: pulumi.Input<string>;
  /** Tags for the bucket. @default {} */
  tags?: Tags;
}

export class SegmentBucket extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  /** The bucket's default encryption; wait for it before writing objects. */
  readonly encryption: aws.s3.BucketServerSideEncryptionConfiguration;
  /** The bucket's versioning; wait for it before writing objects. */
  readonly versioning: aws.s3.BucketVersioning;

  constructor(name: string, args: SegmentBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Bucket", name, {}, opts);
    // retainOnDelete: when the segment leaves the config, Pulumi would delete the guards first (public access
    // block, TLS policy, encryption, versioning) and then fail on the non-empty bucket, leaving the data in
    // an unprotected bucket. Retained, the bucket and its guards stay in AWS untouched; only the stack forgets
    // them. Deleting on purpose is a separate, explicit step (README).
    const child = { ...movedChild(this, opts), retainOnDelete: true };
    const bucket = new aws.s3.Bucket(name, { bucket: args.bucketName, tags: args.tags ?? {} }, child);
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
            // One data key per bucket instead of per object: far fewer KMS calls for Firehose's many objects.
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "abort-incomplete-multipart-uploads",
            status: "Enabled",
            filter: {},
            abortIncompleteMultipartUpload: { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_DAYS },
          },
          {
            id: "expire-noncurrent-versions",
            status: "Enabled",
            filter: {},
            noncurrentVersionExpiration: { noncurrentDays: NONCURRENT_VERSION_DAYS },
          },
        ],
      },
      // Noncurrent-version rules only take effect once versioning is on.
      { ...child, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      // Public access is blocked before any bucket policy exists (the order AWS recommends).
      { ...child, dependsOn: [publicAccessBlock] },
    );

    this.bucket = bucket;
    this.name = bucket.bucket;
    this.arn = bucket.arn;
    this.encryption = encryption;
    this.versioning = versioning;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
