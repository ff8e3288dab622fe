/**
 * Issue 7 under Pulumi mocks: removal never deletes or weakens persisted data or its key, the wire-tap
 * waits for the bucket's settings, partition-derived names, enhanced fan-out consumers, and cross-account
 * sharing with policies that name only their own segment's stream, consumer and key.
 */
import * as assert from "assert";
import { findPolicyViolations } from "../../../model/policies";
import { ACCOUNT_ID, buildLake, clone, LakeRun, policyOf, RecordedResource, stackTopology, TYPES } from "../../helpers/pulumi-mocks";

/** Everything that holds or guards persisted data, or decrypts it. */
const PERSISTENCE_TYPES = [
  TYPES.bucket,
  TYPES.publicAccessBlock,
  TYPES.ownership,
  TYPES.encryption,
  TYPES.versioning,
  TYPES.lifecycle,
  TYPES.bucketPolicy,
  TYPES.key,
  TYPES.alias,
];

type Raw = { name?: string; layers: Record<string, { segments: Record<string, Record<string, unknown>> }>; routes?: unknown[] };

/** Custom resources whose URN is in `before` but not in `after`: what `pulumi up` would delete. */
function deletedBy(before: LakeRun, after: LakeRun): RecordedResource[] {
  const kept = new Set(after.resources.map((r) => r.urn));
  return before.resources.filter((r) => r.custom && !kept.has(r.urn));
}

describe("removing a segment or a layer (issue 7.1)", function () {
  this.timeout(120_000);
  const dev = () => clone(stackTopology("dev")) as Raw;
  let base: LakeRun;
  before(async () => {
    base = await buildLake(dev(), { stack: "dev" });
  });

  it("marks every bucket, every bucket guard and every layer key and alias retainOnDelete", () => {
    for (const type of PERSISTENCE_TYPES) {
      const found = base.ofType(type).filter((r) => r.name.startsWith("ingest-") || r.name.startsWith("curated-"));
      assert.ok(found.length > 0, `no ${type}`);
      for (const r of found) assert.strictEqual(r.retainOnDelete, true, `${type} ${r.name} is not retainOnDelete`);
    }
    // Exactly the persistence resources: streams, roles and policies are really deleted on removal.
    for (const type of [TYPES.stream, TYPES.firehose, TYPES.role, TYPES.policy]) {
      for (const r of base.ofType(type)) assert.strictEqual(r.retainOnDelete, false, `${type} ${r.name}`);
    }
  });

  it("removing a segment deletes no bucket, no bucket guard and no key", async () => {
    const raw = dev();
    delete raw.layers.ingest.segments.orders;
    raw.routes = (raw.routes ?? []).filter((r) => !JSON.stringify(r).includes("ingest/orders"));
    const shrunk = await buildLake(raw, { stack: "dev" });
    const gone = deletedBy(base, shrunk);
    const persistence = gone.filter((r) => PERSISTENCE_TYPES.includes(r.type as never));
    assert.deepStrictEqual(
      persistence.map((r) => r.type).sort(),
      [TYPES.bucket, TYPES.bucketPolicy, TYPES.encryption, TYPES.lifecycle, TYPES.ownership, TYPES.publicAccessBlock, TYPES.versioning].sort(),
    );
    const really = persistence.filter((r) => !r.retainOnDelete).map((r) => `${r.type} ${r.name}`);
    assert.deepStrictEqual(really, [], "would be deleted from AWS");
    assert.ok(gone.some((r) => r.type === TYPES.stream), "the stream itself does go");
  });

  it("removing a layer deletes neither its buckets and their guards nor its key and alias", async () => {
    const raw = dev();
    delete raw.layers.curated;
    raw.routes = (raw.routes ?? []).filter((r) => !JSON.stringify(r).includes("curated/"));
    const shrunk = await buildLake(raw, { stack: "dev" });
    const gone = deletedBy(base, shrunk).filter((r) => PERSISTENCE_TYPES.includes(r.type as never));
    assert.ok(gone.some((r) => r.type === TYPES.key) && gone.some((r) => r.type === TYPES.alias) && gone.some((r) => r.type === TYPES.bucket));
    assert.deepStrictEqual(gone.filter((r) => !r.retainOnDelete).map((r) => `${r.type} ${r.name}`), []);
  });
});

describe("the wire-tap waits for the bucket (issue 7.3)", function () {
  let run: LakeRun;
  before(async () => {
    run = await buildLake({ name: "wt", layers: { ingest: { segments: { persons: {} } } } });
  });

  it("creates the delivery stream only after the bucket's encryption and versioning", () => {
    const deps = run.get(TYPES.firehose, "ingest-persons-firehose").dependencies;
    assert.ok(deps.includes(run.get(TYPES.encryption, "ingest-persons-bucket-encryption").urn), "no dependency on encryption");
    assert.ok(deps.includes(run.get(TYPES.versioning, "ingest-persons-bucket-versioning").urn), "no dependency on versioning");
  });

  it("has a trust policy with the account id as sts:ExternalId", () => {
    const trust = policyOf(run.get(TYPES.role, "ingest-persons-firehose-role"), "assumeRolePolicy");
    assert.deepStrictEqual(trust.Statement[0].Condition, { StringEquals: { "sts:ExternalId": ACCOUNT_ID } });
  });
});

describe("names from the partition (issue 7.6)", function () {
  this.timeout(60_000);
  let run: LakeRun;
  before(async () => {
    run = await buildLake({ name: "cn", layers: { ingest: { segments: { persons: { consumers: ["model"] } } } } }, { partition: "aws-cn" });
  });

  /** The documents of the segment parts and layer keys (issue 7's components; routes and archive tables are issues 8 and 9). */
  const documents = (r: LakeRun) => {
    const owned = r.ofType(TYPES.segment).flatMap((s) => r.descendantsOf(s)).filter((x) => !x.type.startsWith("datalake:lake:Archive"));
    const inParts = owned.filter((x) => !r.resources.some((p) => p.urn === x.parent && p.type.startsWith("datalake:lake:Archive")));
    return [
      ...inParts.filter((p) => p.type === TYPES.policy || p.type === TYPES.rolePolicy).map((p) => policyOf(p)),
      ...r.ofType(TYPES.layer).map((l) => policyOf(r.only(l, TYPES.key))),
    ];
  };

  it("uses amazonaws.com.cn in every kms:ViaService and in CloudWatch Logs' principal, and aws-cn ARNs", () => {
    const text = JSON.stringify(documents(run));
    const via = [...text.matchAll(/"kms:ViaService":"([^"]+)"/g)].map((m) => m[1]);
    assert.ok(via.length >= 4, `only ${via.length} kms:ViaService values`);
    for (const v of via) assert.match(v, /\.amazonaws\.com\.cn$/, v);
    const key = policyOf(run.only(run.get(TYPES.layer, "ingest"), TYPES.key));
    const logs = key.Statement.find((s: { Sid: string }) => s.Sid === "AllowFirehoseLogGroupsOfThisLayer");
    assert.match(logs.Principal.Service, /^logs\.[a-z0-9-]+\.amazonaws\.com\.cn$/);
    assert.ok(!/"arn:aws:/.test(text), "an ARN of the aws partition in an aws-cn stack");
  });

  it("keeps IAM's global service principal for Firehose's trust policy (the form IAM documents for every partition)", () => {
    const trust = policyOf(run.get(TYPES.role, "ingest-persons-firehose-role"), "assumeRolePolicy");
    assert.deepStrictEqual(trust.Statement[0].Principal, { Service: "firehose.amazonaws.com" });
  });
});

describe("enhanced fan-out consumers (issue 7.8, 7.9)", function () {
  this.timeout(60_000);
  let run: LakeRun;
  const topology = {
    name: "efo",
    layers: {
      ingest: { segments: { persons: { consumers: ["fraud-model", "audit"] }, orders: {} } },
      curated: { segments: { adults: { consumers: ["audit"] } } },
    },
  };
  before(async () => {
    run = await buildLake(topology);
  });

  const consumer = (segment: string, name: string) => run.get(TYPES.streamConsumer, `${segment}-consumer-${name}`);
  const policyFor = (segment: string, name: string) => run.get(TYPES.policy, `${segment}-consumer-${name}-policy`);

  it("registers each declared consumer on its own segment's stream, under its own name", () => {
    assert.strictEqual(run.ofType(TYPES.streamConsumer).length, 3);
    for (const [segment, name] of [["ingest-persons", "fraud-model"], ["ingest-persons", "audit"], ["curated-adults", "audit"]]) {
      const c = consumer(segment, name);
      assert.strictEqual(c.inputs.name, name);
      assert.strictEqual(c.inputs.streamArn, run.get(TYPES.stream, `${segment}-stream`).state.arn);
      assert.ok(run.descendantsOf(run.get(TYPES.segment, segment)).includes(c), `${c.name} is not under ${segment}`);
    }
  });

  it("gives each consumer a policy naming only its own consumer ARN, its stream and its layer key", () => {
    for (const [segment, name, layer] of [["ingest-persons", "fraud-model", "ingest"], ["curated-adults", "audit", "curated"]]) {
      const p = policyFor(segment, name);
      assert.strictEqual(p.inputs.name, `efo-${segment}-consumer-${name}`);
      const doc = policyOf(p);
      const consumerArn = consumer(segment, name).state.arn;
      const streamArn = run.get(TYPES.stream, `${segment}-stream`).state.arn;
      const keyArn = run.only(run.get(TYPES.layer, layer), TYPES.key).state.arn;
      const byAction = (action: string) =>
        doc.Statement.filter((s: { Action: string | string[] }) => ([] as string[]).concat(s.Action).includes(action)).flatMap(
          (s: { Resource: string | string[] }) => ([] as string[]).concat(s.Resource),
        );
      // Its own consumer's exact ARN, plus the stream (which older IAM references list as a second resource).
      assert.deepStrictEqual(byAction("kinesis:SubscribeToShard"), [consumerArn, streamArn]);
      assert.deepStrictEqual(byAction("kinesis:DescribeStreamConsumer"), [consumerArn, streamArn]);
      assert.deepStrictEqual(byAction("kinesis:ListShards"), [streamArn]);
      assert.deepStrictEqual(byAction("kms:Decrypt"), [keyArn]);
      for (const never of ["kinesis:RegisterStreamConsumer", "kinesis:DeregisterStreamConsumer", "kinesis:GetRecords"]) {
        assert.deepStrictEqual(byAction(never), [], never);
      }
      assert.ok(!JSON.stringify(doc).includes("*"), `${p.name} has a wildcard`);
      assert.deepStrictEqual(findPolicyViolations(doc as never), []);
    }
  });

  it("leaves fan-out out of the polling consumer policy", () => {
    const doc = policyOf(run.get(TYPES.policy, "ingest-persons-consumer-policy"));
    const actions = doc.Statement.flatMap((s: { Action: string | string[] }) => ([] as string[]).concat(s.Action));
    for (const a of ["kinesis:SubscribeToShard", "kinesis:RegisterStreamConsumer", "kinesis:DescribeStreamConsumer"]) {
      assert.ok(!actions.includes(a), a);
    }
    assert.ok(!JSON.stringify(doc).includes("/consumer/"));
  });

  it("registers a segment's consumers one after another (Kinesis allows 5 CREATING at a time)", () => {
    const deps = consumer("ingest-persons", "fraud-model").dependencies;
    assert.ok(deps.includes(consumer("ingest-persons", "audit").urn), "fraud-model does not wait for audit");
    assert.ok(!consumer("ingest-persons", "audit").dependencies.some((d) => d.includes("StreamConsumer")));
  });

  it("lists the consumers in the catalog with their ARN and policy", () => {
    assert.deepStrictEqual(run.catalog["ingest/persons"].consumers, {
      audit: { consumerName: "audit", consumerArn: consumer("ingest-persons", "audit").state.arn, policyArn: policyFor("ingest-persons", "audit").state.arn },
      "fraud-model": {
        consumerName: "fraud-model",
        consumerArn: consumer("ingest-persons", "fraud-model").state.arn,
        policyArn: policyFor("ingest-persons", "fraud-model").state.arn,
      },
    });
    assert.strictEqual(run.catalog["ingest/orders"].consumers, undefined);
    assert.strictEqual(run.catalog["ingest/orders"].sharedWith, undefined);
  });

  it("keeps every other segment's resources when a consumer is added", async () => {
    const raw = clone(topology) as Raw;
    (raw.layers.ingest.segments.orders as Record<string, unknown>).consumers = ["late"];
    const grown = await buildLake(raw);
    const before = new Set(run.resources.map((r) => r.urn));
    const added = grown.resources.filter((r) => !before.has(r.urn)).map((r) => r.name);
    assert.deepStrictEqual(added.sort(), ["ingest-orders-consumer-late", "ingest-orders-consumer-late", "ingest-orders-consumer-late-policy"].sort());
    assert.deepStrictEqual(deletedBy(run, grown), []);
  });
});

describe("cross-account sharing (issue 7.10)", function () {
  this.timeout(60_000);
  const WRITER = "111122223333";
  const READER_ROLE = "arn:aws:iam::444455556666:role/reader";
  // A role is granted through its account principal and aws:PrincipalArn, so it need not exist yet (issue 17.3).
  const READER_ACCOUNT = "arn:aws:iam::444455556666:root";
  const ONLY_READER = { ArnEquals: { "aws:PrincipalArn": [READER_ROLE] } };
  let run: LakeRun;
  before(async () => {
    run = await buildLake({
      name: "share",
      layers: {
        ingest: {
          segments: {
            persons: { consumers: ["partner"], share: { producers: [WRITER], consumers: [READER_ROLE] } },
            orders: {},
          },
        },
        curated: { segments: { adults: {} } },
      },
    });
  });

  const streamArn = (segment: string) => run.get(TYPES.stream, `${segment}-stream`).state.arn as string;

  it("gives the shared stream a resource policy for exactly those principals, and no other stream one", () => {
    const policies = run.ofType(TYPES.streamResourcePolicy);
    const onStreams = policies.filter((p) => !p.inputs.resourceArn.includes("/consumer/"));
    assert.deepStrictEqual(onStreams.map((p) => p.inputs.resourceArn), [streamArn("ingest-persons")]);
    const doc = JSON.parse(onStreams[0].inputs.policy);
    assert.deepStrictEqual(
      doc.Statement.map((s: { Principal: unknown; Resource: string; Condition?: unknown }) => [s.Principal, s.Resource, s.Condition]),
      [
        [{ AWS: [`arn:aws:iam::${WRITER}:root`] }, streamArn("ingest-persons"), undefined],
        [{ AWS: [READER_ACCOUNT] }, streamArn("ingest-persons"), ONLY_READER],
      ],
    );
    assert.deepStrictEqual(findPolicyViolations(doc as never), []);
  });

  it("lets the shared readers subscribe through the segment's registered consumer", () => {
    const consumerArn = run.get(TYPES.streamConsumer, "ingest-persons-consumer-partner").state.arn;
    const policy = run.ofType(TYPES.streamResourcePolicy).find((p) => p.inputs.resourceArn === consumerArn);
    assert.ok(policy, "no resource policy on the consumer");
    const [s] = JSON.parse(policy.inputs.policy).Statement;
    assert.deepStrictEqual([s.Principal, [...s.Action].sort(), s.Resource, s.Condition], [
      { AWS: [READER_ACCOUNT] },
      ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
      consumerArn,
      ONLY_READER,
    ]);
  });

  it("grants them the layer key only through Kinesis and only for that stream", () => {
    const key = policyOf(run.only(run.get(TYPES.layer, "ingest"), TYPES.key));
    const shared = key.Statement.filter((s: { Sid: string }) => s.Sid.startsWith("Shared"));
    assert.deepStrictEqual(
      shared.map((s: { Principal: unknown; Action: string; Condition: unknown }) => [s.Principal, s.Action, s.Condition]),
      [
        [
          { AWS: [`arn:aws:iam::${WRITER}:root`] },
          "kms:GenerateDataKey",
          { StringEquals: { "kms:ViaService": "kinesis.eu-west-1.amazonaws.com" }, StringLike: { "kms:EncryptionContext:aws:kinesis:arn": streamArn("ingest-persons") } },
        ],
        [
          { AWS: [READER_ACCOUNT] },
          "kms:Decrypt",
          {
            StringEquals: { "kms:ViaService": "kinesis.eu-west-1.amazonaws.com" },
            StringLike: { "kms:EncryptionContext:aws:kinesis:arn": streamArn("ingest-persons") },
            ...ONLY_READER,
          },
        ],
      ],
    );
    const curated = JSON.stringify(policyOf(run.only(run.get(TYPES.layer, "curated"), TYPES.key)));
    assert.ok(!curated.includes(WRITER) && !curated.includes("444455556666"), "another layer's key names the shared principals");
    assert.deepStrictEqual(findPolicyViolations(key as never, { isKeyPolicy: true }), []);
  });

  it("says in the catalog who may use each segment", () => {
    assert.deepStrictEqual(run.catalog["ingest/persons"].sharedWith, { producers: [WRITER], consumers: [READER_ROLE] });
    assert.strictEqual(run.catalog["curated/adults"].sharedWith, undefined);
  });
});

describe("pulumi destroy and the query results (issue 17.1)", function () {
  this.timeout(120_000);
  let run: LakeRun;
  before(async () => {
    run = await buildLake(clone(stackTopology("dev")), { stack: "dev" });
  });

  it("retains the results bucket, every guard of it, and its key and alias, like the segment buckets", () => {
    const query = run.get("datalake:lake:QueryWorkgroup", "archive-query");
    const parts = run.descendantsOf(query).filter((r) => PERSISTENCE_TYPES.includes(r.type as never));
    assert.deepStrictEqual(
      [...new Set(parts.map((r) => r.type))].sort(),
      [TYPES.alias, TYPES.bucket, TYPES.bucketPolicy, TYPES.encryption, TYPES.key, TYPES.lifecycle, TYPES.ownership, TYPES.publicAccessBlock].sort(),
    );
    assert.deepStrictEqual(parts.filter((r) => !r.retainOnDelete).map((r) => `${r.type} ${r.name}`), [], "would be deleted by pulumi destroy");
    // The workgroup holds no data: it goes with the stack.
    assert.strictEqual(run.only(query, "aws:athena/workgroup:Workgroup").retainOnDelete, false);
  });

  it("leaves no bucket, bucket guard or data key to be deleted when the whole stack is destroyed", () => {
    // Destroy deletes every resource of the stack; only the alarm topic's key holds no persisted data.
    const deleted = run.resources.filter((r) => r.custom && PERSISTENCE_TYPES.includes(r.type as never) && !r.retainOnDelete);
    assert.deepStrictEqual(deleted.map((r) => `${r.type} ${r.name}`).sort(), [`${TYPES.alias} alerts-key-alias`, `${TYPES.key} alerts-key`]);
  });
});
