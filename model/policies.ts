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

/** `kinesis.eu-west-1.amazonaws.com`: the value of `kms:ViaService` for a service in a region. */
export function viaService(service: "kinesis" | "s3" | "logs" | "sqs", region: string): string {
  return `${service}.${region}.amazonaws.com`;
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
function streamKeyCondition(a: { streamArn: string; region: string }): ConditionBlock {
  return {
    StringEquals: { "kms:ViaService": viaService("kinesis", a.region) },
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

/** Trust policy of a segment's Firehose role: only Firehose, and only on behalf of this account. */
export function firehoseAssumeRolePolicy(accountId: string): PolicyDocument {
  return serviceAssumeRolePolicy("FirehoseAssumesRole", "firehose.amazonaws.com", accountId);
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
        StringEquals: { "kms:ViaService": viaService("s3", a.region) },
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

/** What a subscriber needs to read one segment, by polling or enhanced fan-out. */
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
        "kinesis:SubscribeToShard",
        "kinesis:DescribeStreamConsumer",
        "kinesis:RegisterStreamConsumer",
      ],
      Resource: [a.streamArn, `${a.streamArn}/consumer/*`],
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
// Layer KMS key policy
// ---------------------------------------------------------------------------------------------------

export interface LayerKeyPolicyArgs {
  accountId: string;
  region: string;
  /** @default "aws" */
  partition?: string;
  /** Names of the layer's Firehose log groups (`segmentNames(...).logGroupName`), and no others. */
  logGroupNames: string[];
}

/**
 * Key policy of a layer's KMS key.
 *
 * Chicken and egg: the segments' roles and policies need the key ARN, so the key must exist first, and
 * its policy cannot name roles that do not exist yet. We therefore use the AWS default key-policy shape:
 * the account root gets `kms:*`, which does not grant anything to anyone by itself but makes IAM policies
 * in this account effective for this key. Each principal's use of the key is then granted by the IAM
 * policies that name this key ARN (Firehose role, producer, consumer, route roles), each pinned to a
 * service with `kms:ViaService` and to its own stream or bucket by encryption context. The only service
 * granted directly is CloudWatch Logs (it uses no IAM role), and only for this layer's Firehose log
 * groups, listed by exact ARN. A name pattern (`<lake>-<layer>-*`) would be shorter but would also match
 * the log groups of a layer whose name starts with `<layer>-`, breaking layer isolation. Adding a segment
 * therefore updates (never replaces) the layer's key policy.
 */
export function layerKeyPolicy(a: LayerKeyPolicyArgs): PolicyDocument {
  const partition = a.partition ?? "aws";
  const logGroups = [...new Set(a.logGroupNames)]
    .sort()
    .map((name) => logGroupArn(name, a.region, a.accountId, partition));
  const statements: PolicyStatement[] = [
    {
      Sid: "EnableIamPoliciesOfThisAccount",
      Effect: "Allow",
      Principal: { AWS: accountRootArn(a.accountId, partition) },
      Action: "kms:*",
      Resource: "*",
    },
  ];
  if (logGroups.length > 0) {
    statements.push({
      Sid: "AllowFirehoseLogGroupsOfThisLayer",
      Effect: "Allow",
      Principal: { Service: viaService("logs", a.region) },
      Action: [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:DescribeKey",
      ],
      Resource: "*",
      Condition: { ArnEquals: { "kms:EncryptionContext:aws:logs:arn": logGroups } },
    });
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
      Condition: streamKeyCondition({ streamArn: a.sourceStreamArn, region: a.region }),
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
      Condition: streamKeyCondition({ streamArn: a.targetStreamArn, region: a.region }),
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
      Condition: { StringEquals: { "kms:ViaService": viaService("sqs", a.region) } },
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
