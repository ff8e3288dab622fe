/**
 * Security properties of the whole stack, checked on the stack files' own topologies under mocks:
 * encryption at rest everywhere, least-privilege policy documents, and layer isolation.
 */
import * as assert from "assert";
import { findPolicyViolations } from "../../../model/policies";
import { logsMayUseKey } from "../../helpers/key-policy-match";
import { ACCOUNT_ID, buildLake, LakeRun, policyOf, RecordedResource, stackTopology, TYPES } from "../../helpers/pulumi-mocks";

/** Every ARN written anywhere in a policy document (resources and condition values). */
const arnsIn = (doc: unknown): string[] => JSON.stringify(doc).match(/arn:[^"]+/g) ?? [];

for (const stack of ["dev", "prod"]) {
  describe(`security of the ${stack} stack`, function () {
    let run: LakeRun;
    before(async () => {
      run = await buildLake(stackTopology(stack), { stack });
    });

    const segments = () => run.ofType(TYPES.segment);
    const layerOf = (segment: RecordedResource) => {
      const layer = run.resources.find((r) => r.urn === segment.parent);
      assert.ok(layer && layer.type === TYPES.layer, `${segment.name} is not inside a layer`);
      return layer;
    };
    // The layer's own key (a layer with backed-up segments also holds its backup key, components/layer-backup.ts).
    const keyOf = (layer: RecordedResource) => run.get(TYPES.key, `${layer.name}-key`);
    const backedUp = () => run.config.segments.filter((s) => s.backup);
    const backupLayers = () => new Set(backedUp().map((s) => s.layer)).size;
    const under = (segment: RecordedResource, type: string) => run.only(segment, type);

    it("builds every segment of the topology", () => {
      assert.strictEqual(segments().length, run.config.segments.length);
      assert.ok(segments().length >= 3);
    });

    it("encrypts every stream, bucket, delivered object and log group with its own layer's key", () => {
      for (const segment of segments()) {
        const key = keyOf(layerOf(segment)).state.arn;
        const stream = under(segment, TYPES.stream).inputs;
        assert.deepStrictEqual([stream.encryptionType, stream.kmsKeyId], ["KMS", key], `${segment.name} stream`);
        const sse = under(segment, TYPES.encryption).inputs.rules[0].applyServerSideEncryptionByDefault;
        assert.deepStrictEqual(sse, { sseAlgorithm: "aws:kms", kmsMasterKeyId: key }, `${segment.name} bucket`);
        assert.strictEqual(under(segment, TYPES.firehose).inputs.extendedS3Configuration.kmsKeyArn, key, `${segment.name} objects`);
        assert.strictEqual(under(segment, TYPES.logGroup).inputs.kmsKeyId, key, `${segment.name} log group`);
      }
      // Every consumer group's lease table, with its segment's layer key.
      for (const segment of segments()) {
        const key = keyOf(layerOf(segment)).state.arn;
        for (const table of run.descendantsOf(segment).filter((r) => r.type === "aws:dynamodb/table:Table")) {
          assert.deepStrictEqual(table.inputs.serverSideEncryption, { enabled: true, kmsKeyArn: key }, `${table.name}`);
        }
      }
      assert.strictEqual(run.ofType("aws:dynamodb/table:Table").length, run.config.segments.reduce((n, s) => n + s.groups.length, 0));
      // Nothing encryptable exists outside the segments.
      assert.strictEqual(run.ofType(TYPES.stream).length, segments().length);
      // Plus the lake's Athena query results bucket, encrypted with a key of its own (components/query-workgroup.ts),
      // and a replica per backed-up segment, encrypted with its layer's backup key (tests/unit/infra/backup.test.ts).
      assert.strictEqual(run.ofType(TYPES.bucket).length, segments().length + 1 + backedUp().length);
      // Each processor (route) has its own log group and dead-letter queue, encrypted with its target layer's key.
      assert.strictEqual(run.ofType(TYPES.logGroup).length, segments().length + run.config.routes.length);
      for (const r of run.ofType(TYPES.route)) {
        const route = run.config.routes.find((c) => `route-${c.name}` === r.name)!;
        const targetKey = keyOf(run.get(TYPES.layer, route.to.split("/")[0])).state.arn;
        assert.strictEqual(run.only(r, TYPES.logGroup).inputs.kmsKeyId, targetKey, `${r.name} log group`);
        assert.strictEqual(run.only(r, TYPES.queue).inputs.kmsMasterKeyId, targetKey, `${r.name} dead-letter queue`);
      }
    });

    it("gives each layer its own rotating key, which no other layer uses", () => {
      const layers = run.ofType(TYPES.layer);
      // The lake's alarm topic has a key of its own (components/alerts.ts), in the backup region too; a layer
      // with backed-up segments has a backup key there; every other key is a layer's.
      const keys = run
        .ofType(TYPES.key)
        .filter((k) => !["alerts-key", "alerts-backup-region-key", "archive-query-results-key"].includes(k.name) && !k.name.endsWith("-backup-key"));
      assert.strictEqual(keys.length, layers.length);
      assert.strictEqual(new Set(keys.map((k) => k.state.arn)).size, keys.length);
      for (const layer of layers) {
        const key = keyOf(layer);
        assert.strictEqual(key.inputs.enableKeyRotation, true);
        assert.strictEqual(key.inputs.deletionWindowInDays, 30);
        assert.strictEqual(run.get(TYPES.alias, `${layer.name}-key-alias`).inputs.name, `alias/${run.lakeName}/${layer.name}`);
      }
      const keysBySegmentLayer = new Map<string, Set<string>>();
      for (const segment of segments()) {
        const layer = layerOf(segment).name;
        const used = keysBySegmentLayer.get(layer) ?? new Set<string>();
        used.add(under(segment, TYPES.stream).inputs.kmsKeyId);
        keysBySegmentLayer.set(layer, used);
      }
      const perLayer = [...keysBySegmentLayer.values()];
      assert.ok(perLayer.every((s) => s.size === 1), "a layer's segments use more than one key");
      assert.strictEqual(new Set(perLayer.map((s) => [...s][0])).size, perLayer.length, "two layers share a key");
    });

    it("passes the least-privilege scanner on every policy document of the stack", () => {
      const documents: { what: string; doc: unknown; isKeyPolicy: boolean }[] = [
        ...run.ofType(TYPES.policy).map((r) => ({ what: r.name, doc: policyOf(r), isKeyPolicy: false })),
        ...run.ofType(TYPES.rolePolicy).map((r) => ({ what: r.name, doc: policyOf(r), isKeyPolicy: false })),
        ...run.ofType(TYPES.role).map((r) => ({ what: `${r.name} trust`, doc: policyOf(r, "assumeRolePolicy"), isKeyPolicy: false })),
        ...run.ofType(TYPES.bucketPolicy).map((r) => ({ what: r.name, doc: policyOf(r), isKeyPolicy: false })),
        ...run.ofType(TYPES.key).map((r) => ({ what: r.name, doc: policyOf(r), isKeyPolicy: true })),
      ];
      const nSegments = segments().length;
      const nRoutes = run.config.routes.length;
      const nLayers = run.config.layers.length;
      // 2 managed policies, role + role policy + bucket policy per segment; role + policy per route; a key per
      // layer, and the alarm topic's key.
      // A reader policy per segment; the query results bucket's policy and key (components/table.ts, query-workgroup.ts).
      // A policy per declared enhanced fan-out consumer.
      const nConsumers = run.config.segments.reduce((n, s) => n + s.consumers.length, 0);
      // With a backup: a replication role (trust and permissions) and a backup key per layer with backed-up
      // segments, a bucket policy per replica, and the backup region's alarm topic key.
      const nBackup = 3 * backupLayers() + backedUp().length + (backedUp().length > 0 ? 1 : 0);
      // A worker policy per consumer group (components/consumer-group.ts).
      const nGroups = run.config.segments.reduce((n, s) => n + s.groups.length, 0);
      assert.strictEqual(documents.length, 6 * nSegments + 2 * nRoutes + nLayers + 1 + 2 + nConsumers + nBackup + nGroups);
      const problems = documents.flatMap(({ what, doc, isKeyPolicy }) =>
        findPolicyViolations(doc as never, { isKeyPolicy }).map((v) => `${what}: ${v.message}`),
      );
      assert.deepStrictEqual(problems, []);
    });

    it("lets every role be assumed only by its one AWS service, for this account only", () => {
      for (const role of run.ofType(TYPES.role)) {
        const trust = policyOf(role, "assumeRolePolicy");
        for (const s of trust.Statement) {
          assert.strictEqual(s.Effect, "Allow");
          assert.strictEqual(s.Action, "sts:AssumeRole");
          assert.ok(/^[a-z0-9]+\.amazonaws\.com$/.test(s.Principal.Service), `${role.name}: ${JSON.stringify(s.Principal)}`);
          // S3 replication roles use AWS's documented trust policy, which has no condition; no other account
          // can use the role, since naming it in a replication rule takes iam:PassRole in this account
          // (model/backup-policies.ts).
          if (s.Principal.Service === "s3.amazonaws.com") {
            assert.ok(role.name.endsWith("-backup-replication-role"), role.name);
            assert.strictEqual(s.Condition, undefined, role.name);
            continue;
          }
          // Firehose passes the account id as the external id (AWS: "Allow Firehose to assume an IAM role");
          // other services are pinned with aws:SourceAccount.
          const key = s.Principal.Service === "firehose.amazonaws.com" ? "sts:ExternalId" : "aws:SourceAccount";
          assert.deepStrictEqual(s.Condition, { StringEquals: { [key]: ACCOUNT_ID } }, role.name);
        }
      }
    });

    it("has IAM statements of a segment name only that segment's resources and its layer's key", () => {
      for (const segment of segments()) {
        const streamArn = under(segment, TYPES.stream).state.arn;
        const bucketArn = under(segment, TYPES.bucket).state.arn;
        const own = [streamArn, bucketArn, under(segment, TYPES.logStream).state.arn, keyOf(layerOf(segment)).state.arn];
        const policies = [
          ...run.childrenOf(segment).filter((r) => r.type === TYPES.policy),
          under(segment, TYPES.rolePolicy),
        ];
        assert.strictEqual(policies.length, 3);
        for (const p of policies) {
          const doc = policyOf(p);
          for (const arn of arnsIn(doc)) {
            assert.ok(
              own.some((o) => arn === o || arn === `${o}/*` || arn === `${o}/consumer/*`),
              `${p.name} names ${arn}, which is not ${segment.name}'s`,
            );
          }
          // And explicitly: nothing of any other segment or layer, not even by name.
          for (const other of segments().filter((s) => s !== segment)) {
            const foreign = [
              under(other, TYPES.stream).state.arn,
              under(other, TYPES.bucket).state.arn,
              under(other, TYPES.stream).inputs.name,
            ];
            if (layerOf(other) !== layerOf(segment)) foreign.push(keyOf(layerOf(other)).state.arn);
            const text = JSON.stringify(doc);
            for (const f of foreign) assert.ok(!text.includes(f), `${p.name} mentions ${f} of ${other.name}`);
          }
        }
      }
    });

    it("lets CloudWatch Logs use each layer key for exactly its own layer's log groups, with one bounded condition", () => {
      const allLogGroups = run.ofType(TYPES.logGroup).filter((g) => g.inputs.name.startsWith("/aws/kinesisfirehose/"));
      for (const layer of run.ofType(TYPES.layer)) {
        const doc = policyOf(keyOf(layer));
        const own = new Set(
          run
            .ofType(TYPES.segment)
            .filter((s) => s.parent === layer.urn)
            .map((s) => under(s, TYPES.logGroup).state.arn as string),
        );
        for (const group of allLogGroups) {
          assert.strictEqual(logsMayUseKey(doc as never, group.state.arn), own.has(group.state.arn), `${layer.name} key, log group ${group.state.arn}`);
        }
        // One name-space pattern for the layer, not one entry per segment (the key policy stays bounded).
        const firehoseLogs = doc.Statement.find((s: { Sid?: string }) => s.Sid === "AllowFirehoseLogGroupsOfThisLayer");
        assert.strictEqual(typeof firehoseLogs?.Condition?.ArnLike?.["kms:EncryptionContext:aws:logs:arn"], "string", layer.name);
      }
    });
  });
}

describe("layer isolation when one layer's name extends another's", function () {
  // Physical names are "<lake>-<layer>-<segment>", so a pattern such as "<lake>-ingest-*" would also
  // match every name of layer "ingest-raw". Key policies must list their own log groups exactly.
  let run: LakeRun;
  before(async () => {
    run = await buildLake({
      name: "iso",
      layers: { ingest: { segments: { persons: {} } }, "ingest-raw": { segments: { persons: {} } } },
    });
  });

  it("gives the ingest key no access for ingest-raw's log groups, and the reverse", () => {
    const policy = (layer: string) => JSON.parse(run.only(run.get(TYPES.layer, layer), TYPES.key).inputs.policy as string);
    const logGroupArn = (segment: string) => run.get(TYPES.logGroup, `${segment}-firehose-logs`).state.arn as string;
    assert.ok(logsMayUseKey(policy("ingest"), logGroupArn("ingest-persons")));
    assert.ok(!logsMayUseKey(policy("ingest"), logGroupArn("ingest-raw-persons")), "ingest's key serves ingest-raw's logs");
    assert.ok(logsMayUseKey(policy("ingest-raw"), logGroupArn("ingest-raw-persons")));
    assert.ok(!logsMayUseKey(policy("ingest-raw"), logGroupArn("ingest-persons")), "ingest-raw's key serves ingest's logs");
  });
});
