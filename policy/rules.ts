/**
 * The lake's guardrails as Pulumi policies. `index.ts` in this folder puts them into a policy pack for
 * `pulumi preview --policy-pack policy`; `npm run -s policy-check` (apps/policy-check) calls the same
 * `validateResource` / `validateStack` functions on a stack captured under mocks, without the cloud.
 *
 * Only plain property reads here (no `@pulumi/aws` classes): the checks work the same on the engine's
 * resource inputs and on the inputs the mocks record.
 *
 * In a real preview, values that are not known yet (ARNs of resources still to be created) are unknown;
 * @pulumi/policy then skips the check that reads them and says so. `pulumi up` runs every check again
 * with the real values before it changes anything.
 */
import type { Policies, PolicyResource, ReportViolation, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { findPolicyViolations } from "../model/policies";
import { RANGES } from "../model/config";
import { requiredDimensions } from "../model/alarms";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Props = Record<string, any>;

export const TYPES = {
  stream: "aws:kinesis/stream:Stream",
  firehose: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  encryptionV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  versioningV2: "aws:s3/bucketVersioningV2:BucketVersioningV2",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  lifecycleV2: "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  queue: "aws:sqs/queue:Queue",
  topic: "aws:sns/topic:Topic",
  key: "aws:kms/key:Key",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  objectLockV2: "aws:s3/bucketObjectLockConfigurationV2:BucketObjectLockConfigurationV2",
  replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
  table: "aws:dynamodb/table:Table",
} as const;

/** Resource types that carry policy documents, and the properties they carry them in. */
export const POLICY_DOCUMENTS: Record<string, { fields: string[]; isKeyPolicy?: boolean }> = {
  "aws:iam/policy:Policy": { fields: ["policy"] },
  "aws:iam/rolePolicy:RolePolicy": { fields: ["policy"] },
  "aws:iam/userPolicy:UserPolicy": { fields: ["policy"] },
  "aws:iam/groupPolicy:GroupPolicy": { fields: ["policy"] },
  "aws:iam/role:Role": { fields: ["assumeRolePolicy"] },
  "aws:s3/bucketPolicy:BucketPolicy": { fields: ["policy"] },
  "aws:sns/topicPolicy:TopicPolicy": { fields: ["policy"] },
  "aws:sqs/queuePolicy:QueuePolicy": { fields: ["policy"] },
  "aws:kinesis/resourcePolicy:ResourcePolicy": { fields: ["policy"] },
  "aws:kms/key:Key": { fields: ["policy"], isKeyPolicy: true },
};

/** Log groups must expire: 1 day to 10 years (CloudWatch Logs' largest retention setting). */
export const LOG_RETENTION_DAYS = { min: 1, max: 3653 };

/** `alias/aws/...` or an ARN of one: an AWS-managed key, which cannot be governed or shared-nothing. */
export function isAwsManagedKey(key: string): boolean {
  return /(^|:)alias\/aws\//.test(key);
}

const str = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** Why a key reference is not a customer-managed key; undefined when it is one. */
function keyProblem(what: string, key: unknown): string | undefined {
  if (!str(key)) return `${what} has no KMS key; set a customer-managed key (the layer key)`;
  if (isAwsManagedKey(key)) return `${what} uses the AWS-managed key ${key}; use a customer-managed key (the layer key)`;
  return undefined;
}

/** Every policy document a resource carries, parsed; `undefined` documents (not set) are skipped. */
export function policyDocuments(type: string, props: Props): { field: string; doc: Props; isKeyPolicy: boolean }[] {
  const spec = POLICY_DOCUMENTS[type];
  const out: { field: string; doc: Props; isKeyPolicy: boolean }[] = [];
  if (spec) {
    for (const field of spec.fields) {
      const value = props[field];
      if (value === undefined || value === null || value === "") continue;
      out.push({ field, doc: typeof value === "string" ? JSON.parse(value) : value, isKeyPolicy: spec.isKeyPolicy ?? false });
    }
  }
  if (type === "aws:iam/role:Role" && Array.isArray(props.inlinePolicies)) {
    props.inlinePolicies.forEach((p: Props, i: number) => {
      if (str(p?.policy)) out.push({ field: `inlinePolicies[${i}].policy`, doc: JSON.parse(p.policy), isKeyPolicy: false });
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Resource rules
// ---------------------------------------------------------------------------------------------------

function resourceRule(
  name: string,
  description: string,
  type: string | string[],
  check: (props: Props, report: ReportViolation, type: string) => void,
): ResourceValidationPolicy {
  const types = Array.isArray(type) ? type : [type];
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (types.includes(args.type)) check(args.props, report, args.type);
    },
  };
}

export const streamsEncrypted = resourceRule(
  "streams-encrypted-with-cmk",
  "Kinesis streams are encrypted at rest with a customer-managed KMS key.",
  TYPES.stream,
  (p, report) => {
    if (p.encryptionType !== "KMS") return report(`stream encryptionType is ${JSON.stringify(p.encryptionType ?? "NONE")}; set "KMS" with the layer key`);
    const problem = keyProblem("the stream", p.kmsKeyId);
    if (problem) report(problem);
  },
);

export const logGroupsEncrypted = resourceRule(
  "log-groups-encrypted-with-cmk",
  "CloudWatch log groups are encrypted with a customer-managed KMS key.",
  TYPES.logGroup,
  (p, report) => {
    const problem = keyProblem("the log group", p.kmsKeyId);
    if (problem) report(problem);
  },
);

export const queuesEncrypted = resourceRule(
  "queues-encrypted-with-cmk",
  "SQS queues (dead-letter queues) are encrypted with a customer-managed KMS key, not SQS-managed SSE.",
  TYPES.queue,
  (p, report) => {
    const problem = keyProblem("the queue", p.kmsMasterKeyId);
    if (problem) report(problem);
  },
);

export const topicsEncrypted = resourceRule(
  "topics-encrypted-with-cmk",
  "SNS topics are encrypted with a customer-managed KMS key (CloudWatch cannot publish to alias/aws/sns).",
  TYPES.topic,
  (p, report) => {
    const problem = keyProblem("the topic", p.kmsMasterKeyId);
    if (problem) report(problem);
  },
);

export const tablesEncrypted = resourceRule(
  "tables-encrypted-with-cmk",
  "DynamoDB tables (consumer groups' lease tables) are encrypted with a customer-managed KMS key, not the AWS owned or AWS managed key.",
  TYPES.table,
  (p, report) => {
    const sse = p.serverSideEncryption;
    if (sse?.enabled !== true) return report("the table uses the AWS owned key; set serverSideEncryption { enabled: true, kmsKeyArn: <the layer key> }");
    const problem = keyProblem("the table", sse.kmsKeyArn);
    if (problem) report(problem);
  },
);

export const tablesRecoverable = resourceRule(
  "tables-point-in-time-recovery",
  "DynamoDB tables keep point-in-time recovery on: a lease table holds its group's checkpoints.",
  TYPES.table,
  (p, report) => {
    if (p.pointInTimeRecovery?.enabled !== true) report("point-in-time recovery is off; set pointInTimeRecovery { enabled: true }");
  },
);

export const leastPrivilege = resourceRule(
  "iam-least-privilege",
  'No Allow with a wildcard action, on Resource "*" (outside key policies), to the public, or with NotAction/NotResource.',
  Object.keys(POLICY_DOCUMENTS),
  (p, report, type) => {
    let docs;
    try {
      docs = policyDocuments(type, p);
    } catch (err) {
      return report(`a policy document is not valid JSON (${(err as Error).message})`);
    }
    for (const { field, doc, isKeyPolicy } of docs) {
      for (const v of findPolicyViolations(doc as never, { isKeyPolicy })) {
        const where = v.statement < 0 ? field : `${field} statement ${v.statement}${v.sid ? ` (${v.sid})` : ""}`;
        report(`${where}: ${v.message}`);
      }
    }
  },
);

export const wireTapsLogErrors = resourceRule(
  "wire-taps-log-errors",
  "Firehose wire-taps log delivery errors to CloudWatch Logs and write failed records under an error prefix.",
  TYPES.firehose,
  (p, report) => {
    const s3 = p.extendedS3Configuration;
    if (!s3) return report("the delivery stream has no extendedS3Configuration (a wire-tap writes to its segment's bucket)");
    const logging = s3.cloudwatchLoggingOptions;
    if (logging?.enabled !== true || !str(logging.logGroupName) || !str(logging.logStreamName)) {
      report("delivery-error logging is off; set cloudwatchLoggingOptions { enabled: true, logGroupName, logStreamName }");
    }
    if (!str(s3.errorOutputPrefix)) report("no errorOutputPrefix: failed records would mix with delivered ones");
  },
);

export const retentionWithinBounds = resourceRule(
  "retention-within-bounds",
  `Stream retention ${RANGES.retentionHours.min}-${RANGES.retentionHours.max} h; log groups expire after ${LOG_RETENTION_DAYS.min}-${LOG_RETENTION_DAYS.max} days.`,
  [TYPES.stream, TYPES.logGroup],
  (p, report, type) => {
    if (type === TYPES.stream) {
      const hours = p.retentionPeriod ?? 24;
      if (!Number.isInteger(hours) || hours < RANGES.retentionHours.min || hours > RANGES.retentionHours.max) {
        report(`stream retentionPeriod ${hours} h is outside ${RANGES.retentionHours.min}-${RANGES.retentionHours.max} h`);
      }
      return;
    }
    const days = p.retentionInDays;
    if (days === undefined || days === 0) return report("the log group never expires; set retentionInDays");
    if (days < LOG_RETENTION_DAYS.min || days > LOG_RETENTION_DAYS.max) {
      report(`log group retentionInDays ${days} is outside ${LOG_RETENTION_DAYS.min}-${LOG_RETENTION_DAYS.max}`);
    }
  },
);

export const alarmsNameTheirResource = resourceRule(
  "alarms-name-their-resource",
  "Alarms on Kinesis, Firehose, Lambda, SQS and S3 replication metrics and on the processors' own metrics carry the dimensions naming the resource (StreamName, DeliveryStreamName, FunctionName, QueueName; SourceBucket, DestinationBucket and RuleId): CloudWatch does not aggregate over a missing dimension, so such an alarm never fires.",
  TYPES.alarm,
  (p, report) => {
    const needed = requiredDimensions(String(p.namespace), String(p.metricName));
    if (needed === undefined || p.metricQueries !== undefined) return; // other namespaces; metric-math alarms name theirs per query
    const missing = needed.filter((d) => !str(p.dimensions?.[d]));
    if (missing.length > 0) {
      report(`alarm on ${p.namespace} ${p.metricName} has no ${missing.join(", ")} dimension${missing.length > 1 ? "s" : ""}, so it watches no resource and never fires`);
    }
  },
);

// ---------------------------------------------------------------------------------------------------
// Stack rules: buckets (settings live in resources of their own) and layer isolation
// ---------------------------------------------------------------------------------------------------

const BUCKET_TYPES: string[] = [TYPES.bucket, TYPES.bucketV2];

/** A bucket's name as its settings resources refer to it (`bucket` input = the bucket's id = its name). */
const bucketName = (r: PolicyResource): string | undefined => r.props.bucket ?? r.props.id;

function bucketRule(
  name: string,
  description: string,
  settingTypes: string[],
  check: (settings: Props[], bucket: PolicyResource) => string | undefined,
): StackValidationPolicy {
  return {
    name,
    description,
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
      for (const bucket of args.resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
        const id = bucketName(bucket);
        const settings = args.resources.filter((r) => settingTypes.includes(r.type) && r.props.bucket === id).map((r) => r.props);
        const problem = check(settings, bucket);
        if (problem) report(`bucket ${id ?? bucket.name}: ${problem}`, bucket.urn);
      }
    },
  };
}

export const bucketsEncrypted = bucketRule(
  "buckets-encrypted-with-cmk",
  "S3 buckets encrypt objects by default with SSE-KMS and a customer-managed key.",
  [TYPES.encryption, TYPES.encryptionV2],
  (settings, bucket) => {
    const rules: Props[] = [
      ...settings.flatMap((s) => s.rules ?? []),
      ...(bucket.props.serverSideEncryptionConfiguration?.rule ? [bucket.props.serverSideEncryptionConfiguration.rule] : []),
    ];
    const kms = rules.map((r) => r.applyServerSideEncryptionByDefault).find((d) => d?.sseAlgorithm === "aws:kms" || d?.sseAlgorithm === "aws:kms:dsse");
    if (!kms) return "no default encryption with SSE-KMS; add a BucketServerSideEncryptionConfiguration with the layer key";
    return keyProblem("its default encryption", kms.kmsMasterKeyId);
  },
);

export const bucketsBlockPublicAccess = bucketRule(
  "buckets-block-public-access",
  "S3 buckets block all public access (all four settings).",
  [TYPES.publicAccessBlock],
  (settings) => {
    const flags = ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"];
    if (settings.length === 0) return "no BucketPublicAccessBlock";
    const off = flags.filter((f) => !settings.some((s) => s[f] === true));
    return off.length ? `public access not blocked: ${off.join(", ")} not true` : undefined;
  },
);

/** True when a bucket policy denies every non-TLS request to the bucket and its objects. */
export function deniesInsecureTransport(policy: Props, bucketArn: string | undefined): boolean {
  const statements: Props[] = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  return statements.some((s) => {
    if (s?.Effect !== "Deny") return false;
    const actions = [s.Action].flat();
    if (!actions.includes("s3:*") && !actions.includes("*")) return false;
    const secure = s.Condition?.Bool?.["aws:SecureTransport"];
    if (!(secure === "false" || secure === false || (Array.isArray(secure) && secure.includes("false")))) return false;
    if (s.Principal !== "*" && s.Principal?.AWS !== "*") return false;
    if (bucketArn === undefined) return true;
    const resources = [s.Resource].flat();
    return resources.includes(bucketArn) && resources.includes(`${bucketArn}/*`);
  });
}

export const bucketsTlsOnly = bucketRule(
  "buckets-tls-only",
  "S3 bucket policies deny every request not made over TLS (aws:SecureTransport false), to the bucket and its objects.",
  [TYPES.bucketPolicy],
  (settings, bucket) => {
    const policies = settings.map((s) => (typeof s.policy === "string" ? JSON.parse(s.policy) : s.policy)).filter(Boolean);
    if (policies.length === 0) return "no bucket policy; add one that denies requests without TLS";
    return policies.some((p) => deniesInsecureTransport(p, bucket.props.arn)) ? undefined : "its policy does not deny requests without TLS (s3:* with aws:SecureTransport false, on the bucket and bucket/*)";
  },
);

/** A bucket whose lifecycle deletes every object within this many days is scratch space (query results). */
export const SCRATCH_EXPIRY_MAX_DAYS = 30;

/** True when an enabled lifecycle rule with no filter expires every object within `SCRATCH_EXPIRY_MAX_DAYS`. */
export function isScratchBucket(lifecycles: Props[]): boolean {
  return lifecycles.some((l) =>
    (l.rules ?? []).some((r: Props) => {
      const whole = r.filter === undefined || (r.filter && Object.keys(r.filter).filter((k) => r.filter[k] !== undefined && r.filter[k] !== "").length === 0);
      const days = r.expiration?.days;
      return r.status === "Enabled" && whole && typeof days === "number" && days > 0 && days <= SCRATCH_EXPIRY_MAX_DAYS;
    }),
  );
}

/** Replication rules as a list, from a replication configuration resource or a bucket's inline (deprecated) one. */
const replicationRules = (r: PolicyResource): Props[] =>
  r.type === TYPES.replication ? (r.props.rules ?? []) : (r.props.replicationConfiguration?.rules ?? []);

/** Names of the buckets some replication rule of the stack writes replicas into (`arn:aws:s3:::<name>`). */
export function replicaBucketNames(resources: PolicyResource[]): Set<string> {
  const names = new Set<string>();
  for (const r of resources.filter((x) => x.type === TYPES.replication || BUCKET_TYPES.includes(x.type))) {
    for (const rule of replicationRules(r)) {
      const destination = rule.destination?.bucket;
      if (str(destination)) names.add(destination.slice(destination.lastIndexOf(":") + 1));
    }
  }
  return names;
}

export const bucketsVersioned: StackValidationPolicy = {
  name: "buckets-versioned",
  description: `S3 buckets keep object versions (backup against overwrites and deletes); only scratch buckets whose every object expires within ${SCRATCH_EXPIRY_MAX_DAYS} days (query results) are exempt. Replica buckets are checked by replica-buckets-locked.`,
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const replicas = replicaBucketNames(args.resources);
    for (const bucket of args.resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
      const id = bucketName(bucket);
      if (id !== undefined && replicas.has(id)) continue;
      const of = (types: string[]) => args.resources.filter((r) => types.includes(r.type) && r.props.bucket === id).map((r) => r.props);
      const versioned =
        of([TYPES.versioning, TYPES.versioningV2]).some((s) => s.versioningConfiguration?.status === "Enabled") || bucket.props.versioning?.enabled === true;
      if (versioned || isScratchBucket(of([TYPES.lifecycle, TYPES.lifecycleV2]))) continue;
      report(`bucket ${id ?? bucket.name}: versioning is not enabled; add a BucketVersioning with status Enabled`, bucket.urn);
    }
  },
};

/** Object Lock retention modes S3 accepts. */
const OBJECT_LOCK_MODES = ["COMPLIANCE", "GOVERNANCE"];

export const replicaBucketsLocked: StackValidationPolicy = {
  name: "replica-buckets-locked",
  description:
    "Every bucket a replication rule writes into (a backup) has S3 Object Lock on with a default retention and versioning on, with no exemption; blocked public access, SSE-KMS and TLS-only are the bucket rules' (which cover replicas too).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    const replicas = replicaBucketNames(args.resources);
    for (const bucket of args.resources.filter((r) => BUCKET_TYPES.includes(r.type))) {
      const id = bucketName(bucket);
      if (id === undefined || !replicas.has(id)) continue;
      const of = (types: string[]) => args.resources.filter((r) => types.includes(r.type) && r.props.bucket === id).map((r) => r.props);
      const problems: string[] = [];
      if (bucket.props.objectLockEnabled !== true) problems.push("Object Lock is not enabled (objectLockEnabled: true when the bucket is created)");
      const retention = of([TYPES.objectLock, TYPES.objectLockV2]).map((l) => l.rule?.defaultRetention).find(Boolean);
      const period = retention ? (retention.days ?? 0) + (retention.years ?? 0) : 0;
      if (!retention || !OBJECT_LOCK_MODES.includes(retention.mode) || !(period > 0)) {
        problems.push("no default Object Lock retention (a BucketObjectLockConfiguration with a mode and days), so replicas are not locked");
      }
      if (!of([TYPES.versioning, TYPES.versioningV2]).some((v) => v.versioningConfiguration?.status === "Enabled")) {
        problems.push("versioning is not enabled; add a BucketVersioning with status Enabled");
      }
      if (problems.length > 0) report(`replica bucket ${id}: ${problems.join("; ")}`, bucket.urn);
    }
  },
};

export const replicationSkipsDeleteMarkers = resourceRule(
  "replication-skips-delete-markers",
  "No replication rule replicates delete markers: each has a filter (a V2 rule; a rule without one replicates them) and deleteMarkerReplication Disabled, so a delete at the source never hides the backup's copy.",
  [TYPES.replication, ...BUCKET_TYPES],
  (p, report, type) => {
    const rules: Props[] = type === TYPES.replication ? (p.rules ?? []) : (p.replicationConfiguration?.rules ?? []);
    rules.forEach((rule, i) => {
      const name = `rule ${rule.id ?? i}`;
      if (rule.filter === undefined || rule.filter === null) {
        report(`${name} has no filter, which makes it a V1 rule that replicates delete markers; add a filter (e.g. { prefix: "data/" })`);
      } else if (type !== TYPES.replication) {
        // The bucket's inline (deprecated) form: delete markers are replicated only when this says Enabled.
        if (rule.deleteMarkerReplicationStatus === "Enabled") report(`${name} replicates delete markers (deleteMarkerReplicationStatus Enabled)`);
      } else if (rule.deleteMarkerReplication?.status !== "Disabled") {
        report(`${name} does not set deleteMarkerReplication { status: "Disabled" }; a delete at the source would hide the backup's copy`);
      }
    });
  },
);

/** Component types whose descendants belong to a layer / to a processor (which may name two layers). */
const LAYER_COMPONENT = "datalake:lake:Layer";
const PROCESSOR_COMPONENT = /^datalake:lake:(Route|Processor)$/;

type Owner = { kind: "layer"; layer: string } | { kind: "processor"; name: string } | undefined;

/** The layer or processor a resource belongs to, by its ancestors (`datalake:layer` tag as a fallback). */
export function ownerOf(r: PolicyResource): Owner {
  for (let p: PolicyResource | undefined = r; p; p = p.parent) {
    if (PROCESSOR_COMPONENT.test(p.type)) return { kind: "processor", name: p.name };
    if (p.type === LAYER_COMPONENT) return { kind: "layer", layer: p.name };
  }
  const tag = r.props.tags?.["datalake:layer"];
  return str(tag) ? { kind: "layer", layer: tag } : undefined;
}

/** Every ARN a document names in a Resource or a Condition value. */
function namedArns(doc: Props): string[] {
  const statements: Props[] = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const out: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === "string" && v.startsWith("arn:")) out.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === "object") Object.values(v).forEach(collect);
  };
  for (const s of statements) {
    collect(s.Resource);
    collect(s.Condition);
  }
  return out;
}

export const layersIsolated: StackValidationPolicy = {
  name: "layers-isolated",
  description: "No policy of one layer names another layer's resources; only a processor names two layers (its two ends).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    // Who owns each ARN of the stack.
    const arns: { arn: string; layer: string }[] = [];
    for (const r of args.resources) {
      const owner = ownerOf(r);
      if (owner?.kind === "layer" && str(r.props.arn)) arns.push({ arn: r.props.arn, layer: owner.layer });
    }
    const layerOfArn = (named: string): string | undefined => {
      // "arn:...:stream/x/consumer/*" or "bucket/*" fall under the resource they start with.
      const hit = arns.find(({ arn }) => named === arn || named.startsWith(`${arn}/`) || named.startsWith(`${arn}:`));
      return hit?.layer;
    };
    for (const r of args.resources) {
      const owner = ownerOf(r);
      if (!owner) continue;
      let docs;
      try {
        docs = policyDocuments(r.type, r.props);
      } catch {
        continue; // iam-least-privilege reports unreadable documents
      }
      const layers = new Set<string>();
      for (const { doc } of docs) for (const arn of namedArns(doc)) {
        const layer = layerOfArn(arn);
        if (layer) layers.add(layer);
      }
      if (owner.kind === "layer") {
        const others = [...layers].filter((l) => l !== owner.layer);
        if (others.length) report(`${r.name} belongs to layer ${owner.layer} but names resources of layer ${others.join(", ")}`, r.urn);
      } else if (layers.size > 2) {
        report(`processor ${owner.name}: ${r.name} names resources of ${layers.size} layers (${[...layers].join(", ")}); a processor may name only its two ends`, r.urn);
      }
    }
  },
};

/** Every rule of the pack, in the order the pack reports them. */
export const policies: Policies = [
  streamsEncrypted,
  bucketsEncrypted,
  logGroupsEncrypted,
  queuesEncrypted,
  topicsEncrypted,
  tablesEncrypted,
  tablesRecoverable,
  bucketsBlockPublicAccess,
  bucketsTlsOnly,
  bucketsVersioned,
  replicaBucketsLocked,
  replicationSkipsDeleteMarkers,
  leastPrivilege,
  layersIsolated,
  wireTapsLogErrors,
  retentionWithinBounds,
  alarmsNameTheirResource,
];
