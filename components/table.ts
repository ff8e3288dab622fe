/**
 * The archive as tables: a Glue database per layer (`ArchiveDatabase`) and, per segment, a Glue table
 * over its bucket's `data/` prefix with partition projection on the wire-tap's hourly layout, plus the
 * segment's reader policy (`ArchiveTable`). Names, columns, projection properties and the policy
 * document come from model/archive.ts and model/archive-policy.ts.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  ARCHIVE_DATA_PREFIX,
  archiveDatabaseName,
  archiveTableName,
  OPENX_JSON_SERDE,
  PARTITION_COLUMNS,
  projectionParameters,
  SegmentSchema,
  tableColumns,
  TEXT_INPUT_FORMAT,
  TEXT_OUTPUT_FORMAT,
} from "../model/archive";
import { readerPolicy } from "../model/archive-policy";
import { lakeTags, Tags } from "./tags";

export interface ArchiveDatabaseArgs {
  lakeName: string;
  layer: string;
}

/** A layer's Glue database: `<lake>_<layer>` (Glue names use `_` where lake names use `-`). */
export class ArchiveDatabase extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;

  constructor(name: string, args: ArchiveDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:ArchiveDatabase", name, {}, opts);
    const database = new aws.glue.CatalogDatabase(
      `${name}-database`,
      {
        name: archiveDatabaseName(args.lakeName, args.layer),
        description: `Data lake ${args.lakeName}, layer ${args.layer}: one table per segment archive`,
      },
      { parent: this },
    );
    this.databaseName = database.name;
    this.registerOutputs({ databaseName: this.databaseName });
  }
}

export interface ArchiveTableArgs {
  lakeName: string;
  layer: string;
  /** Segment name (not address). */
  segment: string;
  /** Columns of the archived JSON records. */
  schema: SegmentSchema;
  /** The layer's Glue database. */
  databaseName: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  bucketArn: pulumi.Input<string>;
  /** The layer's KMS key, which encrypts the segment's objects. */
  kmsKeyArn: pulumi.Input<string>;
  accountId: pulumi.Input<string>;
  region: pulumi.Input<string>;
  /** @default "aws" */
  partition?: pulumi.Input<string>;
  /** The partition's DNS suffix (`kms:ViaService` values). @default `aws.getPartition().dnsSuffix` */
  dnsSuffix?: pulumi.Input<string>;
  /** The lake's Athena workgroup, its results bucket and results key. */
  workgroupArn: pulumi.Input<string>;
  resultsBucketArn: pulumi.Input<string>;
  resultsKeyArn: pulumi.Input<string>;
  /** Extra tags for every taggable resource. @default {} */
  tags?: Tags;
}

/** A segment's Glue table (JSON lines, OpenX SerDe, projected hourly partitions) and its reader policy. */
export class ArchiveTable extends pulumi.ComponentResource {
  readonly tableName: pulumi.Output<string>;
  /** `<database>.<table>`, as Athena SQL names it. */
  readonly qualifiedName: pulumi.Output<string>;
  /** Attach to an analyst's or job's role to let it read this segment's archive and query its table. */
  readonly readerPolicyArn: pulumi.Output<string>;

  constructor(name: string, args: ArchiveTableArgs, opts?: pulumi.ComponentResourceOptions) {
    super("datalake:lake:ArchiveTable", name, {}, opts);
    const tags = lakeTags({ lake: args.lakeName, layer: args.layer, segment: `${args.layer}/${args.segment}` }, args.tags);
    const tableName = archiveTableName(args.segment);
    const bucketName = pulumi.output(args.bucketName);
    const dnsSuffix = args.dnsSuffix ?? aws.getPartitionOutput({}, { parent: this }).dnsSuffix;

    const table = new aws.glue.CatalogTable(
      `${name}-table`,
      {
        name: tableName,
        databaseName: args.databaseName,
        description: `Archive of segment ${args.layer}/${args.segment}: one JSON record per line, partitioned by arrival hour (UTC)`,
        tableType: "EXTERNAL_TABLE",
        parameters: bucketName.apply((bucket) => ({ EXTERNAL: "TRUE", classification: "json", ...projectionParameters(bucket) })),
        partitionKeys: PARTITION_COLUMNS.map((column) => ({ name: column, type: "int" })),
        storageDescriptor: {
          location: pulumi.interpolate`s3://${bucketName}/${ARCHIVE_DATA_PREFIX}`,
          inputFormat: TEXT_INPUT_FORMAT,
          outputFormat: TEXT_OUTPUT_FORMAT,
          serDeInfo: {
            name: "openx-json",
            serializationLibrary: OPENX_JSON_SERDE,
            // A line that is not JSON (a raw record) reads as a row of NULLs instead of failing every query.
            parameters: { "ignore.malformed.json": "TRUE" },
          },
          columns: tableColumns(args.schema),
        },
      },
      { parent: this },
    );

    const policy = new aws.iam.Policy(
      `${name}-reader-policy`,
      {
        name: `${args.lakeName}-${args.layer}-${args.segment}-reader`,
        description: `Read the archive of data segment ${args.layer}/${args.segment} and query its table`,
        policy: pulumi
          .all([args.bucketArn, args.kmsKeyArn, args.region, args.accountId, args.partition ?? "aws", dnsSuffix, args.databaseName, args.workgroupArn, args.resultsBucketArn, args.resultsKeyArn])
          .apply(([bucketArn, keyArn, region, accountId, partition, suffix, databaseName, workgroupArn, resultsBucketArn, resultsKeyArn]) =>
            JSON.stringify(
              readerPolicy({ bucketArn, keyArn, region, accountId, partition, dnsSuffix: suffix, databaseName, tableName, workgroupArn, resultsBucketArn, resultsKeyArn }),
            ),
          ),
        tags,
      },
      { parent: this },
    );

    this.tableName = table.name;
    this.qualifiedName = pulumi.interpolate`${table.databaseName}.${table.name}`;
    this.readerPolicyArn = policy.arn;
    this.registerOutputs({ tableName: this.tableName, qualifiedName: this.qualifiedName, readerPolicyArn: this.readerPolicyArn });
  }
}
