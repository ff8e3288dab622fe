/**
 * Physical names of everything a segment, layer, route or lake creates, and the AWS limits they must fit.
 * Names derive only from the lake, layer and segment names (never from list order), so adding or removing
 * one segment never renames another segment's resources.
 */

/** Allowed shape of lake, layer, segment and route names. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const NAME_RULE = 'lowercase letters, digits and "-", starting with a letter';

/** Placeholder for the 12-digit AWS account id in bucket names; its length is what matters for the limit. */
export const ACCOUNT_ID_LENGTH = 12;

/** AWS limits on the physical names we create. */
export const LIMITS = {
  streamName: 128,
  deliveryStreamName: 64,
  bucketName: 63,
  roleName: 64,
  policyName: 128,
  functionName: 64,
  queueName: 80,
  consumerName: 128,
  logGroupName: 512,
  kmsAlias: 256,
  tableName: 255,
  alarmName: 255,
} as const;

/** The address users and the catalog use for a segment: `layer/segment`. */
export function segmentAddress(layer: string, segment: string): string {
  return `${layer}/${segment}`;
}

/** Splits `layer/segment`; undefined when the text is not an address. */
export function parseAddress(address: string): { layer: string; segment: string } | undefined {
  const parts = address.split("/");
  if (parts.length !== 2 || !parts[0] || !parts[1]) return undefined;
  return { layer: parts[0], segment: parts[1] };
}

/** Physical names of one segment's resources. `accountId` only affects the bucket name. */
export interface SegmentNames {
  /** `layer/segment` */
  address: string;
  /** Pulumi logical name of the segment component (unique in the stack): `layer-segment`. */
  logicalName: string;
  streamName: string;
  deliveryStreamName: string;
  /** Bucket name; globally unique because it ends in the account id. */
  bucketName: string;
  firehoseRoleName: string;
  producerPolicyName: string;
  consumerPolicyName: string;
  logGroupName: string;
  logStreamName: string;
}

export function segmentNames(lake: string, layer: string, segment: string, accountId: string): SegmentNames {
  const base = `${lake}-${layer}-${segment}`;
  return {
    address: segmentAddress(layer, segment),
    logicalName: `${layer}-${segment}`,
    streamName: base,
    deliveryStreamName: base,
    bucketName: `${base}-${accountId}`,
    firehoseRoleName: `${base}-firehose`,
    producerPolicyName: `${base}-producer`,
    consumerPolicyName: `${base}-consumer`,
    logGroupName: `/aws/kinesisfirehose/${base}`,
    logStreamName: "DestinationDelivery",
  };
}

export interface LayerNames {
  logicalName: string;
  kmsAlias: string;
  /**
   * Every Firehose log group of the layer's segments starts with this (`/aws/kinesisfirehose/<lake>-<layer>-`):
   * the layer key policy lets CloudWatch Logs use the key for this name space only.
   */
  logGroupPrefix: string;
  /**
   * Every log group of a processor writing into this layer starts with this (`/datalake/<lake>/<layer>/processors/`):
   * the layer key policy covers them with one condition, however many routes lead into the layer. Names
   * cannot contain "/", so no other lake or layer shares this name space.
   */
  processorLogGroupPrefix: string;
}

export function layerNames(lake: string, layer: string): LayerNames {
  return {
    logicalName: layer,
    kmsAlias: `alias/${lake}/${layer}`,
    logGroupPrefix: `/aws/kinesisfirehose/${lake}-${layer}-`,
    processorLogGroupPrefix: `/datalake/${lake}/${layer}/processors/`,
  };
}

/** Physical names of one registered (enhanced fan-out) consumer of a segment. */
export interface ConsumerNames {
  /** Pulumi logical name: `<layer>-<segment>-consumer-<consumer>`. */
  logicalName: string;
  /** The name the consumer is registered under on the stream: the config's name as it is. */
  consumerName: string;
  /** Managed policy that lets a subscriber read through this consumer only. */
  policyName: string;
}

export function consumerNames(lake: string, layer: string, segment: string, consumer: string): ConsumerNames {
  const seg = segmentNames(lake, layer, segment, "");
  return {
    logicalName: `${seg.logicalName}-consumer-${consumer}`,
    consumerName: consumer,
    policyName: `${seg.consumerPolicyName}-${consumer}`,
  };
}

/** Suffix of a replica bucket's name: the source bucket's name (taken, S3 names are global) plus this. */
export const REPLICA_BUCKET_SUFFIX = "-backup";

/** Physical and logical names of a segment's backup (its replica in the lake's backup region). */
export interface ReplicaNames {
  /** Pulumi logical name of the replica component, and the stem of its children: `<layer>-<segment>-replica`. */
  logicalName: string;
  /** `<lake>-<layer>-<segment>-<account id>-backup`: the source bucket's name plus a suffix. */
  bucketName: string;
  /** Id of the one replication rule on the source bucket (a dimension of the replication metrics). */
  ruleId: string;
}

export function replicaNames(lake: string, layer: string, segment: string, accountId: string): ReplicaNames {
  const source = segmentNames(lake, layer, segment, accountId);
  return { logicalName: `${source.logicalName}-replica`, bucketName: `${source.bucketName}${REPLICA_BUCKET_SUFFIX}`, ruleId: "backup" };
}

/**
 * What a segment's replication rule copies to its replica: the wire-tap's archive (`WIRE_TAP_LAYOUT.prefix`
 * without its partitions), which replay reads. The error output under `errors/` stays in the source only.
 */
export const REPLICATED_PREFIX = "data/";

/** Names of a layer's backup: its key in the backup region and the role S3 replicates its buckets with. */
export interface LayerBackupNames {
  /** Pulumi logical name of the layer's backup component: `<layer>-backup`. */
  logicalName: string;
  /**
   * The backup key's alias in the backup region: `alias/<lake>/backup/<layer>`. Layer names hold no "/",
   * so it never takes a layer key's alias (`alias/<lake>/<layer>`) should the lake also run in that region.
   */
  kmsAlias: string;
  /** IAM role S3 assumes to replicate the layer's buckets (IAM is global: one name per account). */
  replicationRoleName: string;
}

export function layerBackupNames(lake: string, layer: string): LayerBackupNames {
  return { logicalName: `${layer}-backup`, kmsAlias: `alias/${lake}/backup/${layer}`, replicationRoleName: `${lake}-${layer}-replication` };
}

/** The explicit AWS provider of the lake's backup region: named from the lake. */
export function backupProviderName(lake: string): string {
  return `${lake}-backup`;
}

/** Length-limited names a backed-up segment adds (its replica bucket's, with the 12-digit account id). */
export function replicaNameChecks(lake: string, layer: string, segment: string): NameCheck[] {
  const n = replicaNames(lake, layer, segment, "0".repeat(ACCOUNT_ID_LENGTH));
  return [{ what: `S3 replica bucket name (with the 12-digit account id and "${REPLICA_BUCKET_SUFFIX}")`, name: n.bucketName, limit: LIMITS.bucketName }];
}

/** Length-limited names a layer with backed-up segments adds. */
export function layerBackupNameChecks(lake: string, layer: string): NameCheck[] {
  const n = layerBackupNames(lake, layer);
  return [
    { what: "KMS alias of the backup key", name: n.kmsAlias, limit: LIMITS.kmsAlias },
    { what: "IAM role name of the replication role", name: n.replicationRoleName, limit: LIMITS.roleName },
  ];
}

/** Every length-limited physical name of a segment's consumer. */
export function consumerNameChecks(lake: string, layer: string, segment: string, consumer: string): NameCheck[] {
  const n = consumerNames(lake, layer, segment, consumer);
  return [
    { what: "Kinesis consumer name", name: n.consumerName, limit: LIMITS.consumerName },
    { what: "IAM policy name", name: n.policyName, limit: LIMITS.policyName },
  ];
}

/** Physical names of one consumer group of a segment (workers sharing the shards through a lease table). */
export interface GroupNames {
  /** Pulumi logical name: `<layer>-<segment>-group-<group>`. */
  logicalName: string;
  /** The group's DynamoDB lease table: `<lake>-<layer>-<segment>-group-<group>`. */
  tableName: string;
  /** Managed policy for the group's workers (same text as the table name). */
  policyName: string;
  /** Prefix of the group's alarm names. */
  alarmPrefix: string;
}

export function groupNames(lake: string, layer: string, segment: string, group: string): GroupNames {
  const seg = segmentNames(lake, layer, segment, "");
  const base = `${seg.streamName}-group-${group}`;
  return { logicalName: `${seg.logicalName}-group-${group}`, tableName: base, policyName: base, alarmPrefix: base };
}

/** Every length-limited physical name of a segment's consumer group (the lag alarm adds `-lag`). */
export function groupNameChecks(lake: string, layer: string, segment: string, group: string): NameCheck[] {
  const n = groupNames(lake, layer, segment, group);
  return [
    { what: "DynamoDB table name", name: n.tableName, limit: LIMITS.tableName },
    { what: "IAM policy name", name: n.policyName, limit: LIMITS.policyName },
    { what: "CloudWatch alarm name", name: `${n.alarmPrefix}-lag`, limit: LIMITS.alarmName },
  ];
}

/** ARN of a Kinesis stream, as Kinesis builds it (and as KMS sees it in the encryption context). */
export function streamArnOf(partition: string, region: string, accountId: string, streamName: string): string {
  return `arn:${partition}:kinesis:${region}:${accountId}:stream/${streamName}`;
}

/** KMS reserves alias names starting with this for AWS managed keys; a customer key's alias may not. */
export const RESERVED_KMS_ALIAS_PREFIX = "alias/aws/";
/** Prefixes S3 reserves: a general purpose bucket name may not start with them. */
export const RESERVED_BUCKET_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"] as const;
/** Suffixes S3 reserves for access point aliases, Object Lambda, directory and table buckets, Multi-Region Access Points. */
export const RESERVED_BUCKET_SUFFIXES = ["-s3alias", "--ol-s3", "--x-s3", "--table-s3", ".mrap"] as const;

/** Why AWS would reject this bucket name for its reserved prefixes or suffixes; undefined when it would not. */
export function reservedBucketNameProblem(bucketName: string): string | undefined {
  const prefix = RESERVED_BUCKET_PREFIXES.find((p) => bucketName.startsWith(p));
  if (prefix) return `S3 bucket names may not start with "${prefix}" (reserved by AWS)`;
  const suffix = RESERVED_BUCKET_SUFFIXES.find((p) => bucketName.endsWith(p));
  if (suffix) return `S3 bucket names may not end with "${suffix}" (reserved by AWS)`;
  return undefined;
}

/** Why KMS would reject this alias name (the `alias/aws/` prefix); undefined when it would not. */
export function reservedAliasProblem(alias: string): string | undefined {
  return alias.startsWith(RESERVED_KMS_ALIAS_PREFIX)
    ? `the layer key alias "${alias}" would start with "${RESERVED_KMS_ALIAS_PREFIX}", which KMS reserves for AWS managed keys`
    : undefined;
}

export interface RouteNames {
  logicalName: string;
  /** The processor's Lambda function. */
  functionName: string;
  roleName: string;
  /** The processor's dead-letter queue (SQS). */
  queueName: string;
  /** The processor's enhanced fan-out consumer on the source stream. */
  consumerName: string;
  /**
   * The function's own log group, under its target layer's processor name space (whose key encrypts it):
   * `/datalake/<lake>/<target layer>/processors/<route>`.
   */
  logGroupName: string;
}

/** Default route name when the config gives none: `<fromLayer>-<fromSegment>-to-<toLayer>-<toSegment>`. */
export function defaultRouteName(from: string, to: string): string {
  return `${from.replace("/", "-")}-to-${to.replace("/", "-")}`;
}

/** `targetLayer`: the layer of the route's `to` segment. */
export function routeNames(lake: string, route: string, targetLayer: string): RouteNames {
  return {
    logicalName: `route-${route}`,
    functionName: `${lake}-${route}`,
    roleName: `${lake}-${route}-route`,
    queueName: `${lake}-${route}-dlq`,
    consumerName: `${lake}-${route}`,
    logGroupName: `${layerNames(lake, targetLayer).processorLogGroupPrefix}${route}`,
  };
}

/** A physical name and the AWS limit it must respect. */
export interface NameCheck {
  what: string;
  name: string;
  limit: number;
}

/** Every length-limited physical name of a segment, with a 12-character stand-in for the account id. */
export function segmentNameChecks(lake: string, layer: string, segment: string): NameCheck[] {
  const n = segmentNames(lake, layer, segment, "0".repeat(ACCOUNT_ID_LENGTH));
  return [
    { what: "Kinesis stream name", name: n.streamName, limit: LIMITS.streamName },
    { what: "Firehose delivery stream name", name: n.deliveryStreamName, limit: LIMITS.deliveryStreamName },
    { what: "S3 bucket name (with the 12-digit account id)", name: n.bucketName, limit: LIMITS.bucketName },
    { what: "IAM role name", name: n.firehoseRoleName, limit: LIMITS.roleName },
    { what: "IAM policy name", name: n.consumerPolicyName, limit: LIMITS.policyName },
    { what: "CloudWatch log group name", name: n.logGroupName, limit: LIMITS.logGroupName },
  ];
}

export function layerNameChecks(lake: string, layer: string): NameCheck[] {
  return [{ what: "KMS alias", name: layerNames(lake, layer).kmsAlias, limit: LIMITS.kmsAlias }];
}

export function routeNameChecks(lake: string, route: string, targetLayer: string): NameCheck[] {
  const n = routeNames(lake, route, targetLayer);
  return [
    { what: "Lambda function name", name: n.functionName, limit: LIMITS.functionName },
    { what: "IAM role name", name: n.roleName, limit: LIMITS.roleName },
    { what: "SQS queue name", name: n.queueName, limit: LIMITS.queueName },
    { what: "Kinesis stream consumer name", name: n.consumerName, limit: LIMITS.consumerName },
    { what: "CloudWatch log group name", name: n.logGroupName, limit: LIMITS.logGroupName },
  ];
}

/**
 * Where Firehose writes in a segment's bucket, shared by the Firehose component and the local lake so
 * both produce the same object layout. Hive-style hour partitions suit Athena and Glue crawlers.
 */
export const WIRE_TAP_LAYOUT = {
  prefix: "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
  errorOutputPrefix:
    "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
} as const;

/** File extension Firehose appends for each compression format. */
export const COMPRESSION_EXTENSION: Record<string, string> = {
  UNCOMPRESSED: "",
  GZIP: ".gz",
  ZIP: ".zip",
  Snappy: ".snappy",
  HADOOP_SNAPPY: ".snappy",
};

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** Expands the `!{timestamp:...}` expressions of a prefix for a UTC time (as Firehose does). */
export function expandPrefix(prefix: string, at: Date, errorOutputType = "processing-failed"): string {
  return prefix
    .replace(/!\{timestamp:yyyy\}/g, String(at.getUTCFullYear()))
    .replace(/!\{timestamp:MM\}/g, pad(at.getUTCMonth() + 1))
    .replace(/!\{timestamp:dd\}/g, pad(at.getUTCDate()))
    .replace(/!\{timestamp:HH\}/g, pad(at.getUTCHours()))
    .replace(/!\{firehose:error-output-type\}/g, errorOutputType);
}

/**
 * Object key Firehose gives a delivered batch:
 * `<prefix><deliveryStream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<random><ext>`.
 */
export function wireTapObjectKey(deliveryStreamName: string, compression: string, at: Date, random: string): string {
  const stamp = `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}-${pad(at.getUTCHours())}-${pad(at.getUTCMinutes())}-${pad(at.getUTCSeconds())}`;
  const ext = COMPRESSION_EXTENSION[compression] ?? "";
  return `${expandPrefix(WIRE_TAP_LAYOUT.prefix, at)}${deliveryStreamName}-1-${stamp}-${random}${ext}`;
}
