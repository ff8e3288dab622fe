/**
 * The lake's Athena workgroup and where its query results go: a results bucket with every public access
 * blocked, ACLs disabled, TLS only, SSE-KMS with a key of its own (query results mix segments of every
 * layer, so no layer's key is used), and results expiring after `RESULTS_RETENTION_DAYS`. The workgroup
 * enforces its configuration, so no client can send results elsewhere or unencrypted.
 *
 * Like a segment's bucket (components/bucket.ts), the results bucket, every guard of it and its key and
 * alias are `retainOnDelete`: `pulumi destroy` leaves them in AWS as they were. README: "Removing a
 * segment or a layer" (what a destroy leaves, and how to delete on purpose).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { queryResultsBucketName, workgroupName } from "../model/archive";
import { layerKeyPolicy, tlsOnlyBucketPolicy } from "../model/policies";
import { KEY_DELETION_WINDOW_DAYS } from "./key-settings";
import { lakeTags, Tags } from "./tags";

/** Days query results are kept before the lifecycle deletes them. */
export const RESULTS_RETENTION_DAYS = 30;

export interface QueryWorkgroupArgs {
  /** The lake's name: the prefix of every physical name. */
  lakeName: string;
  /** The AWS account (part of the results bucket's name and of the key policy). */
  accountId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** @default "aws" */
  partition?: pulumi.Input<string>;
  /** Extra tags for every taggable resource. @default {} */
  tags?: Tags;
}

export class QueryWorkgroup extends pulumi.ComponentResource {
  readonly workgroupName: pulumi.Output<string>;
  readonly workgroupArn: pulumi.Output<string>;
  readonly resultsBucketName: pulumi.Output<string>;
  readonly resultsBucketArn: pulumi.Output<string>;
  readonly resultsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: QueryWorkgroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:QueryWorkgroup", name, {}, opts);
    const tags = lakeTags({ lake: args.lakeName }, args.tags);
    // retainOnDelete: S3 refuses to delete a bucket that still holds results, so `pulumi destroy` would
    // delete the guards (public access block, TLS-only policy, encryption) and the key first and then fail
    // half-way on the bucket, leaving results in an unguarded bucket whose key is pending deletion (after
    // the waiting period they could never be read again). Retained, the bucket, its guards and its key stay
    // exactly as they were; only the stack forgets them. The workgroup holds no data and is deleted.
    const kept = { parent: this, retainOnDelete: true };

    const key = new aws.kms.Key(
      `${name}-results-key`,
      {
        description: `Data lake ${args.lakeName}: Athena query results`,
        enableKeyRotation: true,
        deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
        policy: pulumi
          .all([args.accountId, args.region, args.partition ?? "aws"])
          .apply(([accountId, region, partition]) => JSON.stringify(layerKeyPolicy({ accountId, region, partition, logGroupNames: [] }))),
        tags,
      },
      kept,
    );
    new aws.kms.Alias(`${name}-results-key-alias`, { name: `alias/${args.lakeName}/query-results`, targetKeyId: key.keyId }, kept);

    const bucket = new aws.s3.Bucket(
      `${name}-results`,
      { bucket: pulumi.output(args.accountId).apply((id) => queryResultsBucketName(args.lakeName, id)), tags },
      kept,
    );
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-results-public-access`,
      { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
      kept,
    );
    new aws.s3.BucketOwnershipControls(`${name}-results-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, kept);
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-results-encryption`,
      { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn }, bucketKeyEnabled: true }] },
      kept,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-results-lifecycle`,
      {
        bucket: bucket.id,
        rules: [
          { id: "expire-query-results", status: "Enabled", filter: {}, expiration: { days: RESULTS_RETENTION_DAYS } },
          { id: "abort-incomplete-multipart-uploads", status: "Enabled", filter: {}, abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } },
        ],
      },
      kept,
    );
    new aws.s3.BucketPolicy(
      `${name}-results-policy`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      // Public access is blocked before any bucket policy exists (the order AWS recommends).
      { ...kept, dependsOn: [publicAccessBlock] },
    );

    const workgroup = new aws.athena.Workgroup(
      `${name}-workgroup`,
      {
        name: workgroupName(args.lakeName),
        description: `Data lake ${args.lakeName}: queries over the segments' archives`,
        state: "ENABLED",
        configuration: {
          // Clients cannot override the results location or turn encryption off.
          enforceWorkgroupConfiguration: true,
          publishCloudwatchMetricsEnabled: true,
          resultConfiguration: {
            outputLocation: pulumi.interpolate`s3://${bucket.bucket}/results/`,
            encryptionConfiguration: { encryptionOption: "SSE_KMS", kmsKeyArn: key.arn },
            expectedBucketOwner: args.accountId,
          },
        },
        tags,
      },
      // No query may write results before the bucket encrypts by default and refuses public access.
      { parent: this, dependsOn: [encryption, publicAccessBlock] },
    );

    this.workgroupName = workgroup.name;
    this.workgroupArn = workgroup.arn;
    this.resultsBucketName = bucket.bucket;
    this.resultsBucketArn = bucket.arn;
    this.resultsKeyArn = key.arn;
    this.registerOutputs({
      workgroupName: this.workgroupName,
      workgroupArn: this.workgroupArn,
      resultsBucketName: this.resultsBucketName,
      resultsBucketArn: this.resultsBucketArn,
      resultsKeyArn: this.resultsKeyArn,
    });
  }
}
