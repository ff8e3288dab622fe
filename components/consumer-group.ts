/**
 * One consumer group of a segment: the DynamoDB lease table its workers share the shards through (one row
 * per shard, KCL's attribute names, runtime/leases) and the managed policy for those workers. The group's
 * lag alarm is declared by the lake under this component (it needs the lake's alarm topic).
 *
 * The table holds the group's checkpoints, so it is kept like a bucket: encrypted with the layer key,
 * point-in-time recovery on, deletion protection on, and `retainOnDelete`: removing the group (or its
 * segment) from the config drops the table from the stack and leaves it in AWS, checkpoints intact.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { GroupConfig, LEASE_KEY } from "../model/groups";
import { groupWorkerPolicy } from "../model/policies";
import { Tags } from "./tags";

export interface ConsumerGroupArgs {
  /** `layer/segment`, for descriptions. */
  address: string;
  /** The group's entry of the parsed topology. */
  group: GroupConfig;
  /** The lease table's physical name (`groupNames(...).tableName`). */
  tableName: string;
  /** The workers' managed policy's name (`groupNames(...).policyName`). */
  policyName: string;
  /** The segment's stream. */
  streamArn: pulumi.Input<string>;
  /** ARN of the registered consumer the group reads through (when `group.consumer` is set). @default undefined */
  consumerArn?: pulumi.Input<string>;
  /** The layer's KMS key: encrypts the stream and the lease table. */
  kmsKeyArn: pulumi.Input<string>;
  /** The AWS region (for `kms:ViaService`). */
  region: pulumi.Input<string>;
  /** The partition's DNS suffix (for `kms:ViaService`). @default "amazonaws.com" */
  dnsSuffix?: pulumi.Input<string>;
  /** Tags for the table and the policy. @default {} */
  tags?: Tags;
}

export class ConsumerGroup extends pulumi.ComponentResource {
  readonly tableName: pulumi.Output<string>;
  readonly tableArn: pulumi.Output<string>;
  readonly policyArn: pulumi.Output<string>;

  constructor(name: string, args: ConsumerGroupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:ConsumerGroup", name, {}, opts);
    const table = new aws.dynamodb.Table(
      `${name}-leases`,
      {
        name: args.tableName,
        // On-demand: a lease table sees a few reads and writes per shard per renewal interval; nothing to provision.
        billingMode: "PAY_PER_REQUEST",
        hashKey: LEASE_KEY,
        attributes: [{ name: LEASE_KEY, type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
        tags: args.tags ?? {},
      },
      // retainOnDelete: the table holds the group's checkpoints. Removing the group from the config must not
      // delete them (re-adding the group, or importing the table, resumes where the workers stopped); like
      // the buckets, deleting on purpose is a separate, explicit step (README "Consumer groups").
      { parent: this, retainOnDelete: true },
    );
    const policy = new aws.iam.Policy(
      `${name}-policy`,
      {
        name: args.policyName,
        description: `Workers of consumer group ${args.group.name} of data segment ${args.address}`,
        policy: pulumi
          .all([args.streamArn, args.consumerArn, table.arn, args.kmsKeyArn, args.region, args.dnsSuffix])
          .apply(([streamArn, consumerArn, tableArn, keyArn, region, dnsSuffix]) =>
            JSON.stringify(groupWorkerPolicy({ streamArn, consumerArn, tableArn, keyArn, region, dnsSuffix })),
          ),
        tags: args.tags ?? {},
      },
      { parent: this },
    );
    this.tableName = table.name;
    this.tableArn = table.arn;
    this.policyArn = policy.arn;
    this.registerOutputs({ tableName: this.tableName, tableArn: this.tableArn, policyArn: this.policyArn });
  }
}
