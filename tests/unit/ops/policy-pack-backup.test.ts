/**
 * The policy pack's backup rules on the prod stack (which has a backup): every replica bucket has Object
 * Lock with a default retention and versioning (and the bucket rules hold for replicas too: blocked public
 * access, SSE-KMS), and no replication rule replicates delete markers. Each case breaks one resource of a
 * clean capture and expects exactly one new violation, of that rule, on that resource.
 */
import * as assert from "assert";
import { policies } from "../../../policy/rules";
import { CapturedResource, evaluatePolicies, formatViolation, Violation } from "../../../apps/policy-check/evaluate";
import { buildLake, clone, stackTopology } from "../../helpers/pulumi-mocks";

/* eslint-disable @typescript-eslint/no-explicit-any */
let clean: CapturedResource[];
let baseline: string[];

async function added(edit: (resources: CapturedResource[]) => void): Promise<Violation[]> {
  const resources = clone(clean);
  edit(resources);
  return (await evaluatePolicies(policies, resources)).filter((v) => !baseline.includes(formatViolation(v)));
}

const find = (resources: CapturedResource[], type: string, name: string): CapturedResource => {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r;
};
const set = (r: CapturedResource, patch: Record<string, any>) => {
  Object.assign(r.inputs, patch);
  Object.assign(r.outputs, patch);
};

async function expectOnly(rule: string, resourceName: string, edit: (resources: CapturedResource[]) => void, says?: RegExp) {
  const found = await added(edit);
  assert.strictEqual(found.length, 1, `expected one new violation of ${rule}, got:\n${found.map(formatViolation).join("\n")}`);
  assert.deepStrictEqual([found[0].rule, found[0].resource?.name], [rule, resourceName]);
  if (says) assert.match(found[0].message, says);
}

const BUCKET = "aws:s3/bucket:Bucket";
const REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const REPLICA = "ingest-persons-replica";

describe("policy pack: the backup rules (prod stack)", function () {
  this.timeout(120_000);
  before(async () => {
    const run = await buildLake(stackTopology("prod"), { stack: "prod" });
    clean = run.resources.map((r) => ({ type: r.type, name: r.name, urn: r.urn, parent: r.parent, inputs: r.inputs, outputs: { ...r.inputs, ...r.state, id: r.id } }));
    baseline = (await evaluatePolicies(policies, clean)).map(formatViolation);
  });

  const replicaSetting = (rs: CapturedResource[], type: string) => rs.find((r) => r.type === type && r.inputs.bucket === find(rs, BUCKET, REPLICA).outputs.bucket)!;
  const rule = (rs: CapturedResource[]) => find(rs, REPLICATION, `${REPLICA}-replication`);

  it("the prod stack, backup and all, breaks no rule", () => {
    assert.deepStrictEqual(baseline, []);
  });

  it("replica-buckets-locked: a replica without Object Lock, without a default retention, or unversioned", async () => {
    await expectOnly("replica-buckets-locked", REPLICA, (rs) => set(find(rs, BUCKET, REPLICA), { objectLockEnabled: false }), /Object Lock is not enabled/);
    await expectOnly("replica-buckets-locked", REPLICA, (rs) => {
      const lock = replicaSetting(rs, "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration");
      rs.splice(rs.indexOf(lock), 1);
    }, /no default Object Lock retention/);
    await expectOnly("replica-buckets-locked", REPLICA, (rs) =>
      set(replicaSetting(rs, "aws:s3/bucketVersioning:BucketVersioning"), { versioningConfiguration: { status: "Suspended" } }),
    /versioning is not enabled/);
  });

  it("replica-buckets-locked: no scratch-bucket exemption for a replica whose objects expire", async () => {
    await expectOnly("replica-buckets-locked", REPLICA, (rs) => {
      set(replicaSetting(rs, "aws:s3/bucketVersioning:BucketVersioning"), { versioningConfiguration: { status: "Suspended" } });
      set(replicaSetting(rs, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"), {
        rules: [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: 7 } }],
      });
    }, /versioning is not enabled/);
  });

  it("the bucket rules hold for replicas: public access and SSE-KMS", async () => {
    await expectOnly("buckets-block-public-access", REPLICA, (rs) =>
      set(replicaSetting(rs, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"), { blockPublicPolicy: false }),
    /blockPublicPolicy/);
    await expectOnly("buckets-encrypted-with-cmk", REPLICA, (rs) =>
      set(replicaSetting(rs, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"), {
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      }),
    );
  });

  it("replication-skips-delete-markers: a rule that replicates them, one that does not say, and a V1 rule without a filter", async () => {
    const edit = (patch: (r: any) => void) => (rs: CapturedResource[]) => {
      const rules = clone(rule(rs).inputs.rules);
      patch(rules[0]);
      set(rule(rs), { rules });
    };
    await expectOnly("replication-skips-delete-markers", `${REPLICA}-replication`, edit((r) => (r.deleteMarkerReplication = { status: "Enabled" })), /deleteMarkerReplication/);
    await expectOnly("replication-skips-delete-markers", `${REPLICA}-replication`, edit((r) => delete r.deleteMarkerReplication), /deleteMarkerReplication/);
    await expectOnly("replication-skips-delete-markers", `${REPLICA}-replication`, edit((r) => delete r.filter), /V1 rule that replicates delete markers/);
  });

  it("alarms-name-their-resource: a replication alarm without its DestinationBucket and RuleId", async () => {
    await expectOnly("alarms-name-their-resource", `${REPLICA}-alarms-replication-failed`, (rs) => {
      const a = find(rs, "aws:cloudwatch/metricAlarm:MetricAlarm", `${REPLICA}-alarms-replication-failed`);
      set(a, { dimensions: { SourceBucket: a.inputs.dimensions.SourceBucket } });
    }, /no DestinationBucket, RuleId dimensions/);
  });
});
