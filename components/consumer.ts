/**
 * One enhanced fan-out consumer of a segment: the consumer registered on the segment's stream (its own
 * 2 MiB/s per shard), the managed policy that lets a subscriber read through this consumer only, and,
 * when the segment is shared with other accounts' readers, the consumer's resource policy for them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { consumerResourcePolicy, fanOutConsumerPolicy, sharePrincipalArn } from "../model/policies";
import { Tags } from "./tags";

export interface SegmentConsumerArgs {
  /** `layer/segment`, for descriptions. */
  address: string;
  /** The name the consumer is registered under (`consumerNames(...).consumerName`). */
  consumerName: string;
  /** Name of the consumer's managed policy (`consumerNames(...).policyName`). */
  policyName: string;
  /** The segment's stream. */
  streamArn: pulumi.Input<string>;
  /** The layer's KMS key, which encrypts the stream. */
  kmsKeyArn: pulumi.Input<string>;
  /** The AWS region (for `kms:ViaService`). */
  region: pulumi.Input<string>;
  /** The partition's DNS suffix (for `kms:ViaService`). @default "amazonaws.com" */
  dnsSuffix?: pulumi.Input<string>;
  /** Other accounts (12-digit ids) or roles (ARNs) allowed to read through this consumer. @default [] */
  sharedWith?: string[];
  /** The AWS partition, for the account-root ARNs of `sharedWith`. @default "aws" */
  partition?: pulumi.Input<string>;
  /**
   * Resources to create first. Kinesis lets only 5 consumers be in CREATING at once and registering
   * more fails with LimitExceededException, so the segment chains its consumers one after another.
   * @default []
   */
  after?: pulumi.Resource[];
  /** Tags for the policy (stream consumers take no tags). @default {} */
  tags?: Tags;
}

export class SegmentConsumer extends pulumi.ComponentResource {
  readonly consumer: aws.kinesis.StreamConsumer;
  readonly consumerName: pulumi.Output<string>;
  readonly consumerArn: pulumi.Output<string>;
  readonly policyArn: pulumi.Output<string>;

  constructor(name: string, args: SegmentConsumerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Consumer", name, {}, opts);
    this.consumer = new aws.kinesis.StreamConsumer(
      name,
      { name: args.consumerName, streamArn: args.streamArn },
      // Registered one after another: at most 5 consumers may be CREATING at a time (RegisterStreamConsumer).
      { parent: this, dependsOn: args.after ?? [] },
    );
    const policy = new aws.iam.Policy(
      `${name}-policy`,
      {
        name: args.policyName,
        description: `Subscribe to data segment ${args.address} through its consumer ${args.consumerName} (enhanced fan-out)`,
        policy: pulumi
          .all([args.streamArn, this.consumer.arn, args.kmsKeyArn, args.region, args.dnsSuffix])
          .apply(([streamArn, consumerArn, keyArn, region, dnsSuffix]) =>
            JSON.stringify(fanOutConsumerPolicy({ streamArn, consumerArn, keyArn, region, dnsSuffix })),
          ),
        tags: args.tags ?? {},
      },
      { parent: this },
    );
    const sharedWith = args.sharedWith ?? [];
    if (sharedWith.length > 0) {
      new aws.kinesis.ResourcePolicy(
        `${name}-sharing`,
        {
          resourceArn: this.consumer.arn,
          policy: pulumi.all([this.consumer.arn, args.partition ?? "aws"]).apply(([consumerArn, partition]) =>
            JSON.stringify(consumerResourcePolicy({ consumerArn, consumers: sharedWith.map((p) => sharePrincipalArn(p, partition)) })),
          ),
        },
        { parent: this },
      );
    }
    this.consumerName = this.consumer.name;
    this.consumerArn = this.consumer.arn;
    this.policyArn = policy.arn;
    this.registerOutputs({ consumerName: this.consumerName, consumerArn: this.consumerArn, policyArn: this.policyArn });
  }
}
