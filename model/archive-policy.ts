/**
 * The per-segment reader policy: what an analyst or a job needs to read one segment's archive and query
 * its table through the lake's Athena workgroup, and nothing of any other segment. Pure, like
 * model/policies.ts, and checked by the same scanner.
 */
import { ARCHIVE_DATA_PREFIX } from "./archive";
import { PolicyDocument, POLICY_VERSION, viaService } from "./policies";

export interface ReaderPolicyArgs {
  /** The segment's bucket. */
  bucketArn: string;
  /** The segment's layer key (encrypts its objects). */
  keyArn: string;
  region: string;
  accountId: string;
  /** @default "aws" */
  partition?: string;
  /** The partition's DNS suffix, for `kms:ViaService` (`aws.getPartition().dnsSuffix`). @default "amazonaws.com" */
  dnsSuffix?: string;
  /** The layer's Glue database and the segment's Glue table. */
  databaseName: string;
  tableName: string;
  /** The lake's Athena workgroup. */
  workgroupArn: string;
  /** The workgroup's results bucket and the key that encrypts it. */
  resultsBucketArn: string;
  resultsKeyArn: string;
}

/** `arn:aws:glue:<region>:<account>:catalog`, `…:database/<db>`, `…:table/<db>/<table>`. */
export function glueArns(a: { region: string; accountId: string; partition?: string; databaseName: string; tableName: string }) {
  const base = `arn:${a.partition ?? "aws"}:glue:${a.region}:${a.accountId}`;
  return {
    catalog: `${base}:catalog`,
    database: `${base}:database/${a.databaseName}`,
    table: `${base}:table/${a.databaseName}/${a.tableName}`,
  };
}

/** `arn:aws:athena:<region>:<account>:workgroup/<name>`. */
export function workgroupArn(a: { region: string; accountId: string; partition?: string; name: string }): string {
  return `arn:${a.partition ?? "aws"}:athena:${a.region}:${a.accountId}:workgroup/${a.name}`;
}

/** Read one segment's archive (objects under `data/`, decrypted through S3 only) and query its table. */
export function readerPolicy(a: ReaderPolicyArgs): PolicyDocument {
  const glue = glueArns(a);
  return {
    Version: POLICY_VERSION,
    Statement: [
      {
        Sid: "ListArchive",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: a.bucketArn,
        Condition: { StringLike: { "s3:prefix": [ARCHIVE_DATA_PREFIX, `${ARCHIVE_DATA_PREFIX}*`] } },
      },
      { Sid: "LocateArchive", Effect: "Allow", Action: "s3:GetBucketLocation", Resource: a.bucketArn },
      { Sid: "ReadArchive", Effect: "Allow", Action: "s3:GetObject", Resource: `${a.bucketArn}/${ARCHIVE_DATA_PREFIX}*` },
      {
        Sid: "DecryptArchive",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: a.keyArn,
        Condition: {
          StringEquals: { "kms:ViaService": viaService("s3", a.region, a.dnsSuffix) },
          // With S3 Bucket Keys the context is the bucket ARN; without, the object ARN.
          StringLike: { "kms:EncryptionContext:aws:s3:arn": [a.bucketArn, `${a.bucketArn}/*`] },
        },
      },
      {
        Sid: "ReadTableDefinition",
        Effect: "Allow",
        Action: ["glue:GetDatabase", "glue:GetTable", "glue:GetPartition", "glue:GetPartitions"],
        Resource: [glue.catalog, glue.database, glue.table],
      },
      {
        Sid: "QueryInWorkgroup",
        Effect: "Allow",
        Action: [
          "athena:GetWorkGroup",
          "athena:StartQueryExecution",
          "athena:StopQueryExecution",
          "athena:GetQueryExecution",
          "athena:GetQueryResults",
        ],
        Resource: a.workgroupArn,
      },
      {
        Sid: "LocateQueryResults",
        Effect: "Allow",
        Action: ["s3:GetBucketLocation", "s3:ListBucket"],
        Resource: a.resultsBucketArn,
      },
      {
        Sid: "WriteQueryResults",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
        Resource: `${a.resultsBucketArn}/*`,
      },
      {
        Sid: "EncryptQueryResults",
        Effect: "Allow",
        Action: ["kms:GenerateDataKey", "kms:Decrypt"],
        Resource: a.resultsKeyArn,
        Condition: {
          StringEquals: { "kms:ViaService": viaService("s3", a.region, a.dnsSuffix) },
          StringLike: { "kms:EncryptionContext:aws:s3:arn": [a.resultsBucketArn, `${a.resultsBucketArn}/*`] },
        },
      },
    ],
  };
}
