/**
 * A segment's pub-sub channel: one KMS-encrypted Kinesis data stream.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SegmentConfig } from "../model/config";
import { sharePrincipalArn, streamResourcePolicy } from "../model/policies";
import { ShareConfig } from "../model/safety";
import { movedChild } from "./moved";
import { Tags } from "./tags";

export interface SegmentStreamArgs {
  /** The segment's entry of the parsed topology; its mode, shards and retention size the stream. */
  segment: SegmentConfig;
  /** Physical stream name (`segmentNames(...).streamName`). */
  streamName: string;
  /** ARN of the layer's KMS key, which encrypts the stream's records. */
  kmsKeyArn: pulumi.Input<string>;
  /**
   * Other accounts (12-digit ids) or roles (ARNs) allowed to write (`producers`) or read (`consumers`) this
   * stream; with any, the stream gets a resource policy naming exactly them.
   * @default { producers: [], consumers: [] }
   */
  share?: ShareConfig;
  /** The AWS partition, for the account-root ARNs of `share`. @default "aws" */
  partition?: pulumi.Input<string>;
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
    const producers = args.share?.producers ?? [];
    const consumers = args.share?.consumers ?? [];
    if (producers.length + consumers.length > 0) {
      new aws.kinesis.ResourcePolicy(
        `${name}-sharing`,
        {
          resourceArn: this.stream.arn,
          policy: pulumi.all([this.stream.arn, args.partition ?? "aws"]).apply(([streamArn, partition]) =>
            JSON.stringify(
              streamResourcePolicy({
                streamArn,
                producers: producers.map((p) => sharePrincipalArn(p, partition)),
                consumers: consumers.map((p) => sharePrincipalArn(p, partition)),
              }),
            ),
          ),
        },
        { parent: this },
      );
    }
    this.name = this.stream.name;
    this.arn = this.stream.arn;
    this.registerOutputs({ name: this.name, arn: this.arn });
  }
}
