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
  /** Enhanced fan-out consumers declared for this segment, by name (absent when none). */
  consumers?: Record<string, ConsumerEntry>;
  /** Other AWS accounts (12-digit ids) and roles (ARNs) allowed to use this segment (absent when none). */
  sharedWith?: { producers: string[]; consumers: string[] };
  /** Consumer groups declared for this segment, by name (absent when none). */
  groups?: Record<string, GroupEntry>;
  /** Dead-letter queues of the routes that read this segment, by route name (absent when none does). */
  deadLetterQueues?: Record<string, DeadLetterQueueEntry>;
  /** Local lake only: the folder standing in for the segment's bucket (replay and query read it). */
  localArchiveDir?: string;
  /** The segment's backup in the lake's backup region (absent when the lake or the segment has none). */
  backup?: BackupEntry;
}

/** A segment's backup: the replica bucket S3 replicates its bucket to (`replay --from-backup` reads it). */
export interface BackupEntry {
  bucketName: string;
  /** The backup region. */
  region: string;
  /** The layer's backup key in the backup region, which encrypts the replicas. */
  kmsKeyArn: string;
  /** Local lake only: the folder standing in for the replica bucket. */
  localArchiveDir?: string;
}

/** A registered consumer of a segment (enhanced fan-out: its own 2 MiB/s per shard). */
export interface ConsumerEntry {
  /** The name it is registered under on the stream (`--consumer NAME`). */
  consumerName: string;
  /** The registered consumer's ARN (the local lake fills it in once the consumer is registered and ACTIVE). */
  consumerArn?: string;
  /** Managed policy that lets a subscriber read through this consumer only. */
  policyArn: string;
}

/** A consumer group of a segment: workers that share its shards through a DynamoDB lease table (runtime/leases). */
export interface GroupEntry {
  /** The group's lease table (one row per shard, KCL's attribute names). */
  tableName: string;
  tableArn: string;
  /** Managed policy to attach to the group's workers: the stream (or the group's consumer), the table, the key. */
  policyArn: string;
  /** The segment's registered consumer the workers read through (absent: they poll). */
  consumerName?: string;
  /** Local lake only: the DynamoDB stand-in's endpoint that holds the table. */
  endpoint?: string;
}

/** Where a route's failed records are reported (SQS; a JSONL file in the local lake). */
export interface DeadLetterQueueEntry {
  /** The route's target segment address. */
  to: string;
  queueUrl: string;
  queueArn: string;
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
