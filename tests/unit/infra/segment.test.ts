/**
 * One data segment's resources and their settings, under Pulumi mocks.
 */
import * as assert from "assert";
import { DEFAULTS } from "../../../model/config";
import { WIRE_TAP_LAYOUT } from "../../../model/naming";
import { ABORT_INCOMPLETE_UPLOADS_DAYS, NONCURRENT_VERSION_DAYS, WIRE_TAP_LOG_RETENTION_DAYS } from "../../../components/segment";
import { ACCOUNT_ID, buildLake, LakeRun, policyOf, RecordedResource, TYPES, valueOf } from "../../helpers/pulumi-mocks";

/** Values that differ from every default, so a segment that ignored its config would fail. */
const TOPOLOGY = {
  name: "unit",
  layers: {
    ingest: {
      segments: {
        persons: { shards: 3 },
        orders: { mode: "on-demand", retentionHours: 168, wireTap: { bufferSeconds: 60, bufferMiB: 5, compression: "ZIP" } },
      },
    },
    curated: { segments: { adults: {} } },
  },
};

describe("DataSegment", function () {
  let run: LakeRun;
  before(async () => {
    run = await buildLake(TOPOLOGY);
  });

  const segment = (logicalName: string) => run.get(TYPES.segment, logicalName);
  const under = (logicalName: string, type: string) => run.only(segment(logicalName), type);
  const layerKeyArn = (layer: string): string => run.only(run.get(TYPES.layer, layer), TYPES.key).state.arn;

  it("declares its children under itself, named after it, one component per AWS part", () => {
    for (const name of ["ingest-persons", "ingest-orders", "curated-adults"]) {
      const descendants = run.descendantsOf(segment(name));
      assert.ok(descendants.length >= 17, `${name} has ${descendants.length} descendants`);
      for (const c of descendants) assert.ok(c.name.startsWith(`${name}-`), `${c.name} is not named after ${name}`);
      const parts = run.childrenOf(segment(name)).filter((c) => !c.custom).map((c) => `${c.type} ${c.name}`);
      // One component per AWS part of the segment (others, such as its archive table, may sit beside them).
      for (const part of [`${TYPES.bucketPart} ${name}-bucket`, `${TYPES.streamPart} ${name}-stream`, `${TYPES.wireTap} ${name}-firehose`]) {
        assert.ok(parts.includes(part), `${name} has no ${part}`);
      }
      for (const part of run.childrenOf(segment(name)).filter((c) => !c.custom)) {
        for (const c of run.childrenOf(part)) assert.ok(c.name === part.name || c.name.startsWith(`${part.name}-`), c.name);
      }
      const types = new Set(descendants.map((c) => c.type));
      for (const t of [TYPES.stream, TYPES.firehose, TYPES.bucket, TYPES.logGroup, TYPES.role, TYPES.rolePolicy, TYPES.policy]) {
        assert.ok(types.has(t), `${name} has no ${t}`);
      }
    }
  });

  describe("stream", () => {
    it("is provisioned with the configured shards and the default retention", () => {
      const s = under("ingest-persons", TYPES.stream).inputs;
      assert.strictEqual(s.name, "unit-ingest-persons");
      assert.strictEqual(s.shardCount, 3);
      assert.deepStrictEqual(s.streamModeDetails, { streamMode: "PROVISIONED" });
      assert.strictEqual(s.retentionPeriod, DEFAULTS.retentionHours);
    });

    it("is on-demand without a shard count, with the configured retention", () => {
      const s = under("ingest-orders", TYPES.stream).inputs;
      assert.strictEqual(s.shardCount, undefined);
      assert.deepStrictEqual(s.streamModeDetails, { streamMode: "ON_DEMAND" });
      assert.strictEqual(s.retentionPeriod, 168);
    });

    it("is encrypted with its layer's key", () => {
      for (const [seg, layer] of [["ingest-persons", "ingest"], ["ingest-orders", "ingest"], ["curated-adults", "curated"]]) {
        const s = under(seg, TYPES.stream).inputs;
        assert.strictEqual(s.encryptionType, "KMS");
        assert.strictEqual(s.kmsKeyId, layerKeyArn(layer), seg);
      }
    });
  });

  describe("wire-tap (Firehose)", () => {
    const firehose = (seg: string) => under(seg, TYPES.firehose);

    it("reads this segment's stream with this segment's role", () => {
      const f = firehose("ingest-orders").inputs;
      const role = under("ingest-orders", TYPES.role).state.arn;
      assert.strictEqual(f.name, "unit-ingest-orders");
      assert.deepStrictEqual(f.kinesisSourceConfiguration, {
        kinesisStreamArn: under("ingest-orders", TYPES.stream).state.arn,
        roleArn: role,
      });
    });

    it("writes to this segment's bucket, encrypted with the layer key, in the shared object layout", () => {
      const f = firehose("ingest-orders").inputs;
      assert.strictEqual(f.destination, "extended_s3");
      const s3 = f.extendedS3Configuration;
      assert.strictEqual(s3.bucketArn, under("ingest-orders", TYPES.bucket).state.arn);
      assert.strictEqual(s3.roleArn, under("ingest-orders", TYPES.role).state.arn);
      assert.strictEqual(s3.kmsKeyArn, layerKeyArn("ingest"));
      assert.strictEqual(s3.prefix, WIRE_TAP_LAYOUT.prefix);
      assert.strictEqual(s3.errorOutputPrefix, WIRE_TAP_LAYOUT.errorOutputPrefix);
    });

    it("buffers and compresses as configured", () => {
      const s3 = firehose("ingest-orders").inputs.extendedS3Configuration;
      assert.deepStrictEqual([s3.bufferingInterval, s3.bufferingSize, s3.compressionFormat], [60, 5, "ZIP"]);
    });

    it("buffers and compresses with the defaults when the config says nothing", () => {
      const s3 = firehose("ingest-persons").inputs.extendedS3Configuration;
      assert.deepStrictEqual(
        [s3.bufferingInterval, s3.bufferingSize, s3.compressionFormat],
        [DEFAULTS.bufferSeconds, DEFAULTS.bufferMiB, DEFAULTS.compression],
      );
    });

    it("logs delivery errors to its own encrypted log group and stream", () => {
      const group = under("ingest-orders", TYPES.logGroup).inputs;
      const stream = under("ingest-orders", TYPES.logStream).inputs;
      assert.strictEqual(group.name, "/aws/kinesisfirehose/unit-ingest-orders");
      assert.strictEqual(group.retentionInDays, WIRE_TAP_LOG_RETENTION_DAYS);
      assert.strictEqual(WIRE_TAP_LOG_RETENTION_DAYS, 30);
      assert.strictEqual(group.kmsKeyId, layerKeyArn("ingest"));
      assert.strictEqual(stream.logGroupName, group.name);
      assert.deepStrictEqual(firehose("ingest-orders").inputs.extendedS3Configuration.cloudwatchLoggingOptions, {
        enabled: true,
        logGroupName: group.name,
        logStreamName: stream.name,
      });
    });

    it("is created only after its role policy (IAM propagation) and its log stream", () => {
      const deps = firehose("ingest-persons").dependencies;
      assert.ok(deps.includes(under("ingest-persons", TYPES.rolePolicy).urn), "no dependency on the role policy");
      assert.ok(deps.includes(under("ingest-persons", TYPES.logStream).urn), "no dependency on the log stream");
    });

    it("has a role only Firehose can assume, with this segment's permissions attached", () => {
      const role = under("ingest-persons", TYPES.role);
      assert.strictEqual(role.inputs.name, "unit-ingest-persons-firehose");
      const trust = policyOf(role, "assumeRolePolicy");
      assert.deepStrictEqual(trust.Statement.map((s: { Principal: unknown }) => s.Principal), [{ Service: "firehose.amazonaws.com" }]);
      const rolePolicy = under("ingest-persons", TYPES.rolePolicy);
      assert.strictEqual(rolePolicy.inputs.role, role.id);
      const text = JSON.stringify(policyOf(rolePolicy));
      for (const arn of [
        under("ingest-persons", TYPES.stream).state.arn,
        under("ingest-persons", TYPES.bucket).state.arn,
        under("ingest-persons", TYPES.logStream).state.arn,
        layerKeyArn("ingest"),
      ]) {
        assert.ok(text.includes(arn), `role policy does not name ${arn}`);
      }
    });
  });

  describe("bucket", () => {
    const bucketPart = (seg: string, type: string): RecordedResource => {
      const part = under(seg, type);
      assert.strictEqual(part.inputs.bucket, under(seg, TYPES.bucket).id, `${type} is not attached to ${seg}'s bucket`);
      return part;
    };

    it("is named after lake, layer, segment and account", () => {
      assert.strictEqual(under("ingest-persons", TYPES.bucket).inputs.bucket, `unit-ingest-persons-${ACCOUNT_ID}`);
    });

    it("blocks every kind of public access", () => {
      const p = bucketPart("ingest-persons", TYPES.publicAccessBlock).inputs;
      assert.deepStrictEqual(
        [p.blockPublicAcls, p.blockPublicPolicy, p.ignorePublicAcls, p.restrictPublicBuckets],
        [true, true, true, true],
      );
    });

    it("disables ACLs (bucket owner enforced)", () => {
      assert.deepStrictEqual(bucketPart("ingest-persons", TYPES.ownership).inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
    });

    it("encrypts by default with SSE-KMS under the layer key, with a bucket key", () => {
      for (const [seg, layer] of [["ingest-persons", "ingest"], ["curated-adults", "curated"]]) {
        const rules = bucketPart(seg, TYPES.encryption).inputs.rules;
        assert.deepStrictEqual(rules, [
          { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: layerKeyArn(layer) }, bucketKeyEnabled: true },
        ]);
      }
    });

    it("is versioned (backup and replay)", () => {
      assert.deepStrictEqual(bucketPart("ingest-persons", TYPES.versioning).inputs.versioningConfiguration, { status: "Enabled" });
    });

    it("aborts stale multipart uploads and expires old versions, after versioning is on", () => {
      const lifecycle = bucketPart("ingest-persons", TYPES.lifecycle);
      const rules = lifecycle.inputs.rules as Record<string, unknown>[];
      const abort = rules.find((r) => r.abortIncompleteMultipartUpload);
      const expire = rules.find((r) => r.noncurrentVersionExpiration);
      assert.deepStrictEqual(abort?.abortIncompleteMultipartUpload, { daysAfterInitiation: ABORT_INCOMPLETE_UPLOADS_DAYS });
      assert.deepStrictEqual(expire?.noncurrentVersionExpiration, { noncurrentDays: NONCURRENT_VERSION_DAYS });
      assert.deepStrictEqual([ABORT_INCOMPLETE_UPLOADS_DAYS, NONCURRENT_VERSION_DAYS], [7, 30]);
      for (const r of rules) {
        assert.strictEqual(r.status, "Enabled");
        assert.deepStrictEqual(r.filter, {}, "a rule without an explicit empty filter is ambiguous to S3");
      }
      assert.ok(lifecycle.dependencies.includes(under("ingest-persons", TYPES.versioning).urn));
    });

    it("accepts TLS requests only", () => {
      const arn = under("ingest-persons", TYPES.bucket).state.arn;
      const policy = policyOf(bucketPart("ingest-persons", TYPES.bucketPolicy));
      const deny = policy.Statement.find(
        (s: { Effect: string; Condition?: { Bool?: Record<string, string> } }) =>
          s.Effect === "Deny" && s.Condition?.Bool?.["aws:SecureTransport"] === "false",
      );
      assert.ok(deny, "no Deny on aws:SecureTransport=false");
      assert.strictEqual(deny.Principal, "*");
      assert.strictEqual(deny.Action, "s3:*");
      assert.deepStrictEqual(deny.Resource, [arn, `${arn}/*`]);
    });
  });

  describe("access policies", () => {
    it("offers a producer and a consumer policy for this stream", () => {
      const policies = run.descendantsOf(segment("ingest-orders")).filter((r) => r.type === TYPES.policy);
      const byName = Object.fromEntries(policies.map((p) => [p.inputs.name, policyOf(p)]));
      assert.deepStrictEqual(Object.keys(byName).sort(), ["unit-ingest-orders-consumer", "unit-ingest-orders-producer", "unit-ingest-orders-reader"]);
      const streamArn = under("ingest-orders", TYPES.stream).state.arn;
      const actions = (doc: { Statement: { Action: string | string[] }[] }) => doc.Statement.flatMap((s) => s.Action);
      assert.ok(actions(byName["unit-ingest-orders-producer"]).includes("kinesis:PutRecords"));
      assert.ok(actions(byName["unit-ingest-orders-consumer"]).includes("kinesis:GetRecords"));
      for (const name of ["unit-ingest-orders-consumer", "unit-ingest-orders-producer"]) assert.ok(JSON.stringify(byName[name]).includes(streamArn));
    });
  });

  describe("outputs", () => {
    it("exposes the endpoints of the resources it created", async () => {
      const seg = run.lake.layers.ingest.segments.orders;
      const resource = (type: string) => under("ingest-orders", type);
      assert.strictEqual(seg.address, "ingest/orders");
      assert.strictEqual(await valueOf(seg.streamName), resource(TYPES.stream).inputs.name);
      assert.strictEqual(await valueOf(seg.streamArn), resource(TYPES.stream).state.arn);
      assert.strictEqual(await valueOf(seg.deliveryStreamName), resource(TYPES.firehose).inputs.name);
      assert.strictEqual(await valueOf(seg.deliveryStreamArn), resource(TYPES.firehose).state.arn);
      assert.strictEqual(await valueOf(seg.bucketName), resource(TYPES.bucket).inputs.bucket);
      assert.strictEqual(await valueOf(seg.bucketArn), resource(TYPES.bucket).state.arn);
      assert.strictEqual(await valueOf(seg.kmsKeyArn), layerKeyArn("ingest"));
      const policies = run.descendantsOf(segment("ingest-orders")).filter((r) => r.type === TYPES.policy);
      const arnOf = (suffix: string) => policies.find((p) => p.inputs.name.endsWith(suffix))?.state.arn;
      assert.strictEqual(await valueOf(seg.producerPolicyArn), arnOf("-producer"));
      assert.strictEqual(await valueOf(seg.consumerPolicyArn), arnOf("-consumer"));
    });
  });
});
