/**
 * A segment's pub-sub channel: one KMS-encrypted Kinesis data stream.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SegmentConfig } from "../model/config";
import { movedChild } from "./moved";
import { Tags } from "./tags";

export interface SegmentStreamArgs {
  /** The segment's entry of the parsed topology; its mode, shards and retention size the stream. */
  segment: SegmentConfig;
  /** Physical stream name (`segmentNames(...).streamName`). */
  streamName: string;
  /** ARN of the layer's KMS key, which encrypts the stream's records. */
  kmsKeyArn: pulumi.Input<string>;
  /** Tags for the stream. @default {} */
  tags?: Tags;
}

export class SegmentStream extends pulumi.ComponentResource {
  readonly stream: aws.kinesis.Stream;
  readonly name: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: SegmentStreamArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Stream", name, {}, opts);
    const seg = args.segment;
    const onDemand = seg.mode === "on-demand";
    this.stream = new aws.kinesis.Stream(
      name,
      {
        name: args.streamName,
        shardCount: onDemand ? undefined : seg.shards,
        streamModeDetails: { streamMode: onDemand ? "ON_DEMAND" : "PROVISIONED" },
        retentionPeriod: seg.retentionHours,
        encryptionType: "KMS",
        kmsKeyId: args.kmsKeyArn,
        tags: args.tags ?? {},
      },
      movedChild(this, opts),
    );
    this.name = this.stream.name;
    this.arn = this.stream.arn;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
