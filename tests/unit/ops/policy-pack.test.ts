/**
 * Every rule of the guardrail policy pack (policy/rules.ts) catches the violation it names on a
 * deliberately broken resource of the dev stack, and reports it against that resource. Each case breaks
 * one resource of a clean capture and expects exactly one new violation, of that rule, on that resource.
 */
import * as assert from "assert";
import { policies } from "../../../policy/rules";
import { CapturedResource, evaluatePolicies, formatViolation, Violation } from "../../../apps/policy-check/evaluate";
import { buildLake, clone, stackTopology } from "../../helpers/pulumi-mocks";

/* eslint-disable @typescript-eslint/no-explicit-any */
let clean: CapturedResource[];
let baseline: string[];

const key = (v: Violation) => formatViolation(v);

/** The violations that breaking the capture (with `edit`) adds to those of the clean capture. */
async function added(edit: (resources: CapturedResource[]) => void): Promise<Violation[]> {
  const resources = clone(clean);
  edit(resources);
  const found = await evaluatePolicies(policies, resources);
  return found.filter((v) => !baseline.includes(key(v)));
}

const find = (resources: CapturedResource[], type: string, name: string): CapturedResource => {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}; have ${resources.filter((x) => x.type === type).map((x) => x.name).join(", ")}`);
  return r;
};
/** Sets a property in a resource's inputs and outputs alike (what the engine would show in both). */
const set = (r: CapturedResource, patch: Record<string, any>) => {
  Object.assign(r.inputs, patch);
  Object.assign(r.outputs, patch);
};

async function expectOnly(rule: string, resourceName: string | undefined, edit: (resources: CapturedResource[]) => void, says?: RegExp) {
  const found = await added(edit);
  assert.strictEqual(found.length, 1, `expected one new violation of ${rule}, got:\n${found.map(key).join("\n")}`);
  assert.strictEqual(found[0].rule, rule);
  assert.strictEqual(found[0].resource?.name, resourceName);
  if (says) assert.match(found[0].message, says);
}

const STREAM = "aws:kinesis/stream:Stream";
const BUCKET = "aws:s3/bucket:Bucket";

describe("policy pack: every rule catches the violation it names", function () {
  before(async () => {
    const run = await buildLake(stackTopology("dev"), { stack: "dev" });
    clean = run.resources.map((r) => ({
      type: r.type,
      name: r.name,
      urn: r.urn,
      parent: r.parent,
      inputs: r.inputs,
      outputs: { ...r.inputs, ...r.state, id: r.id },
    }));
    baseline = (await evaluatePolicies(policies, clean)).map(key);
  });

  const segmentBucket = (rs: CapturedResource[]) => find(rs, BUCKET, "ingest-persons-bucket");
  const bucketSetting = (rs: CapturedResource[], type: string) =>
    rs.find((r) => r.type === type && r.inputs.bucket === segmentBucket(rs).outputs.bucket)!;

  it("has a test below for every rule of the pack", () => {
    const tested = ["streams-encrypted-with-cmk", "buckets-encrypted-with-cmk", "log-groups-encrypted-with-cmk", "queues-encrypted-with-cmk",
      "topics-encrypted-with-cmk", "buckets-block-public-access", "buckets-tls-only", "buckets-versioned", "iam-least-privilege",
      "layers-isolated", "wire-taps-log-errors", "retention-within-bounds", "alarms-name-their-resource", "tables-encrypted-with-cmk", "tables-point-in-time-recovery",
      // On the prod stack, which has a backup: tests/unit/ops/policy-pack-backup.test.ts.
      "replica-buckets-locked", "replication-skips-delete-markers"];
    assert.deepStrictEqual(policies.map((p) => p.name).sort(), [...tested].sort());
  });

  it("the dev stack breaks no rule", () => {
    assert.deepStrictEqual(baseline, []);
  });

  it("streams-encrypted-with-cmk: an unencrypted stream, and one on the AWS-managed key", async () => {
    await expectOnly("streams-encrypted-with-cmk", "ingest-persons-stream", (rs) => set(find(rs, STREAM, "ingest-persons-stream"), { encryptionType: "NONE" }), /encryptionType/);
    await expectOnly("streams-encrypted-with-cmk", "ingest-persons-stream", (rs) => set(find(rs, STREAM, "ingest-persons-stream"), { kmsKeyId: "alias/aws/kinesis" }), /AWS-managed/);
  });

  it("buckets-encrypted-with-cmk: a bucket whose default encryption is SSE-S3", async () => {
    await expectOnly("buckets-encrypted-with-cmk", "ingest-persons-bucket", (rs) => {
      const sse = bucketSetting(rs, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration");
      set(sse, { rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
    });
  });

  it("log-groups-encrypted-with-cmk: a log group without a key", async () => {
    await expectOnly("log-groups-encrypted-with-cmk", "ingest-persons-firehose-logs", (rs) => {
      const lg = rs.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.name.startsWith("ingest-persons"))!;
      delete lg.inputs.kmsKeyId;
    });
  });

  it("queues-encrypted-with-cmk: a queue on SQS-managed encryption", async () => {
    await expectOnly("queues-encrypted-with-cmk", "broken-dlq", (rs) =>
      rs.push({ type: "aws:sqs/queue:Queue", name: "broken-dlq", urn: "urn:broken-dlq", parent: undefined, inputs: { sqsManagedSseEnabled: true }, outputs: {} }),
    );
  });

  it("topics-encrypted-with-cmk: the alarm topic on alias/aws/sns", async () => {
    await expectOnly("topics-encrypted-with-cmk", "alerts-topic", (rs) => set(find(rs, "aws:sns/topic:Topic", "alerts-topic"), { kmsMasterKeyId: "alias/aws/sns" }));
  });

  const TABLE = "aws:dynamodb/table:Table";
  const LEASES = "ingest-persons-group-billing-leases";

  it("tables-encrypted-with-cmk: a lease table on the AWS owned key, and one on the AWS-managed key", async () => {
    await expectOnly("tables-encrypted-with-cmk", LEASES, (rs) => set(find(rs, TABLE, LEASES), { serverSideEncryption: { enabled: false } }), /AWS owned key/);
    await expectOnly("tables-encrypted-with-cmk", LEASES, (rs) =>
      set(find(rs, TABLE, LEASES), { serverSideEncryption: { enabled: true, kmsKeyArn: "arn:aws:kms:eu-west-1:123456789012:alias/aws/dynamodb" } }),
    /AWS-managed/);
  });

  it("tables-point-in-time-recovery: a lease table without point-in-time recovery", async () => {
    await expectOnly("tables-point-in-time-recovery", LEASES, (rs) => set(find(rs, TABLE, LEASES), { pointInTimeRecovery: { enabled: false } }), /point-in-time recovery is off/);
  });

  it("iam-least-privilege and layers-isolated: a group worker policy with dynamodb:* on every table, or naming another layer's table", async () => {
    const policyName = "ingest-persons-group-billing-policy";
    const found = await added((rs) => {
      const p = find(rs, "aws:iam/policy:Policy", policyName);
      const doc = JSON.parse(p.inputs.policy);
      const table = doc.Statement.find((st: any) => st.Sid === "UseOwnLeaseTable");
      table.Action = "dynamodb:*";
      table.Resource = "arn:aws:dynamodb:*:123456789012:table/*";
      set(p, { policy: JSON.stringify(doc) });
    });
    assert.deepStrictEqual([...new Set(found.map((v) => `${v.rule} ${v.resource?.name}`))], [`iam-least-privilege ${policyName}`]);
    await expectOnly("layers-isolated", policyName, (rs) => {
      const p = find(rs, "aws:iam/policy:Policy", policyName);
      const doc = JSON.parse(p.inputs.policy);
      doc.Statement.find((st: any) => st.Sid === "UseOwnLeaseTable").Resource = find(rs, TABLE, "curated-adults-group-fraud-leases").outputs.arn;
      set(p, { policy: JSON.stringify(doc) });
    }, /layer ingest but names resources of layer curated/);
  });

  it("buckets-block-public-access: a bucket that lets public policies in", async () => {
    await expectOnly("buckets-block-public-access", "ingest-persons-bucket", (rs) =>
      set(bucketSetting(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), { restrictPublicBuckets: false }),
    /restrictPublicBuckets/);
  });

  it("buckets-tls-only: a bucket policy without the TLS-only deny", async () => {
    await expectOnly("buckets-tls-only", "ingest-persons-bucket", (rs) => {
      const p = bucketSetting(rs, "aws:s3/bucketPolicy:BucketPolicy");
      const doc = JSON.parse(p.inputs.policy);
      doc.Statement[0].Condition = { Bool: { "aws:SecureTransport": "true" } };
      set(p, { policy: JSON.stringify(doc) });
    });
  });

  it("buckets-versioned: a bucket with versioning suspended", async () => {
    await expectOnly("buckets-versioned", "ingest-persons-bucket", (rs) =>
      set(bucketSetting(rs, "aws:s3/bucketVersioning:BucketVersioning"), { versioningConfiguration: { status: "Suspended" } }),
    );
  });

  it("buckets-versioned: exempts only a scratch bucket whose every object expires within 30 days", async () => {
    const scratch = (expiration: Record<string, unknown>, filter: Record<string, unknown> = {}) => (rs: CapturedResource[]) => {
      rs.push({ type: BUCKET, name: "scratch", urn: "urn:scratch", parent: undefined, inputs: { bucket: "scratch" }, outputs: { bucket: "scratch", arn: "arn:aws:s3:::scratch" } });
      const lifecycle = { bucket: "scratch", rules: [{ id: "expire", status: "Enabled", filter, expiration }] };
      rs.push({ type: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", name: "scratch-lifecycle", urn: "urn:scratch-lc", parent: undefined, inputs: lifecycle, outputs: lifecycle });
    };
    const versionRule = (vs: Violation[]) => vs.filter((v) => v.rule === "buckets-versioned").map((v) => v.resource?.name);
    assert.deepStrictEqual(versionRule(await added(scratch({ days: 7 }))), []);
    assert.deepStrictEqual(versionRule(await added(scratch({ days: 365 }))), ["scratch"]);
    assert.deepStrictEqual(versionRule(await added(scratch({ days: 7 }, { prefix: "tmp/" }))), ["scratch"]);
  });

  it("iam-least-privilege: a producer policy allowing kinesis:* on *", async () => {
    const found = await added((rs) => {
      const p = find(rs, "aws:iam/policy:Policy", "ingest-persons-producer-policy");
      const doc = JSON.parse(p.inputs.policy);
      doc.Statement[0].Action = "kinesis:*";
      doc.Statement[0].Resource = "*";
      set(p, { policy: JSON.stringify(doc) });
    });
    assert.deepStrictEqual([...new Set(found.map((v) => `${v.rule} ${v.resource?.name}`))], ["iam-least-privilege ingest-persons-producer-policy"]);
    assert.ok(found.some((v) => /wildcard action "kinesis:\*"/.test(v.message)));
    assert.ok(found.some((v) => /Resource "\*"/.test(v.message)));
  });

  it("layers-isolated: an ingest policy that names a curated stream", async () => {
    await expectOnly("layers-isolated", "ingest-persons-producer-policy", (rs) => {
      const p = find(rs, "aws:iam/policy:Policy", "ingest-persons-producer-policy");
      const doc = JSON.parse(p.inputs.policy);
      doc.Statement[0].Resource = [doc.Statement[0].Resource, find(rs, STREAM, "curated-adults-stream").outputs.arn];
      set(p, { policy: JSON.stringify(doc) });
    }, /layer ingest but names resources of layer curated/);
  });

  it("layers-isolated: lets a processor name its two ends", async () => {
    const routePolicies = clean.filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name.startsWith("route-"));
    assert.ok(routePolicies.length > 0);
    assert.ok(routePolicies.some((r) => r.inputs.policy.includes("ingest-persons") && r.inputs.policy.includes("curated-adults")));
    assert.ok(!baseline.some((v) => v.startsWith("[layers-isolated]")));
  });

  it("wire-taps-log-errors: a wire-tap with error logging off", async () => {
    await expectOnly("wire-taps-log-errors", "ingest-persons-firehose", (rs) => {
      const f = find(rs, "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "ingest-persons-firehose");
      const s3 = clone(f.inputs.extendedS3Configuration);
      s3.cloudwatchLoggingOptions = { ...s3.cloudwatchLoggingOptions, enabled: false };
      set(f, { extendedS3Configuration: s3 });
    }, /logging is off/);
  });

  it("alarms-name-their-resource: an iterator-age alarm without StreamName", async () => {
    await expectOnly("alarms-name-their-resource", "ingest-persons-alarms-iterator-age", (rs) => {
      const a = find(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", "ingest-persons-alarms-iterator-age");
      set(a, { dimensions: {} });
    }, /no StreamName dimension/);
  });

  it("retention-within-bounds: a stream kept longer than a year, and a log group kept forever", async () => {
    await expectOnly("retention-within-bounds", "ingest-persons-stream", (rs) => set(find(rs, STREAM, "ingest-persons-stream"), { retentionPeriod: 9000 }), /9000 h/);
    await expectOnly("retention-within-bounds", "ingest-persons-firehose-logs", (rs) => {
      const lg = rs.find((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.name.startsWith("ingest-persons"))!;
      delete lg.inputs.retentionInDays;
    }, /never expires/);
  });
});
