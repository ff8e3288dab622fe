/**
 * One data segment: a Kinesis stream (pub-sub, `stream.ts`), a Firehose delivery stream reading it
 * (wire-tap, `wire-tap.ts`) and the versioned, KMS-encrypted S3 bucket Firehose writes to (persistence,
 * backup and replay, `bucket.ts`), plus the producer and consumer policies that grant access to it.
 *
 * Children keep the logical names they had before the split (`<segment>-stream`, `<segment>-bucket-…`,
 * `<segment>-firehose-…`), and the part components alias them to their old parent (see `moved.ts`), so a
 * stack deployed before the split is updated in place, never replaced.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CatalogEntry } from "../model/catalog";
import { SegmentConfig } from "../model/config";
import { consumerNames, groupNames, segmentNames } from "../model/naming";
import { consumerPolicy, producerPolicy } from "../model/policies";
import { SegmentBucket } from "./bucket";
import { SegmentConsumer } from "./consumer";
import { ConsumerGroup } from "./consumer-group";
import { SegmentStream } from "./stream";
import { lakeTags, Tags } from "./tags";
import { WireTap } from "./wire-tap";

export { ABORT_INCOMPLETE_UPLOADS_DAYS, NONCURRENT_VERSION_DAYS } from "./bucket";
export { WIRE_TAP_LOG_RETENTION_DAYS } from "./wire-tap";

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
  /** The AWS partition (account-root ARNs of shared principals). @default "aws" */
  partition?: pulumi.Input<string>;
  /** The partition's DNS suffix (`kms:ViaService` values). @default "amazonaws.com" */
  dnsSuffix?: pulumi.Input<string>;
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
  /** The bucket's versioning (replication to the backup waits for it). */
  readonly bucketVersioning: aws.s3.BucketVersioning;
  /** Attach to a publisher's role or user to let it write to this segment. */
  readonly producerPolicyArn: pulumi.Output<string>;
  /** Attach to a subscriber's role or user to let it read this segment. */
  readonly consumerPolicyArn: pulumi.Output<string>;
  readonly kmsKeyArn: pulumi.Output<string>;
  /** The segment's registered enhanced fan-out consumers, keyed by consumer name. */
  readonly consumers: Record<string, SegmentConsumer>;
  /** The segment's consumer groups (lease table and worker policy each), keyed by group name. */
  readonly groups: Record<string, ConsumerGroup>;
  /** The catalog's account of this segment's consumers, groups and sharing (keys absent when there are none). */
  readonly catalogAccess: pulumi.Output<Pick<CatalogEntry, "consumers" | "groups" | "sharedWith">>;

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
    const dnsSuffix = pulumi.output(args.dnsSuffix ?? "amazonaws.com");
    const partition = pulumi.output(args.partition ?? "aws");
    const child = { parent: this };

    const stream = new SegmentStream(
      `${name}-stream`,
      { segment: seg, streamName: names.streamName, kmsKeyArn: keyArn, share: seg.share, partition, tags },
      child,
    );
    const bucket = new SegmentBucket(`${name}-bucket`, { bucketName, kmsKeyArn: keyArn, tags }, child);
    const wireTap = new WireTap(
      `${name}-firehose`,
      {
        segment: seg,
        names,
        streamArn: stream.arn,
        bucketArn: bucket.arn,
        kmsKeyArn: keyArn,
        accountId: args.accountId,
        region,
        dnsSuffix,
        bucketReady: [bucket.encryption, bucket.versioning],
        tags,
      },
      child,
    );

    // --- access for publishers and subscribers ----------------------------------------------------
    const streamAccess = pulumi.all([stream.arn, keyArn, region, dnsSuffix]);
    const producer = new aws.iam.Policy(
      `${name}-producer-policy`,
      {
        name: names.producerPolicyName,
        description: `Publish to data segment ${seg.address}`,
        policy: streamAccess.apply(([streamArn, k, r, d]) => JSON.stringify(producerPolicy({ streamArn, keyArn: k, region: r, dnsSuffix: d }))),
        tags,
      },
      child,
    );
    const consumer = new aws.iam.Policy(
      `${name}-consumer-policy`,
      {
        name: names.consumerPolicyName,
        description: `Subscribe to data segment ${seg.address}`,
        policy: streamAccess.apply(([streamArn, k, r, d]) => JSON.stringify(consumerPolicy({ streamArn, keyArn: k, region: r, dnsSuffix: d }))),
        tags,
      },
      child,
    );

    // --- enhanced fan-out consumers, each with its own 2 MiB/s per shard and its own policy -------------
    this.consumers = {};
    let previous: SegmentConsumer | undefined;
    for (const consumerName of [...seg.consumers].sort()) {
      const n = consumerNames(args.lakeName, seg.layer, seg.name, consumerName);
      previous = this.consumers[consumerName] = new SegmentConsumer(
        n.logicalName,
        {
          address: seg.address,
          consumerName: n.consumerName,
          policyName: n.policyName,
          streamArn: stream.arn,
          kmsKeyArn: keyArn,
          region,
          dnsSuffix,
          sharedWith: seg.share.consumers,
          partition,
          after: previous ? [previous] : [],
          tags,
        },
        child,
      );
    }

    // --- consumer groups: a lease table and a worker policy each, under the segment ----------------------
    this.groups = {};
    for (const group of seg.groups) {
      const n = groupNames(args.lakeName, seg.layer, seg.name, group.name);
      this.groups[group.name] = new ConsumerGroup(
        n.logicalName,
        {
          address: seg.address,
          group,
          tableName: n.tableName,
          policyName: n.policyName,
          streamArn: stream.arn,
          consumerArn: group.consumer ? this.consumers[group.consumer].consumerArn : undefined,
          kmsKeyArn: keyArn,
          region,
          dnsSuffix,
          tags,
        },
        child,
      );
    }
    const groupEntries = seg.groups.map((g) =>
      pulumi
        .all([this.groups[g.name].tableName, this.groups[g.name].tableArn, this.groups[g.name].policyArn])
        .apply(([tableName, tableArn, policyArn]) => [g.name, { tableName, tableArn, policyArn, ...(g.consumer ? { consumerName: g.consumer } : {}) }] as const),
    );

    const consumerEntries = Object.entries(this.consumers).map(([consumerName, c]) =>
      pulumi.all([c.consumerArn, c.policyArn]).apply(([consumerArn, policyArn]) => [consumerName, { consumerName, consumerArn, policyArn }] as const),
    );
    const shared = seg.share.producers.length + seg.share.consumers.length > 0;
    this.catalogAccess = pulumi.all([pulumi.all(consumerEntries), pulumi.all(groupEntries)]).apply(([list, groups]) => ({
      ...(list.length > 0 ? { consumers: Object.fromEntries(list) } : {}),
      ...(groups.length > 0 ? { groups: Object.fromEntries(groups) } : {}),
      ...(shared ? { sharedWith: { producers: [...seg.share.producers], consumers: [...seg.share.consumers] } } : {}),
    }));

    this.address = seg.address;
    this.streamName = stream.name;
    this.streamArn = stream.arn;
    this.deliveryStreamName = wireTap.name;
    this.deliveryStreamArn = wireTap.arn;
    this.bucketName = bucket.name;
    this.bucketArn = bucket.arn;
    this.bucketVersioning = bucket.versioning;
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
