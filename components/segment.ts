/**
 * One data segment: a Kinesis stream (pub-sub), a Firehose delivery stream reading it (wire-tap) and the
 * versioned, KMS-encrypted S3 bucket Firehose writes to (persistence, backup and replay), plus the
 * producer and consumer policies that grant access to it.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SegmentConfig } from "../model/config";
import { segmentNames, WIRE_TAP_LAYOUT } from "../model/naming";
import {
  consumerPolicy,
  firehoseAssumeRolePolicy,
  firehoseRolePolicy,
  producerPolicy,
  tlsOnlyBucketPolicy,
} from "../model/policies";
import { lakeTags, Tags } from "./tags";

/** Days CloudWatch keeps a segment's Firehose delivery-error log. */
export const WIRE_TAP_LOG_RETENTION_DAYS = 30;
/** Days after which S3 aborts an unfinished multipart upload (Firehose retries leave them behind). */
export const ABORT_INCOMPLETE_UPLOADS_DAYS = 7;
/** Days a replaced or deleted object version is kept before it expires (the bucket's backup window). */
export const NONCURRENT_VERSION_DAYS = 30;

export interface DataSegmentArgs {
  /** The segment's entry of the parsed topology (`parseLakeConfig(...).segments[i]`), defaults applied. */
  segment: SegmentConfig;
  /** The lake's name: the prefix of every physical name. */
  lakeName: string;
  /** ARN of the layer's customer-managed KMS key; it encrypts the stream, the objects and the log group. */
  kmsKeyArn: pulumi.Input<string>;
  /** The AWS account the lake is deployed to (part of the bucket name and of policy conditions). */
  accountId: pulumi.Input<string>;
  /** The AWS region the lake is deployed to (used in `kms:ViaService` conditions). */
  region: pulumi.Input<string>;
  /** Extra tags for every taggable resource; the lake's own `datalake:*` tags are always added. @default {} */
  tags?: Tags;
}

export class DataSegment extends pulumi.ComponentResource {
  /** `layer/segment` */
  readonly address: string;
  readonly streamName: pulumi.Output<string>;
  readonly streamArn: pulumi.Output<string>;
  readonly deliveryStreamName: pulumi.Output<string>;
  readonly deliveryStreamArn: pulumi.Output<string>;
  readonly bucketName: pulumi.Output<string>;
  readonly bucketArn: pulumi.Output<string>;
  /** Attach to a publisher's role or user to let it write to this segment. */
  readonly producerPolicyArn: pulumi.Output<string>;
  /** Attach to a subscriber's role or user to let it read this segment. */
  readonly consumerPolicyArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;

  constructor(name: string, args: DataSegmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Segment", name, {}, opts);
    const seg = args.segment;
    const tags = lakeTags({ lake: args.lakeName, layer: seg.layer, segment: seg.address }, args.tags);
    // Only the bucket name depends on the account id; every other name is known now.
    const names = segmentNames(args.lakeName, seg.layer, seg.name, "");
    const bucketName = pulumi
      .output(args.accountId)
      .apply((accountId) => segmentNames(args.lakeName, seg.layer, seg.name, accountId).bucketName);
    const keyArn = pulumi.output(args.kmsKeyArn);
    const region = pulumi.output(args.region);
    const child = { parent: this };

    // --- pub-sub channel --------------------------------------------------------------------------
    const onDemand = seg.mode === "on-demand";
    const stream = new aws.kinesis.Stream(
      `${name}-stream`,
      {
        name: names.streamName,
        shardCount: onDemand ? undefined : seg.shards,
        streamModeDetails: { streamMode: onDemand ? "ON_DEMAND" : "PROVISIONED" },
        retentionPeriod: seg.retentionHours,
        encryptionType: "KMS",
        kmsKeyId: keyArn,
        tags,
      },
      child,
    );

    // --- persistence ------------------------------------------------------------------------------
    const bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: bucketName, tags }, child);
    const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-bucket-public-access`,
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
      `${name}-bucket-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-bucket-encryption`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn },
            // One data key per bucket instead of per object: far fewer KMS calls for Firehose's many objects.
            bucketKeyEnabled: true,
          },
        ],
      },
      child,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-bucket-versioning`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-bucket-lifecycle`,
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
      { parent: this, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-bucket-policy`,
      { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
      // Public access is blocked before any bucket policy exists (the order AWS recommends).
      { parent: this, dependsOn: [publicAccessBlock] },
    );

    // --- wire-tap channel -------------------------------------------------------------------------
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-firehose-logs`,
      { name: names.logGroupName, retentionInDays: WIRE_TAP_LOG_RETENTION_DAYS, kmsKeyId: keyArn, tags },
      child,
    );
    const logStream = new aws.cloudwatch.LogStream(
      `${name}-firehose-log-stream`,
      { name: names.logStreamName, logGroupName: logGroup.name },
      child,
    );
    const role = new aws.iam.Role(
      `${name}-firehose-role`,
      {
        name: names.firehoseRoleName,
        description: `Firehose wire-tap of segment ${seg.address}: reads its stream, writes its bucket`,
        assumeRolePolicy: pulumi.output(args.accountId).apply((id) => JSON.stringify(firehoseAssumeRolePolicy(id))),
        tags,
      },
      child,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-firehose-role-policy`,
      {
        role: role.id,
        name: "wire-tap",
        policy: pulumi
          .all([stream.arn, bucket.arn, keyArn, logStream.arn, region])
          .apply(([streamArn, bucketArn, kmsKeyArn, logStreamArn, r]) =>
            JSON.stringify(firehoseRolePolicy({ streamArn, bucketArn, keyArn: kmsKeyArn, logStreamArn, region: r })),
          ),
      },
      child,
    );
    const deliveryStream = new aws.kinesis.FirehoseDeliveryStream(
      `${name}-firehose`,
      {
        name: names.deliveryStreamName,
        destination: "extended_s3",
        kinesisSourceConfiguration: { kinesisStreamArn: stream.arn, roleArn: role.arn },
        extendedS3Configuration: {
          bucketArn: bucket.arn,
          roleArn: role.arn,
          bufferingInterval: seg.wireTap.bufferSeconds,
          bufferingSize: seg.wireTap.bufferMiB,
          compressionFormat: seg.wireTap.compression,
          prefix: WIRE_TAP_LAYOUT.prefix,
          errorOutputPrefix: WIRE_TAP_LAYOUT.errorOutputPrefix,
          kmsKeyArn: keyArn,
          cloudwatchLoggingOptions: { enabled: true, logGroupName: logGroup.name, logStreamName: logStream.name },
        },
        tags,
      },
      // Firehose checks its role's permissions when it is created: without waiting for the role policy,
      // creation races IAM propagation and fails. Waiting for the bucket's default encryption as well means
      // no object is ever written before the bucket's own settings are in place.
      { parent: this, dependsOn: [rolePolicy, encryption] },
    );

    // --- access for publishers and subscribers ----------------------------------------------------
    const streamAccess = pulumi.all([stream.arn, keyArn, region]);
    const producer = new aws.iam.Policy(
      `${name}-producer-policy`,
      {
        name: names.producerPolicyName,
        description: `Publish to data segment ${seg.address}`,
        policy: streamAccess.apply(([streamArn, k, r]) => JSON.stringify(producerPolicy({ streamArn, keyArn: k, region: r }))),
        tags,
      },
      child,
    );
    const consumer = new aws.iam.Policy(
      `${name}-consumer-policy`,
      {
        name: names.consumerPolicyName,
        description: `Subscribe to data segment ${seg.address}`,
        policy: streamAccess.apply(([streamArn, k, r]) => JSON.stringify(consumerPolicy({ streamArn, keyArn: k, region: r }))),
        tags,
      },
      child,
    );

    this.address = seg.address;
    this.streamName = stream.name;
    this.streamArn = stream.arn;
    this.deliveryStreamName = deliveryStream.name;
    this.deliveryStreamArn = deliveryStream.arn;
    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.producerPolicyArn = producer.arn;
    this.consumerPolicyArn = consumer.arn;
    this.kmsKeyArn = keyArn;
    this.registerOutputs({
      address: this.address,
      streamName: this.streamName,
      streamArn: this.streamArn,
      deliveryStreamName: this.deliveryStreamName,
      deliveryStreamArn: this.deliveryStreamArn,
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      producerPolicyArn: this.producerPolicyArn,
      consumerPolicyArn: this.consumerPolicyArn,
      kmsKeyArn: this.kmsKeyArn,
    });
  }
}
