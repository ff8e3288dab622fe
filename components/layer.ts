/**
 * One data layer: its own customer-managed KMS key (shared with no other layer) and its segments.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { BackupConfig, LayerConfig } from "../model/config";
import { layerBackupNames, layerNames, segmentNames } from "../model/naming";
import { layerKeyPolicy } from "../model/policies";
import { layerKeyPolicyShape } from "../model/safety";
import { LayerBackup } from "./layer-backup";
import { DataSegment } from "./segment";
import { ArchiveDatabase, ArchiveTable } from "./table";
import { lakeTags, Tags } from "./tags";

import { KEY_DELETION_WINDOW_DAYS } from "./key-settings";
export { KEY_DELETION_WINDOW_DAYS } from "./key-settings";

export interface DataLayerArgs {
  /** The layer's entry of the parsed topology (`parseLakeConfig(...).layers[i]`). */
  layer: LayerConfig;
  /** The lake's name: the prefix of every physical name. */
  lakeName: string;
  /** The AWS account the lake is deployed to. */
  accountId: pulumi.Input<string>;
  /** The AWS region the lake is deployed to. */
  region: pulumi.Input<string>;
  /** The AWS partition, for ARNs the layer builds itself. @default "aws" */
  partition?: pulumi.Input<string>;
  /** The partition's DNS suffix (service principals, `kms:ViaService`). @default `aws.getPartition().dnsSuffix` */
  dnsSuffix?: pulumi.Input<string>;
  /**
   * Names of every layer of the lake: the key serves this layer's log-group name space only, never that of
   * a layer whose name extends this one (`ingest-raw` for `ingest`).
   */
  layerNamesInLake: string[];
  /** Extra tags for every taggable resource; the lake's own `datalake:*` tags are always added. @default {} */
  tags?: Tags;
  /**
   * The lake's Athena workgroup and its results location: with it, the layer gets a Glue database and each
   * segment a Glue table and a reader policy (components/table.ts).
   * @default undefined (no tables)
   */
  query?: {
    workgroupArn: pulumi.Input<string>;
    resultsBucketArn: pulumi.Input<string>;
    resultsKeyArn: pulumi.Input<string>;
  };
  /**
   * The lake's backup and the AWS provider of its region: with it, the layer's backed-up segments
   * (`segment.backup`) get replicas there (components/layer-backup.ts).
   * @default undefined (no backup)
   */
  backup?: { config: BackupConfig; provider: aws.Provider };
}

export class DataLayer extends pulumi.ComponentResource {
  readonly layerName: string;
  /** The layer's segments, keyed by segment name (not address). */
  readonly segments: Record<string, DataSegment>;
  /** The segments' Glue tables and reader policies, keyed by segment name; empty without `query`. */
  readonly tables: Record<string, ArchiveTable>;
  readonly keyArn: pulumi.Output<string>;
  readonly keyAlias: pulumi.Output<string>;
  /** The layer's backup (key, replication role, replicas); undefined when none of its segments is backed up. */
  readonly backup?: LayerBackup;

  constructor(name: string, args: DataLayerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:Layer", name, {}, opts);
    const layer = args.layer;
    const names = layerNames(args.lakeName, layer.name);
    const tags = lakeTags({ lake: args.lakeName, layer: layer.name }, args.tags);
    // The segments' log groups, and those of the processors writing into the layer, are covered by one
    // name-space condition each, not listed one by one, so the key policy stays the same size however many
    // segments and routes the layer has (KMS allows 32 KB).
    const shape = layerKeyPolicyShape(args.lakeName, layer.name, args.layerNamesInLake, layer.segments);
    const dnsSuffix = args.dnsSuffix ?? aws.getPartitionOutput({}, { parent: this }).dnsSuffix;

    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Data lake ${args.lakeName}, layer ${layer.name}: streams, objects and logs of its segments`,
        enableKeyRotation: true,
        deletionWindowInDays: KEY_DELETION_WINDOW_DAYS,
        policy: pulumi
          .all([args.accountId, args.region, args.partition ?? "aws", dnsSuffix])
          .apply(([accountId, region, partition, suffix]) =>
            JSON.stringify(
              layerKeyPolicy({
                accountId,
                region,
                partition,
                dnsSuffix: suffix,
                logGroups: shape.logGroups,
                processorLogGroupPrefix: shape.processorLogGroupPrefix,
                shares: shape.shares({ partition, region, accountId }),
              }),
            ),
          ),
        tags,
      },
      // retainOnDelete: removing the layer must not schedule its key for deletion while retained buckets
      // hold objects encrypted with it (after the waiting period they could never be read again).
      { parent: this, retainOnDelete: true },
    );
    const alias = new aws.kms.Alias(
      `${name}-key-alias`,
      { name: names.kmsAlias, targetKeyId: key.keyId },
      // retainOnDelete: the alias keeps a retained key findable by name, and adding the layer back then
      // fails on the taken alias instead of silently creating a new key (README: import the key and alias).
      { parent: this, retainOnDelete: true },
    );

    this.layerName = layer.name;
    this.keyArn = key.arn;
    this.keyAlias = alias.name;
    this.segments = {};
    for (const segment of layer.segments) {
      const segNames = segmentNames(args.lakeName, layer.name, segment.name, "");
      this.segments[segment.name] = new DataSegment(
        segNames.logicalName,
        {
          segment,
          lakeName: args.lakeName,
          kmsKeyArn: key.arn,
          accountId: args.accountId,
          region: args.region,
          partition: args.partition,
          dnsSuffix,
          tags: args.tags,
        },
        { parent: this },
      );
    }
    const backedUp = layer.segments.filter((s) => s.backup);
    if (args.backup && backedUp.length > 0) {
      this.backup = new LayerBackup(
        layerBackupNames(args.lakeName, layer.name).logicalName,
        {
          lakeName: args.lakeName,
          layer: layer.name,
          segments: backedUp,
          backup: args.backup.config,
          provider: args.backup.provider,
          sourceKeyArn: key.arn,
          sources: Object.fromEntries(
            backedUp.map((s) => [s.name, { bucket: this.segments[s.name].bucketName, versioning: this.segments[s.name].bucketVersioning }]),
          ),
          accountId: args.accountId,
          region: args.region,
          partition: args.partition,
          dnsSuffix,
          tags,
          segmentTags: Object.fromEntries(backedUp.map((s) => [s.name, lakeTags({ lake: args.lakeName, layer: layer.name, segment: s.address }, args.tags)])),
        },
        { parent: this },
      );
    }
    this.tables = {};
    if (args.query) {
      const database = new ArchiveDatabase(`${name}-archive`, { lakeName: args.lakeName, layer: layer.name }, { parent: this });
      for (const segment of layer.segments) {
        const seg = this.segments[segment.name];
        this.tables[segment.name] = new ArchiveTable(
          `${segmentNames(args.lakeName, layer.name, segment.name, "").logicalName}-archive`,
          {
            lakeName: args.lakeName,
            layer: layer.name,
            segment: segment.name,
            schema: segment.schema,
            databaseName: database.databaseName,
            bucketName: seg.bucketName,
            bucketArn: seg.bucketArn,
            kmsKeyArn: key.arn,
            accountId: args.accountId,
            region: args.region,
            partition: args.partition,
            dnsSuffix,
            ...args.query,
            tags: args.tags,
          },
          // Under its segment: adding or removing a segment adds or removes its table and nothing else.
          { parent: seg },
        );
      }
    }
    this.registerOutputs({ keyArn: this.keyArn, keyAlias: this.keyAlias });
  }
}
