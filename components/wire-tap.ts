/**
 * A segment's wire-tap: a Firehose delivery stream that reads the segment's stream and writes every record
 * to the segment's bucket, with its own role (least privilege) and its own encrypted error log.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SegmentConfig } from "../model/config";
import { SegmentNames, WIRE_TAP_LAYOUT } from "../model/naming";
import { firehoseAssumeRolePolicy, firehoseRolePolicy } from "../model/policies";
import { WIRE_TAP_DELIMITER_PROCESSOR } from "../model/archive";
import { movedChild } from "./moved";
import { Tags } from "./tags";

/** Days CloudWatch keeps a segment's Firehose delivery-error log. */
export const WIRE_TAP_LOG_RETENTION_DAYS = 30;

export interface WireTapArgs {
  /** The segment's entry of the parsed topology; its `wireTap` settings tune buffering and compression. */
  segment: SegmentConfig;
  /** The segment's physical names (delivery stream, role, log group and stream). */
  names: SegmentNames;
  /** The segment's stream, the only source Firehose reads. */
  streamArn: pulumi.Input<string>;
  /** The segment's bucket, the only destination Firehose writes. */
  bucketArn: pulumi.Input<string>;
  /** ARN of the layer's KMS key: decrypts the stream, encrypts the objects and the log group. */
  kmsKeyArn: pulumi.Input<string>;
  /** The AWS account the lake is deployed to (the trust policy's confused-deputy condition). */
  accountId: pulumi.Input<string>;
  /** The AWS region the lake is deployed to (used in `kms:ViaService` conditions). */
  region: pulumi.Input<string>;
  /** The partition's DNS suffix (used in `kms:ViaService` conditions). @default "amazonaws.com" */
  dnsSuffix?: pulumi.Input<string>;
  /**
   * Bucket settings that must be in place before the first object is written (encryption, versioning).
   * @default []
   */
  bucketReady?: pulumi.Resource[];
  /** Tags for every taggable resource. @default {} */
  tags?: Tags;
}

export class WireTap extends pulumi.ComponentResource {
  readonly deliveryStream: aws.kinesis.FirehoseDeliveryStream;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;

  constructor(name: string, args: WireTapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:WireTap", name, {}, opts);
    const seg = args.segment;
    const names = args.names;
    const tags = args.tags ?? {};
    const keyArn = pulumi.output(args.kmsKeyArn);
    const child = movedChild(this, opts);

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: names.logGroupName, retentionInDays: WIRE_TAP_LOG_RETENTION_DAYS, kmsKeyId: keyArn, tags },
      child,
    );
    const logStream = new aws.cloudwatch.LogStream(
      `${name}-log-stream`,
      { name: names.logStreamName, logGroupName: logGroup.name },
      child,
    );
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: names.firehoseRoleName,
        description: `Firehose wire-tap of segment ${seg.address}: reads its stream, writes its bucket`,
        assumeRolePolicy: pulumi.output(args.accountId).apply((id) => JSON.stringify(firehoseAssumeRolePolicy(id))),
        tags,
      },
      child,
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-role-policy`,
      {
        role: role.id,
        name: "wire-tap",
        policy: pulumi
          .all([args.streamArn, args.bucketArn, keyArn, logStream.arn, args.region, args.dnsSuffix])
          .apply(([streamArn, bucketArn, kmsKeyArn, logStreamArn, r, dnsSuffix]) =>
            JSON.stringify(firehoseRolePolicy({ streamArn, bucketArn, keyArn: kmsKeyArn, logStreamArn, region: r, dnsSuffix })),
          ),
      },
      child,
    );
    this.deliveryStream = new aws.kinesis.FirehoseDeliveryStream(
      name,
      {
        name: names.deliveryStreamName,
        destination: "extended_s3",
        kinesisSourceConfiguration: { kinesisStreamArn: args.streamArn, roleArn: role.arn },
        extendedS3Configuration: {
          bucketArn: args.bucketArn,
          roleArn: role.arn,
          bufferingInterval: seg.wireTap.bufferSeconds,
          bufferingSize: seg.wireTap.bufferMiB,
          compressionFormat: seg.wireTap.compression,
          prefix: WIRE_TAP_LAYOUT.prefix,
          errorOutputPrefix: WIRE_TAP_LAYOUT.errorOutputPrefix,
          kmsKeyArn: keyArn,
          cloudwatchLoggingOptions: { enabled: true, logGroupName: logGroup.name, logStreamName: logStream.name },
          // Every record becomes one line whoever the producer is (Athena, replay and `query` read lines).
          // The processor's default delimiter is a new line; no parameter is needed (model/archive.ts).
          processingConfiguration: { enabled: true, processors: [{ type: WIRE_TAP_DELIMITER_PROCESSOR }] },
        },
        tags,
      },
      // Firehose checks its role's permissions when it is created: without waiting for the role policy,
      // creation races IAM propagation and fails. Waiting for the bucket's default encryption and its
      // versioning (`bucketReady`) as well means no object is ever written before the bucket's own settings
      // are in place: nothing unencrypted, and nothing written before versions are kept (an object
      // overwritten before versioning is on has no earlier version to restore).
      { ...child, dependsOn: [rolePolicy, ...(args.bucketReady ?? [])] },
    );
    this.name = this.deliveryStream.name;
    this.arn = this.deliveryStream.arn;
    this.roleArn = role.arn;
    this.registerOutputs({ name: this.name, arn: this.arn, roleArn: this.roleArn });
  }
}
