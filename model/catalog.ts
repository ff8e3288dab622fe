/**
 * The lake's discovery catalog (stack output `catalog`): every segment's endpoints, keyed by address.
 * Pure types, so the apps can read `pulumi stack output catalog --json` without loading Pulumi.
 */

export interface CatalogEntry {
  /** `layer/segment` */
  address: string;
  layer: string;
  segment: string;
  streamName: string;
  streamArn: string;
  deliveryStreamName: string;
  bucketName: string;
  /** Managed policy to attach to publishers of this segment. */
  producerPolicyArn: string;
  /** Managed policy to attach to subscribers of this segment. */
  consumerPolicyArn: string;
  /** The layer's KMS key, which encrypts the stream and the bucket. */
  kmsKeyArn: string;
  /** Managed policy to attach to readers of this segment's archive (S3 objects, Glue table, Athena workgroup). */
  readerPolicyArn: string;
  /** The segment's archive table as Athena SQL names it: `<lake>_<layer>.<segment>` (`-` becomes `_`). */
  tableName: string;
  region: string;
}

/** Catalog entries keyed by segment address (`"ingest/persons"`). */
export type Catalog = Record<string, CatalogEntry>;

/** Fields every catalog entry must have (the design's stack-output contract). */
export const CATALOG_REQUIRED_FIELDS = [
  "streamName",
  "streamArn",
  "deliveryStreamName",
  "bucketName",
  "producerPolicyArn",
  "consumerPolicyArn",
  "kmsKeyArn",
] as const;
