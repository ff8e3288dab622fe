/**
 * The lake's backup under mocks (issue 20), on the prod stack, which turns it on: every backed-up segment's
 * bucket replicates to a replica in the backup region with the source's guards plus Object Lock, delete
 * markers stay out, the replication role passes the least-privilege scanner and reaches its own layer only,
 * and removing the backup (or a segment) keeps replicas and keys.
 */
import * as assert from "assert";
import { findPolicyViolations } from "../../../model/policies";
import { deniesInsecureTransport } from "../../../policy/rules";
import { buildLake, clone, LakeRun, policyOf, RecordedResource, stackTopology, TYPES } from "../../helpers/pulumi-mocks";

const T = {
  ...TYPES,
  provider: "pulumi:providers:aws",
  replica: "datalake:lake:Replica",
  layerBackup: "datalake:lake:LayerBackup",
  objectLock: "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
  replication: "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  topic: "aws:sns/topic:Topic",
};
const BACKUP_REGION = "eu-central-1";
/** What a replica is made of, besides the bucket: the source bucket's guards plus Object Lock. */
const GUARDS = [T.publicAccessBlock, T.ownership, T.encryption, T.versioning, T.objectLock, T.lifecycle, T.bucketPolicy];

type Raw = { layers: Record<string, { segments: Record<string, Record<string, unknown>> }>; backup?: unknown; routes?: unknown[] };

/** Resources of `before` that `after` no longer declares (Pulumi deletes them, or only forgets retained ones). */
const goneIn = (before: LakeRun, after: LakeRun): RecordedResource[] => {
  const kept = new Set(after.resources.map((r) => r.urn));
  return before.resources.filter((r) => !kept.has(r.urn));
};

describe("backup: replicas in the backup region (prod stack)", function () {
  this.timeout(120_000);
  const prod = () => clone(stackTopology("prod")) as Raw;
  let run: LakeRun;
  before(async () => {
    run = await buildLake(prod(), { stack: "prod" });
  });

  const backupProvider = () => {
    const providers = run.ofType(T.provider).filter((p) => p.name === `${run.lakeName}-backup`);
    assert.strictEqual(providers.length, 1, "one provider for the backup region, named from the lake");
    return providers[0];
  };
  const inBackupRegion = (r: RecordedResource) => r.provider !== undefined && r.provider.includes(`::${backupProvider().name}::`);
  const replicaOf = (address: string) => run.get(T.replica, `${address.replace("/", "-")}-replica`);
  const source = (address: string) => run.only(run.get(TYPES.segment, address.replace("/", "-")), TYPES.bucket);
  const backupKey = (layer: string) => run.get(TYPES.key, `${layer}-backup-key`);

  it("has a second AWS provider, for the backup region, named from the lake", () => {
    assert.strictEqual(backupProvider().inputs.region, BACKUP_REGION);
  });

  it("gives every backed-up segment a replica bucket in the backup region, with the source's guards and Object Lock", () => {
    assert.strictEqual(run.ofType(T.replica).length, run.config.segments.length);
    for (const segment of run.config.segments) {
      const replica = replicaOf(segment.address);
      const bucket = run.only(replica, TYPES.bucket);
      assert.strictEqual(bucket.inputs.bucket, `${source(segment.address).inputs.bucket}-backup`);
      assert.strictEqual(bucket.inputs.objectLockEnabled, true, "Object Lock is on from creation");
      const guard = (type: string) => run.only(replica, type);
      for (const r of [bucket, ...GUARDS.map(guard)]) {
        assert.ok(inBackupRegion(r), `${r.type} ${r.name} is not in the backup region`);
        if (r !== bucket) assert.strictEqual(r.inputs.bucket, bucket.inputs.bucket, `${r.name} guards another bucket`);
      }
      const pab = guard(T.publicAccessBlock).inputs;
      assert.deepStrictEqual([pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets], [true, true, true, true]);
      assert.strictEqual(guard(T.ownership).inputs.rule.objectOwnership, "BucketOwnerEnforced");
      const sse = guard(T.encryption).inputs.rules[0];
      assert.deepStrictEqual(sse.applyServerSideEncryptionByDefault, { sseAlgorithm: "aws:kms", kmsMasterKeyId: backupKey(segment.layer).state.arn });
      assert.match(backupKey(segment.layer).state.arn, new RegExp(`^arn:aws:kms:${BACKUP_REGION}:`), "the replicas' key lives in the backup region");
      assert.strictEqual(guard(T.versioning).inputs.versioningConfiguration.status, "Enabled");
      assert.deepStrictEqual(guard(T.objectLock).inputs.rule, { defaultRetention: { mode: "COMPLIANCE", days: 30 } });
      const noncurrent = guard(T.lifecycle).inputs.rules.find((rule: { id: string }) => rule.id === "expire-noncurrent-versions");
      assert.deepStrictEqual(noncurrent.noncurrentVersionExpiration, { noncurrentDays: 30 });
      assert.ok(deniesInsecureTransport(policyOf(guard(T.bucketPolicy)), bucket.state.arn), "TLS only");
    }
  });

  it("replicates each source bucket's archive to its replica: SSE-KMS objects included, delete markers never, with metrics", () => {
    for (const segment of run.config.segments) {
      const replica = replicaOf(segment.address);
      const config = run.only(replica, T.replication);
      assert.ok(!inBackupRegion(config), "the replication configuration belongs to the source bucket's region");
      assert.strictEqual(config.inputs.bucket, source(segment.address).inputs.bucket);
      assert.strictEqual(config.inputs.role, run.get(TYPES.role, `${segment.layer}-backup-replication-role`).state.arn);
      assert.deepStrictEqual(config.inputs.rules, [
        {
          id: "backup",
          status: "Enabled",
          priority: 1,
          filter: { prefix: "data/" },
          deleteMarkerReplication: { status: "Disabled" },
          sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } },
          destination: {
            bucket: run.only(replica, TYPES.bucket).state.arn,
            encryptionConfiguration: { replicaKmsKeyId: backupKey(segment.layer).state.arn },
            metrics: { status: "Enabled" },
          },
        },
      ]);
      // Replication waits for versioning at both ends, for the replica's lock and for the role's permissions.
      for (const needed of [
        run.only(run.get(TYPES.segment, segment.address.replace("/", "-")), TYPES.versioning),
        run.only(replica, T.versioning),
        run.only(replica, T.objectLock),
        run.get(TYPES.rolePolicy, `${segment.layer}-backup-replication-policy`),
      ]) {
        assert.ok(config.dependencies.includes(needed.urn), `replication does not wait for ${needed.name}`);
      }
    }
  });

  it("turns on Replication Time Control (and its event threshold) only when asked", async () => {
    const raw = prod();
    raw.backup = { region: BACKUP_REGION, timeControl: true };
    const rtc = await buildLake(raw, { stack: "prod" });
    const destination = rtc.get(T.replication, "ingest-persons-replica-replication").inputs.rules[0].destination;
    assert.deepStrictEqual(destination.replicationTime, { status: "Enabled", time: { minutes: 15 } });
    assert.deepStrictEqual(destination.metrics, { status: "Enabled", eventThreshold: { minutes: 15 } });
  });

  it("gives each layer one replication role whose policy passes the scanner and names only that layer's buckets and keys", () => {
    for (const layer of run.config.layers) {
      const role = run.get(TYPES.role, `${layer.name}-backup-replication-role`);
      const policy = policyOf(run.get(TYPES.rolePolicy, `${layer.name}-backup-replication-policy`));
      assert.deepStrictEqual(findPolicyViolations(policy as never), []);
      assert.deepStrictEqual(findPolicyViolations(policyOf(role, "assumeRolePolicy") as never), []);
      assert.deepStrictEqual(findPolicyViolations(policyOf(backupKey(layer.name)) as never, { isKeyPolicy: true }), []);
      const sources = layer.segments.map((s) => source(s.address).state.arn as string).sort();
      const replicas = layer.segments.map((s) => run.only(replicaOf(s.address), TYPES.bucket).state.arn as string).sort();
      const statement = (sid: string) => policy.Statement.find((s: { Sid: string }) => s.Sid === sid);
      assert.deepStrictEqual(statement("ReadSourceBucketConfiguration").Resource, sources);
      assert.deepStrictEqual(statement("ReadSourceObjectsForReplication").Resource, sources.map((a) => `${a}/*`));
      assert.deepStrictEqual(statement("WriteReplicas").Resource, replicas.map((a) => `${a}/*`));
      // Replicas only: no delete of any kind reaches the backup.
      const actions = policy.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
      assert.ok(!actions.includes("s3:ReplicateDelete") && !actions.some((a: string) => /Delete/.test(a)), actions.join(", "));
      // Keys: decrypt the layer's key through S3 of the stack's region, encrypt with the backup key through S3 of the backup region.
      const decrypt = statement("DecryptSourceObjects");
      assert.strictEqual(decrypt.Resource, run.get(TYPES.key, `${layer.name}-key`).state.arn);
      assert.deepStrictEqual(decrypt.Condition.StringEquals, { "kms:ViaService": "s3.eu-west-1.amazonaws.com" });
      assert.deepStrictEqual(decrypt.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"], sources.flatMap((a) => [a, `${a}/*`]).sort());
      const encrypt = statement("EncryptReplicas");
      assert.strictEqual(encrypt.Resource, backupKey(layer.name).state.arn);
      assert.deepStrictEqual(encrypt.Condition.StringEquals, { "kms:ViaService": `s3.${BACKUP_REGION}.amazonaws.com` });
      assert.deepStrictEqual(encrypt.Condition.StringLike["kms:EncryptionContext:aws:s3:arn"], replicas.flatMap((a) => [a, `${a}/*`]).sort());
      // Nothing of another layer, by ARN or by name.
      const text = JSON.stringify(policy) + JSON.stringify(policyOf(backupKey(layer.name)));
      for (const other of run.config.segments.filter((s) => s.layer !== layer.name)) {
        assert.ok(!text.includes(source(other.address).inputs.bucket), `${layer.name}'s backup names ${other.address}`);
      }
      // The backup key lets that role, and only it, use the key for those replicas.
      const keyStatement = policyOf(backupKey(layer.name)).Statement.find((s: { Sid: string }) => s.Sid === "AllowReplicationRoleForReplicas");
      assert.deepStrictEqual(keyStatement.Principal, { AWS: role.state.arn });
      assert.deepStrictEqual(keyStatement.Condition, encrypt.Condition);
    }
  });

  it("names each segment's replica in the catalog", () => {
    for (const segment of run.config.segments) {
      const entry = run.catalog[segment.address];
      assert.deepStrictEqual(entry.backup, {
        bucketName: run.only(replicaOf(segment.address), TYPES.bucket).state.bucket,
        region: BACKUP_REGION,
        kmsKeyArn: backupKey(segment.layer).state.arn,
      });
    }
  });

  it("alarms on failed replications in the stack's region and on latency in the backup region, each on that region's alarm topic", () => {
    const topics = run.ofType(T.topic);
    const lakeTopic = topics.find((t) => !inBackupRegion(t))!;
    const backupTopic = topics.find((t) => inBackupRegion(t))!;
    assert.ok(lakeTopic && backupTopic, "an alarm topic in each region");
    assert.strictEqual(backupTopic.inputs.name, lakeTopic.inputs.name);
    for (const segment of run.config.segments) {
      const alarms = run.descendantsOf(replicaOf(segment.address)).filter((r) => r.type === T.alarm);
      const failed = alarms.find((a) => a.inputs.metricName === "OperationsFailedReplication")!;
      const latency = alarms.find((a) => a.inputs.metricName === "ReplicationLatency")!;
      assert.ok(failed && latency && alarms.length === 2, `${segment.address}: ${alarms.map((a) => a.name).join(", ")}`);
      const dimensions = {
        SourceBucket: source(segment.address).inputs.bucket,
        DestinationBucket: run.only(replicaOf(segment.address), TYPES.bucket).inputs.bucket,
        RuleId: "backup",
      };
      for (const a of [failed, latency]) assert.deepStrictEqual([a.inputs.namespace, a.inputs.dimensions], ["AWS/S3", dimensions]);
      assert.ok(!inBackupRegion(failed) && inBackupRegion(latency));
      assert.deepStrictEqual(failed.inputs.alarmActions, [lakeTopic.state.arn]);
      assert.deepStrictEqual(latency.inputs.alarmActions, [backupTopic.state.arn]);
      assert.strictEqual(latency.inputs.threshold, 3600);
    }
  });

  it("draws each backed-up segment's replication on the lake's dashboard, latency and pending in the backup region", () => {
    const body = JSON.parse(run.get("aws:cloudwatch/dashboard:Dashboard", "dashboard-dashboard").inputs.dashboardBody);
    const latency = body.widgets.filter((w: { properties: { title?: string } }) => /backup latency/.test(w.properties.title ?? ""));
    assert.strictEqual(latency.length, run.config.segments.length);
    for (const w of latency) assert.strictEqual(w.properties.region, BACKUP_REGION);
    const failed = body.widgets.filter((w: { properties: { title?: string } }) => /backup, failed replications/.test(w.properties.title ?? ""));
    for (const w of failed) assert.strictEqual(w.properties.region, "eu-west-1");
  });

  it("marks replica buckets, their guards, backup keys and aliases retainOnDelete, and nothing else of the backup", () => {
    const backupTree = run.ofType(T.layerBackup).flatMap((l) => run.descendantsOf(l));
    const persistent = backupTree.filter((r) => [TYPES.bucket, ...GUARDS, TYPES.key, TYPES.alias].includes(r.type));
    assert.strictEqual(persistent.length, run.config.segments.length * (1 + GUARDS.length) + 2 * run.config.layers.length);
    assert.deepStrictEqual(persistent.filter((r) => !r.retainOnDelete).map((r) => r.name), []);
    const rest = backupTree.filter((r) => r.custom && !persistent.includes(r));
    assert.deepStrictEqual(rest.filter((r) => r.retainOnDelete).map((r) => r.name), [], "roles, policies, replication and alarms go");
  });

  it("removing the backup from the config keeps every replica bucket, guard and backup key in AWS", async () => {
    const raw = prod();
    delete raw.backup;
    const off = await buildLake(raw, { stack: "prod" });
    const gone = goneIn(run, off);
    assert.deepStrictEqual(off.ofType(T.replica), []);
    assert.ok(gone.some((r) => r.type === T.replication), "replication stops");
    // The backup region's alarm topic and its key hold no data: they go. Everything else persistent stays.
    const kept = gone.filter((r) => [TYPES.bucket, ...GUARDS, TYPES.key, TYPES.alias].includes(r.type) && !r.name.startsWith("alerts-backup-region"));
    assert.strictEqual(kept.length, run.config.segments.length * (1 + GUARDS.length) + 2 * run.config.layers.length);
    assert.deepStrictEqual(kept.filter((r) => !r.retainOnDelete).map((r) => `${r.type} ${r.name}`), [], "would be deleted from AWS");
    // Nothing of the segments themselves changes: their buckets, keys and streams keep their URNs.
    const before = new Set(off.resources.map((r) => r.urn));
    for (const r of run.resources.filter((x) => x.type === TYPES.bucket && !x.name.endsWith("-replica"))) assert.ok(before.has(r.urn), r.name);
  });

  it("backup: false on a segment leaves it out, and touches no other segment's replica", async () => {
    const raw = prod();
    raw.layers.ingest.segments.orders = { ...raw.layers.ingest.segments.orders, backup: false };
    const less = await buildLake(raw, { stack: "prod" });
    assert.deepStrictEqual(less.ofType(T.replica).map((r) => r.name).sort(), ["curated-adults-replica", "curated-order-stats-replica", "ingest-persons-replica"]);
    const gone = goneIn(run, less);
    assert.ok(gone.every((r) => r.name.startsWith("ingest-orders-replica")), gone.map((r) => r.name).join(", "));
    assert.deepStrictEqual(gone.filter((r) => [TYPES.bucket, ...GUARDS].includes(r.type) && !r.retainOnDelete).map((r) => r.name), []);
    // The ingest role no longer reads orders' bucket.
    const policy = JSON.stringify(policyOf(less.get(TYPES.rolePolicy, "ingest-backup-replication-policy")));
    assert.ok(!policy.includes("ingest-orders"), policy);
  });

  it("without a backup (the dev stack) declares no provider, replica, role or alarm of it", async () => {
    const dev = await buildLake(stackTopology("dev"), { stack: "dev" });
    assert.deepStrictEqual(dev.ofType(T.provider).filter((p) => p.name.endsWith("-backup")), []);
    assert.deepStrictEqual([...dev.ofType(T.replica), ...dev.ofType(T.layerBackup), ...dev.ofType(T.replication)], []);
    assert.ok(Object.values(dev.catalog).every((e) => e.backup === undefined));
  });
});
