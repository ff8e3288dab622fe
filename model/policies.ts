/**
 * Every IAM, KMS key and S3 bucket policy document the lake creates, as pure functions of plain ARN
 * strings, plus `findPolicyViolations`, the least-privilege scanner the tests run over every document.
 * No Pulumi here: components resolve their ARNs and call these inside `apply`.
 *
 * Rules every document follows (and the scanner enforces):
 * - No `Allow` with a wildcard action (`*`, `s3:*`, `kms:Generate*`): actions are listed one by one. The one
 *   exception is `kms:*` for the account root inside a KMS key policy (see `layerKeyPolicy`).
 * - No `Allow` on `Resource: "*"` outside key policies (in a key policy `*` means "this key").
 * - No `Allow` to a public principal, no `NotAction` / `NotResource` in an `Allow`.
 * - `Deny` statements may use wildcards: a deny can only take access away, and the TLS-only bucket
 *   policy must deny *every* S3 action over plain HTTP (`s3:*`) to mean anything (it is also the form
 *   AWS Config's `s3-bucket-ssl-requests-only` / Security Hub S3.5 look for).
 * - KMS use is always pinned to the service that uses the key (`kms:ViaService`) and, where the service
 *   passes one, to the encryption context of this segment's stream or bucket.
 */

export const POLICY_VERSION = "2012-10-17";

export type ConditionBlock = Record<string, Record<string, string | string[]>>;
export type Principal = "*" | { AWS?: string | string[]; Service?: string | string[]; Federated?: string | string[] };

export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: Principal;
  NotPrincipal?: Principal;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: typeof POLICY_VERSION;
  Statement: PolicyStatement[];
}

const doc = (...statements: PolicyStatement[]): PolicyDocument => ({ Version: POLICY_VERSION, Statement: statements });

/** The DNS suffix of the `aws` partition; China's is `amazonaws.com.cn` (`aws.getPartition().dnsSuffix`). */
export const DEFAULT_DNS_SUFFIX = "amazonaws.com";

/**
 * `kinesis.eu-west-1.amazonaws.com`: the value of `kms:ViaService` for a service in a region. It is the
 * service's regional endpoint name, so it ends in the partition's DNS suffix (`amazonaws.com.cn` in China).
 */
export function viaService(service: "kinesis" | "s3" | "logs" | "sqs" | "dynamodb", region: string, dnsSuffix: string = DEFAULT_DNS_SUFFIX): string {
  return `${service}.${region}.${dnsSuffix}`;
}

/**
 * The IAM service principal of a global service in a role's trust policy: `firehose.amazonaws.com`. IAM
 * documents `<service>.amazonaws.com` as the usual form in every partition, China included; only some
 * older services (EC2, S3, EMR) also answer to `.amazonaws.com.cn` there, and Lambda rejects it. Regional
 * principals that are endpoint names (CloudWatch Logs in a key policy) use `regionalServicePrincipal`.
 */
export function servicePrincipal(service: "firehose" | "pipes" | "lambda"): string {
  return `${service}.amazonaws.com`;
}

/** `logs.eu-west-1.amazonaws.com` (`logs.cn-north-1.amazonaws.com.cn` in China): CloudWatch Logs in a key policy. */
export function regionalServicePrincipal(service: "logs", region: string, dnsSuffix: string = DEFAULT_DNS_SUFFIX): string {
  return `${service}.${region}.${dnsSuffix}`;
}

/** `arn:aws:iam::123456789012:root`: the principal that stands for "IAM policies of this account". */
export function accountRootArn(accountId: string, partition = "aws"): string {
  return `arn:${partition}:iam::${accountId}:root`;
}

/** ARN of a CloudWatch Logs log group, as `kms:EncryptionContext:aws:logs:arn` carries it (no `:*`). */
export function logGroupArn(logGroupName: string, region: string, accountId: string, partition = "aws"): string {
  return `arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}`;
}

/** Reading a stream by polling: what Firehose and route pipes need on their source. */
const STREAM_POLL_ACTIONS = [
  "kinesis:DescribeStream",
  "kinesis:DescribeStreamSummary",
  "kinesis:GetShardIterator",
  "kinesis:GetRecords",
  "kinesis:ListShards",
];

/** Writing a stream: what producers and route pipes need on their target. */
const STREAM_WRITE_ACTIONS = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary", "kinesis:ListShards"];

/** KMS use through Kinesis only, and only for this stream's records. */
function streamKeyCondition(a: { streamArn: string; region: string; dnsSuffix?: string }): ConditionBlock {
  return {
    StringEquals: { "kms:ViaService": viaService("kinesis", a.region, a.dnsSuffix) },
    StringLike: { "kms:EncryptionContext:aws:kinesis:arn": a.streamArn },
  };
}

// ---------------------------------------------------------------------------------------------------
// Firehose (wire-tap) role
// ---------------------------------------------------------------------------------------------------

/** Trust policy letting one AWS service assume a role, only on behalf of this account (confused deputy). */
function serviceAssumeRolePolicy(sid: string, service: string, accountId: string): PolicyDocument {
  return doc({
    Sid: sid,
    Effect: "Allow",
    Principal: { Service: service },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "aws:SourceAccount": accountId } },
  });
}

/**
 * Trust policy of a segment's Firehose role: only Firehose, and only on behalf of this account. AWS
 * documents the condition for Firehose as `sts:ExternalId` = the account id ("Allow Firehose to assume an
 * IAM role"), which is what Firehose passes when it assumes the role; `aws:SourceAccount` is not in it.
 */
export function firehoseAssumeRolePolicy(accountId: string): PolicyDocument {
  return doc({
    Sid: "FirehoseAssumesRole",
    Effect: "Allow",
    Principal: { Service: servicePrincipal("firehose") },
    Action: "sts:AssumeRole",
    Condition: { StringEquals: { "sts:ExternalId": accountId } },
  });
}

export interface FirehoseRolePolicyArgs {
  /** The segment's Kinesis stream (the only source Firehose reads). */
  streamArn: string;
  /** The segment's bucket (the only destination Firehose writes). */
  bucketArn: string;
  /** The layer's KMS key (encrypts both the stream and the bucket's objects). */
  keyArn: string;
  /** The log stream Firehose reports delivery errors to. */
  logStreamArn: string;
  region: string;
  /** The partition's DNS suffix, for `kms:ViaService`. @default "amazonaws.com" */
  dnsSuffix?: string;
}

/** Permissions of a segment's Firehose role: read this stream, write this bucket, use the layer key for both. */
export function firehoseRolePolicy(a: FirehoseRolePolicyArgs): PolicyDocument {
  return doc(
    {
      Sid: "ReadSourceStream",
      Effect: "Allow",
      Action: STREAM_POLL_ACTIONS,
      Resource: a.streamArn,
    },
    {
      Sid: "WriteDestinationBucket",
      Effect: "Allow",
      Action: [
        "s3:AbortMultipartUpload",
        "s3:GetBucketLocation",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:ListBucketMultipartUploads",
        "s3:PutObject",
      ],
      Resource: [a.bucketArn, `${a.bucketArn}/*`],
    },
    {
      Sid: "DecryptSourceStream",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
    {
      Sid: "EncryptDestinationObjects",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.keyArn,
      Condition: {
        StringEquals: { "kms:ViaService": viaService("s3", a.region, a.dnsSuffix) },
        // With S3 Bucket Keys the context is the bucket ARN; without, the object ARN.
        StringLike: { "kms:EncryptionContext:aws:s3:arn": [a.bucketArn, `${a.bucketArn}/*`] },
      },
    },
    {
      Sid: "ReportDeliveryErrors",
      Effect: "Allow",
      Action: "logs:PutLogEvents",
      Resource: a.logStreamArn,
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Producer and consumer managed policies
// ---------------------------------------------------------------------------------------------------

export interface StreamAccessArgs {
  streamArn: string;
  /** The layer's KMS key, which encrypts the stream. */
  keyArn: string;
  region: string;
  /** The partition's DNS suffix, for `kms:ViaService`. @default "amazonaws.com" */
  dnsSuffix?: string;
}

/** What a publisher needs to write to one segment (attach to the publisher's role or user). */
export function producerPolicy(a: StreamAccessArgs): PolicyDocument {
  return doc(
    {
      Sid: "PutRecords",
      Effect: "Allow",
      Action: STREAM_WRITE_ACTIONS,
      Resource: a.streamArn,
    },
    {
      Sid: "EncryptRecords",
      Effect: "Allow",
      Action: "kms:GenerateDataKey",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
  );
}

/**
 * What a subscriber needs to read one segment by polling (`GetRecords`), and nothing more: the stream's
 * shards and records, on the stream ARN only. Enhanced fan-out is not in it: each consumer declared in
 * the config is registered by the stack and has its own policy (`fanOutConsumerPolicy`), scoped to that
 * consumer; registering or deregistering consumers is the stack's job, not a subscriber's.
 */
export function consumerPolicy(a: StreamAccessArgs): PolicyDocument {
  return doc(
    {
      Sid: "ReadRecords",
      Effect: "Allow",
      Action: [
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:ListShards",
      ],
      Resource: a.streamArn,
    },
    {
      Sid: "DecryptRecords",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
  );
}

export interface FanOutConsumerArgs extends StreamAccessArgs {
  /** The registered consumer's ARN (`<stream ARN>/consumer/<name>:<creation time>`). */
  consumerArn: string;
}

/**
 * What an enhanced fan-out subscriber needs to read one segment through one registered consumer:
 * find the shards on the stream (`ListShards`, `DescribeStreamSummary`; actions on the stream resource),
 * look up and subscribe through its own consumer (`DescribeStreamConsumer`, `SubscribeToShard`; actions on
 * the consumer resource, so only this consumer's exact ARN), and decrypt the records through Kinesis.
 * The subscribe statement also names the stream ARN: older IAM references list the stream as a second
 * required resource of these two actions. Under either reading it lets no other consumer be used (the
 * consumer's own ARN must match too, or the stream ARN never matches a consumer request).
 * No `GetRecords` (fan-out pushes records), no `RegisterStreamConsumer` / `DeregisterStreamConsumer`
 * (the stack owns the consumer's life), no other consumer.
 */
export function fanOutConsumerPolicy(a: FanOutConsumerArgs): PolicyDocument {
  return doc(
    {
      Sid: "FindShards",
      Effect: "Allow",
      Action: ["kinesis:DescribeStreamSummary", "kinesis:ListShards"],
      Resource: a.streamArn,
    },
    {
      Sid: "SubscribeThroughOwnConsumer",
      Effect: "Allow",
      Action: ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
      Resource: [a.consumerArn, a.streamArn],
    },
    {
      Sid: "DecryptRecords",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.keyArn,
      Condition: streamKeyCondition(a),
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Consumer group workers
// ---------------------------------------------------------------------------------------------------

/** What a worker does with its group's lease table (runtime/leases): no DeleteItem, no table management. */
export const LEASE_TABLE_ACTIONS = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Scan"];

/**
 * The KMS actions DynamoDB's documentation lists for principals that use a table encrypted with a customer
 * managed key ("How Amazon DynamoDB uses AWS KMS": Encrypt, Decrypt, ReEncrypt*, GenerateDataKey*,
 * DescribeKey, CreateGrant), spelled out one by one. The docs do not say which of them reading and writing
 * items alone needs, so the worker gets the whole documented list, and only through DynamoDB.
 */
export const TABLE_KEY_ACTIONS = [
  "kms:Decrypt",
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncryptFrom",
  "kms:ReEncryptTo",
];

export interface GroupWorkerArgs extends StreamAccessArgs {
  /** The group's lease table. */
  tableArn: string;
  /** The registered consumer the group reads through; none: the workers poll. @default undefined */
  consumerArn?: string;
}

/**
 * What a worker of a consumer group needs: read the segment's stream (polling, or through the group's
 * own consumer only), read and write its group's lease table and nothing else in DynamoDB, and use the
 * layer key through Kinesis (this stream's records) and DynamoDB (the table) only.
 */
export function groupWorkerPolicy(a: GroupWorkerArgs): PolicyDocument {
  const read = a.consumerArn ? fanOutConsumerPolicy({ ...a, consumerArn: a.consumerArn }) : consumerPolicy(a);
  return doc(
    ...read.Statement,
    { Sid: "UseOwnLeaseTable", Effect: "Allow", Action: LEASE_TABLE_ACTIONS, Resource: a.tableArn },
    {
      Sid: "UseLeaseTableKey",
      Effect: "Allow",
      Action: TABLE_KEY_ACTIONS,
      Resource: a.keyArn,
      Condition: { StringEquals: { "kms:ViaService": viaService("dynamodb", a.region, a.dnsSuffix) } },
    },
    {
      // DynamoDB creates grants on the key for the table it encrypts; only for AWS resources, only through DynamoDB.
      Sid: "LetDynamoDbGrantForTheTable",
      Effect: "Allow",
      Action: "kms:CreateGrant",
      Resource: a.keyArn,
      Condition: {
        StringEquals: { "kms:ViaService": viaService("dynamodb", a.region, a.dnsSuffix) },
        Bool: { "kms:GrantIsForAWSResource": "true" },
      },
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Cross-account sharing: stream and consumer resource policies
// ---------------------------------------------------------------------------------------------------

/** `arn:aws:iam::111122223333:root` for a 12-digit account id; a role ARN as it is. */
export function sharePrincipalArn(accountOrRoleArn: string, partition = "aws"): string {
  return /^\d{12}$/.test(accountOrRoleArn) ? accountRootArn(accountOrRoleArn, partition) : accountOrRoleArn;
}

/** Writing a stream from another account: the actions AWS's own "write access" sharing example grants. */
export const SHARED_WRITE_ACTIONS = ["kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:PutRecord", "kinesis:PutRecords"];
/**
 * Reading a stream from another account by polling (AWS's "read access" sharing example), plus
 * `DescribeStream`, which AWS says to include for another account's Lambda event source mapping.
 */
export const SHARED_READ_ACTIONS = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:ListShards", "kinesis:GetRecords", "kinesis:GetShardIterator"];
/** Reading through a registered consumer from another account (the consumer's own resource policy). */
export const SHARED_CONSUMER_ACTIONS = ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"];

/**
 * `arn:aws:iam::444455556666:root` for `arn:aws:iam::444455556666:role/reader`. Anything else comes back
 * as it is: the config check refuses it with its path, and its size check builds policies before that.
 */
function accountPrincipalOf(principalArn: string): string {
  const m = /^arn:([a-z-]+):iam::(\d{12}):/.exec(principalArn);
  return m ? accountRootArn(m[2], m[1]) : principalArn;
}

/**
 * The statements granting shared principals (account roots and role ARNs, see `sharePrincipalArn`) one
 * set of actions. Account roots are named as they are. A role is never named as a principal: KMS refuses
 * a key policy whose principals do not exist (yet), and a partner's role may be created after the share.
 * Instead its account principal is named with `aws:PrincipalArn` equal to the role's ARN, which IAM
 * matches against the calling role whether or not it existed when the policy was set (and again after it
 * is re-created under the same name). One statement `<sid>` for accounts, one `<sid-singular>Roles` for
 * roles, so an account id in the share still grants its whole account.
 */
function sharedStatements(
  sid: { accounts: string; roles: string },
  principals: string[],
  body: Omit<PolicyStatement, "Sid" | "Effect" | "Principal">,
): PolicyStatement[] {
  const unique = [...new Set(principals)].sort();
  const accounts = unique.filter((p) => /:root$/.test(p));
  const roles = unique.filter((p) => !/:root$/.test(p));
  const out: PolicyStatement[] = [];
  if (accounts.length > 0) out.push({ Sid: sid.accounts, Effect: "Allow", Principal: { AWS: accounts }, ...body });
  if (roles.length > 0) {
    out.push({
      Sid: sid.roles,
      Effect: "Allow",
      Principal: { AWS: [...new Set(roles.map(accountPrincipalOf))].sort() },
      ...body,
      Condition: { ...(body.Condition ?? {}), ArnEquals: { "aws:PrincipalArn": roles } },
    });
  }
  return out;
}

export interface StreamShareArgs {
  streamArn: string;
  /** Principal ARNs (account roots or roles) that may write. @default [] */
  producers?: string[];
  /** Principal ARNs that may read. @default [] */
  consumers?: string[];
}

/**
 * Resource policy of a shared segment's stream: the named principals may write or read this stream, and
 * nothing else. Undefined when the segment is shared with nobody. Kinesis accepts no wildcard action or
 * principal and no service principal here, and at most 20 KB. Roles are granted through their account
 * principal and `aws:PrincipalArn` (`sharedStatements`): the Kinesis documentation does not say whether it
 * requires a named role to exist, so the safe form is used here as in the key policy.
 */
export function streamResourcePolicy(a: StreamShareArgs): PolicyDocument | undefined {
  const statements: PolicyStatement[] = [
    ...sharedStatements({ accounts: "SharedProducers", roles: "SharedProducerRoles" }, a.producers ?? [], { Action: SHARED_WRITE_ACTIONS, Resource: a.streamArn }),
    ...sharedStatements({ accounts: "SharedConsumers", roles: "SharedConsumerRoles" }, a.consumers ?? [], { Action: SHARED_READ_ACTIONS, Resource: a.streamArn }),
  ];
  return statements.length > 0 ? doc(...statements) : undefined;
}

/** Resource policy of a registered consumer shared with other accounts' readers. */
export function consumerResourcePolicy(a: { consumerArn: string; consumers: string[] }): PolicyDocument {
  return doc(
    ...sharedStatements({ accounts: "SharedFanOutConsumers", roles: "SharedFanOutConsumerRoles" }, a.consumers, {
      Action: SHARED_CONSUMER_ACTIONS,
      Resource: a.consumerArn,
    }),
  );
}

// ---------------------------------------------------------------------------------------------------
// Layer KMS key policy
// ---------------------------------------------------------------------------------------------------

export interface LayerKeyPolicyArgs {
  accountId: string;
  region: string;
  /** @default "aws" */
  partition?: string;
  /** The partition's DNS suffix (CloudWatch Logs' principal, `kms:ViaService`). @default "amazonaws.com" */
  dnsSuffix?: string;
  /**
   * The layer's log-group name space: every log group whose name starts with `prefix` may use the key,
   * except those starting with one of `except` (the name spaces of other layers whose names extend this
   * layer's, such as `ingest-raw` for `ingest`). One condition for the whole layer, however many segments
   * it has, so the key policy stays far below KMS's 32 KB limit.
   * @default none
   */
  logGroups?: { prefix: string; except: string[] };
  /**
   * The log-group name space of the processors writing into the layer (`/datalake/<lake>/<layer>/processors/`):
   * every log group whose name starts with it may use the key. One condition however many routes lead into
   * the layer. @default none
   */
  processorLogGroupPrefix?: string;
  /** Log groups listed by exact name (for keys that serve a fixed set of log groups). @default [] */
  logGroupNames?: string[];
  /** The layer's segments shared with other accounts (see `streamResourcePolicy`). @default [] */
  shares?: StreamShareArgs[];
}

/** KMS key policies may not exceed 32 KB (32,768 bytes). */
export const KEY_POLICY_MAX_BYTES = 32 * 1024;

/**
 * Key policy of a layer's KMS key.
 *
 * Chicken and egg: the segments' roles and policies need the key ARN, so the key must exist first, and
 * its policy cannot name roles that do not exist yet. We therefore use the AWS default key-policy shape:
 * the account root gets `kms:*`, which does not grant anything to anyone by itself but makes IAM policies
 * in this account effective for this key. Each principal's use of the key is then granted by the IAM
 * policies that name this key ARN (Firehose role, producer, consumer, route roles), each pinned to a
 * service with `kms:ViaService` and to its own stream or bucket by encryption context.
 *
 * Granted directly in the key policy:
 * - CloudWatch Logs (it uses no IAM role), only for this layer's Firehose log groups: one `ArnLike` on the
 *   layer's name prefix, with an `ArnNotLike` for each other layer whose name extends this one (so layer
 *   `ingest` never serves `ingest-raw`'s logs). The config check keeps segment names out of another
 *   layer's name space. Adding a segment therefore changes nothing here.
 * - CloudWatch Logs, for the log groups of the processors writing into this layer: one `ArnLike` on the
 *   layer's processor name space (`/datalake/<lake>/<layer>/processors/`, "/"-delimited, so no other
 *   layer's). Adding a route therefore changes nothing here either.
 * - Other accounts a segment is shared with: producers may `GenerateDataKey`, consumers `Decrypt`, each
 *   only through Kinesis and only for that segment's stream (encryption context = the stream ARN). A
 *   shared role is named by its account principal and `aws:PrincipalArn` (`sharedStatements`), never as a
 *   principal itself: KMS requires every principal of a key policy to exist, and one role created later
 *   would otherwise fail the policy of the whole layer's key.
 */
export function layerKeyPolicy(a: LayerKeyPolicyArgs): PolicyDocument {
  const partition = a.partition ?? "aws";
  const statements: PolicyStatement[] = [
    {
      Sid: "EnableIamPoliciesOfThisAccount",
      Effect: "Allow",
      Principal: { AWS: accountRootArn(a.accountId, partition) },
      Action: "kms:*",
      Resource: "*",
    },
  ];
  const logsActions = [
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
  ];
  const logsPrincipal = { Service: regionalServicePrincipal("logs", a.region, a.dnsSuffix) };
  if (a.logGroups) {
    const arnOf = (prefix: string) => `${logGroupArn(prefix, a.region, a.accountId, partition)}*`;
    const except = [...new Set(a.logGroups.except)].sort().map(arnOf);
    statements.push({
      Sid: "AllowFirehoseLogGroupsOfThisLayer",
      Effect: "Allow",
      Principal: logsPrincipal,
      Action: logsActions,
      Resource: "*",
      Condition: {
        ArnLike: { "kms:EncryptionContext:aws:logs:arn": arnOf(a.logGroups.prefix) },
        ...(except.length > 0 ? { ArnNotLike: { "kms:EncryptionContext:aws:logs:arn": except } } : {}),
      },
    });
  }
  if (a.processorLogGroupPrefix) {
    statements.push({
      Sid: "AllowProcessorLogGroupsOfThisLayer",
      Effect: "Allow",
      Principal: logsPrincipal,
      Action: logsActions,
      Resource: "*",
      Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": `${logGroupArn(a.processorLogGroupPrefix, a.region, a.accountId, partition)}*` } },
    });
  }
  const logGroups = [...new Set(a.logGroupNames ?? [])].sort().map((name) => logGroupArn(name, a.region, a.accountId, partition));
  if (logGroups.length > 0) {
    statements.push({
      Sid: "AllowListedLogGroups",
      Effect: "Allow",
      Principal: logsPrincipal,
      Action: logsActions,
      Resource: "*",
      Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroups } },
    });
  }
  for (const share of a.shares ?? []) {
    // Sids are letters and digits: "-" becomes "X" (names are lowercase), so distinct streams keep distinct Sids.
    const name = share.streamArn.slice(share.streamArn.lastIndexOf("/") + 1).replace(/-/g, "X").replace(/[^A-Za-z0-9]/g, "");
    const condition = streamKeyCondition({ streamArn: share.streamArn, region: a.region, dnsSuffix: a.dnsSuffix });
    statements.push(
      ...sharedStatements({ accounts: `SharedProducers${name}`, roles: `SharedProducerRoles${name}` }, share.producers ?? [], {
        Action: "kms:GenerateDataKey",
        Resource: "*",
        Condition: condition,
      }),
      ...sharedStatements({ accounts: `SharedConsumers${name}`, roles: `SharedConsumerRoles${name}` }, share.consumers ?? [], {
        Action: "kms:Decrypt",
        Resource: "*",
        Condition: condition,
      }),
    );
  }
  return doc(...statements);
}

// ---------------------------------------------------------------------------------------------------
// Bucket policy
// ---------------------------------------------------------------------------------------------------

/** Bucket policy of a segment's bucket: refuse every request that does not use TLS. */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return doc({
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  });
}

// ---------------------------------------------------------------------------------------------------
// Route (processor: Lambda function fed by an event source mapping) role
// ---------------------------------------------------------------------------------------------------

/** Trust policy of a route's role: only Lambda, and only on behalf of this account. */
export function routeAssumeRolePolicy(accountId: string): PolicyDocument {
  return serviceAssumeRolePolicy("LambdaAssumesRole", "lambda.amazonaws.com", accountId);
}

export interface RouteRolePolicyArgs {
  sourceStreamArn: string;
  /** The processor's own enhanced fan-out consumer on the source stream. */
  consumerArn: string;
  /** KMS key of the source segment's layer. */
  sourceKeyArn: string;
  targetStreamArn: string;
  /** KMS key of the target segment's layer (also encrypts the dead-letter queue and the log group). */
  targetKeyArn: string;
  /** The processor's own dead-letter queue. */
  queueArn: string;
  /** The function's own log group (ARN without `:*`). */
  logGroupArn: string;
  region: string;
  /** The partition's DNS suffix, for `kms:ViaService` (`aws.getPartition().dnsSuffix`). @default "amazonaws.com" */
  dnsSuffix?: string;
}

/**
 * Permissions of a route's processor (its Lambda execution role, which the event source mapping also
 * uses): read the source through its own consumer, write the target stream, send to its own
 * dead-letter queue, log to its own log group, and use the two layers' keys only through those services.
 */
export function routeRolePolicy(a: RouteRolePolicyArgs): PolicyDocument {
  return doc(
    {
      Sid: "ReadSourceThroughConsumer",
      Effect: "Allow",
      Action: ["kinesis:SubscribeToShard", "kinesis:DescribeStreamConsumer"],
      Resource: a.consumerArn,
    },
    {
      Sid: "ReadSourceStream",
      Effect: "Allow",
      Action: STREAM_POLL_ACTIONS,
      Resource: a.sourceStreamArn,
    },
    {
      Sid: "DecryptSourceStream",
      Effect: "Allow",
      Action: "kms:Decrypt",
      Resource: a.sourceKeyArn,
      Condition: streamKeyCondition({ streamArn: a.sourceStreamArn, region: a.region, dnsSuffix: a.dnsSuffix }),
    },
    {
      Sid: "WriteTargetStream",
      Effect: "Allow",
      Action: STREAM_WRITE_ACTIONS,
      Resource: a.targetStreamArn,
    },
    {
      Sid: "EncryptTargetStream",
      Effect: "Allow",
      Action: "kms:GenerateDataKey",
      Resource: a.targetKeyArn,
      Condition: streamKeyCondition({ streamArn: a.targetStreamArn, region: a.region, dnsSuffix: a.dnsSuffix }),
    },
    {
      Sid: "SendToOwnDeadLetterQueue",
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: a.queueArn,
    },
    {
      Sid: "EncryptDeadLetters",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: a.targetKeyArn,
      Condition: { StringEquals: { "kms:ViaService": viaService("sqs", a.region, a.dnsSuffix) } },
    },
    {
      Sid: "WriteOwnLogGroup",
      Effect: "Allow",
      Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
      Resource: `${a.logGroupArn}:*`,
    },
  );
}

// ---------------------------------------------------------------------------------------------------
// Scanner
// ---------------------------------------------------------------------------------------------------

export interface PolicyViolation {
  /** Index of the statement in `Statement`, or -1 for the document itself. */
  statement: number;
  sid: string | undefined;
  rule:
    | "version"
    | "no-statements"
    | "wildcard-action"
    | "wildcard-resource"
    | "wildcard-arn"
    | "not-action-or-resource"
    | "public-principal"
    | "key-admin-not-root";
  message: string;
}

export interface ScanOptions {
  /** A KMS key policy: `Resource: "*"` means the key itself, and `kms:*` is allowed for the account root. @default false */
  isKeyPolicy?: boolean;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const ROOT_ARN = /^arn:[a-z-]+:iam::\d{12}:root$/;

function principalValues(p: Principal | undefined): string[] {
  if (p === undefined) return [];
  if (p === "*") return ["*"];
  return [...list(p.AWS), ...list(p.Service), ...list(p.Federated)];
}

/** `arn:aws:kinesis:*:123...:stream/x` hides a wildcard in the partition, service, region or account. */
function wildcardInArnHead(resource: string): boolean {
  if (!resource.startsWith("arn:")) return false;
  return resource.split(":").slice(1, 5).some((part) => part.includes("*"));
}

/**
 * Every way a policy document breaks the rules at the top of this file; empty when it follows them.
 * Accepts the document as an object or as the JSON string a resource carries.
 */
export function findPolicyViolations(input: PolicyDocument | string, options: ScanOptions = {}): PolicyViolation[] {
  const isKeyPolicy = options.isKeyPolicy ?? false;
  const document = (typeof input === "string" ? JSON.parse(input) : input) as PolicyDocument;
  const out: PolicyViolation[] = [];
  if (document.Version !== POLICY_VERSION) {
    out.push({ statement: -1, sid: undefined, rule: "version", message: `Version must be "${POLICY_VERSION}"` });
  }
  const statements: PolicyStatement[] = Array.isArray(document.Statement)
    ? document.Statement
    : document.Statement
      ? [document.Statement as PolicyStatement]
      : [];
  if (statements.length === 0) {
    out.push({ statement: -1, sid: undefined, rule: "no-statements", message: "the document has no statements" });
  }
  statements.forEach((s, i) => {
    const add = (rule: PolicyViolation["rule"], message: string) => out.push({ statement: i, sid: s.Sid, rule, message });
    if (s.Effect !== "Allow") return; // a Deny can only narrow access
    const principals = principalValues(s.Principal);
    const rootOnly = principals.length > 0 && principals.every((p) => ROOT_ARN.test(p));
    if (s.NotAction !== undefined || s.NotResource !== undefined || s.NotPrincipal !== undefined) {
      add("not-action-or-resource", "Allow with NotAction, NotResource or NotPrincipal grants more than it names");
    }
    if (principals.includes("*")) add("public-principal", "Allow to the public principal \"*\"");
    for (const action of list(s.Action)) {
      if (!action.includes("*")) continue;
      if (isKeyPolicy && action.toLowerCase() === "kms:*") {
        if (!rootOnly) add("key-admin-not-root", `"${action}" may only be granted to the account root in a key policy`);
        continue;
      }
      add("wildcard-action", `Allow with wildcard action "${action}"`);
    }
    for (const resource of list(s.Resource)) {
      if (resource === "*") {
        if (!isKeyPolicy) add("wildcard-resource", 'Allow on Resource "*"');
      } else if (wildcardInArnHead(resource)) {
        add("wildcard-arn", `Allow on "${resource}", which has a wildcard in its partition, service, region or account`);
      }
    }
  });
  return out;
}
