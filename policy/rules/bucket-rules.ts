/** Stack rules for buckets, whose settings live in resources of their own (encryption, public access, TLS, versioning, replicas). */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { resourceRule } from "./resource-rules";
import { keyProblem, type Props, str, TYPES } from "./resources";

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
