/**
 * A layer's backup: a KMS key in the lake's backup region (a KMS key cannot be used outside its region, so
 * the layer key cannot encrypt the replicas), the IAM role S3 replicates the layer's buckets with, and one
 * replica (components/replica.ts) per backed-up segment. Policy documents: model/backup-policies.ts.
 *
 * The role reaches this layer only: it reads the layer's backed-up buckets, writes their replicas, and uses
 * the layer key and the layer's backup key, so layers stay isolated in the backup as in the lake.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BackupConfig, SegmentConfig } from "../model/config";
import { backupKeyPolicy, ReplicatedBucket, replicationAssumeRolePolicy, replicationRolePolicy } from "../model/backup-policies";
import { layerBackupNames, replicaNames, segmentNames } from "../model/naming";
import { KEY_DELETION_WINDOW_DAYS } from "./key-settings";
import { SegmentReplica } from "./replica";
import { Tags } from "./tags";

export interface LayerBackupArgs {
  lakeName: string;
  layer: string;
  /** The layer's backed-up segments (`segment.backup`), at least one. */
  segments: SegmentConfig[];
  backup: BackupConfig;
  /** The AWS provider of the backup region. */
  provider: aws.Provider;
  /** The layer's key: the source objects' encryption. */
  sourceKeyArn: pulumi.Input<string>;
  /** Each backed-up segment's source bucket and its versioning, by segment name. */
  sources: Record<string, { bucket: pulumi.Input<string>; versioning: pulumi.Resource }>;
  accountId: pulumi.Input<string>;
  /** The stack's region (the source buckets'). */
  region: pulumi.Input<string>;
  /** @default "aws" */
  partition?: pulumi.Input<string>;
  /** @default "amazonaws.com" */
  dnsSuffix?: pulumi.Input<string>;
  /** Tags for the key, the role and the replica buckets (the layer's). @default {} */
  tags?: Tags;
  /** Tags for each replica bucket (its segment's), by segment name. @default the layer's */
  segmentTags?: Record<string, Tags>;
}

export class LayerBackup extends pulumi.ComponentResource {
  /** The layer's backup key (backup region). */
  readonly keyArn: pulumi.Output<string>;
  readonly roleArn: pulumi.Output<string>;
  /** The replicas, keyed by segment name. */
  readonly replicas: Record<string, SegmentReplica>;

  constructor(name: string, args: LayerBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:LayerBackup", name, {}, opts);
    const names = layerBackupNames(args.lakeName, args.layer);
    const partition = pulumi.output(args.partition ?? "aws");
    const dnsSuffix = pulumi.output(args.dnsSuffix ?? "amazonaws.com");
    // Bucket ARNs follow from their names, so the role and key policies need not wait for the buckets.
    const buckets = pulumi.all([args.accountId, partition]).apply(([accountId, p]): ReplicatedBucket[] =>
      args.segments.map((s) => ({
        sourceBucketArn: `arn:${p}:s3:::${segmentNames(args.lakeName, s.layer, s.name, accountId).bucketName}`,
        replicaBucketArn: `arn:${p}:s3:::${replicaNames(args.lakeName, s.layer, s.name, accountId).bucketName}`,
      })),
    );

    // The role first, without permissions: the backup key's policy names it, and its permissions name the key.
    const role = new aws.iam.Role(
      `${name}-replication-role`,
      {
        name: names.replicationRoleName,
        description: `S3 replication of data lake ${args.lakeName}, layer ${args.layer}, to ${args.backup.region}`,
        assumeRolePolicy: JSON.stringify(replicationAssumeRolePolicy()),
        tags: args.tags ?? {},
      },
      { parent: this },
    );
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Data lake ${args.lakeName}, layer ${args.layer}: replicas of its segments' buckets (backup)`,
        enableKeyRotation: true,
        deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
        policy: pulumi
          .all([args.accountId, partition, role.arn, buckets, dnsSuffix])
          .apply(([accountId, p, replicationRoleArn, list, suffix]) =>
            JSON.stringify(backupKeyPolicy({ accountId, partition: p, replicationRoleArn, buckets: list, backupRegion: args.backup.region, dnsSuffix: suffix })),
          ),
        tags: args.tags ?? {},
      },
      // retainOnDelete: like the layer key, it must outlive the config while retained replicas are encrypted
      // with it (a deleted key would leave the locked backup unreadable).
      { parent: this, provider: args.provider, retainOnDelete: true },
    );
    new aws.kms.Alias(
      `${name}-key-alias`,
      { name: names.kmsAlias, targetKeyId: key.keyId },
      // retainOnDelete: keeps a retained backup key findable by name (README: adding a removed layer back).
      { parent: this, provider: args.provider, retainOnDelete: true },
    );
    const permissions = new aws.iam.RolePolicy(
      `${name}-replication-policy`,
      {
        role: role.id,
        name: "replicate-layer-buckets",
        policy: pulumi
          .all([buckets, args.sourceKeyArn, key.arn, args.region, dnsSuffix])
          .apply(([list, sourceKeyArn, replicaKeyArn, sourceRegion, suffix]) =>
            JSON.stringify(replicationRolePolicy({ buckets: list, sourceKeyArn, replicaKeyArn, sourceRegion, backupRegion: args.backup.region, dnsSuffix: suffix })),
          ),
      },
      { parent: this },
    );

    this.replicas = {};
    for (const segment of args.segments) {
      const n = replicaNames(args.lakeName, segment.layer, segment.name, "");
      this.replicas[segment.name] = new SegmentReplica(
        n.logicalName,
        {
          bucketName: pulumi.output(args.accountId).apply((accountId) => replicaNames(args.lakeName, segment.layer, segment.name, accountId).bucketName),
          kmsKeyArn: key.arn,
          provider: args.provider,
          objectLockDays: args.backup.objectLockDays,
          timeControl: args.backup.timeControl,
          source: args.sources[segment.name],
          role: { arn: role.arn, ready: [permissions] },
          ruleId: n.ruleId,
          tags: args.segmentTags?.[segment.name] ?? args.tags,
        },
        { parent: this },
      );
    }

    this.keyArn = key.arn;
    this.roleArn = role.arn;
    this.registerOutputs({ keyArn: this.keyArn, roleArn: this.roleArn });
  }
}
