/**
 * Consumer groups under Pulumi mocks (components/consumer-group.ts): the lease table's settings, the
 * workers' policy, the lag alarm, the catalog entry, and what removing a group does (keeps the table).
 */
import * as assert from "assert";
import { findPolicyViolations } from "../../../model/policies";
import { buildLake, clone, LakeRun, policyOf, RecordedResource, TYPES } from "../../helpers/pulumi-mocks";

const TABLE = "aws:dynamodb/table:Table";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPOLOGY = {
  name: "unit",
  layers: {
    ingest: { segments: { persons: { shards: 4, consumers: ["fast"], groups: ["billing", { name: "fraud", consumer: "fast" }] }, orders: {} } },
    curated: { segments: { adults: { groups: ["audit"] } } },
  },
};

describe("consumer groups (mocks)", function () {
  this.timeout(120_000);
  let run: LakeRun;
  before(async () => {
    run = await buildLake(TOPOLOGY);
  });

  const group = (name: string) => run.get("datalake:lake:ConsumerGroup", name);
  const tableOf = (name: string) => run.only(group(name), TABLE);
  const policyDoc = (name: string) => policyOf(run.only(group(name), TYPES.policy));
  const layerKey = (layer: string) => run.only(run.get(TYPES.layer, layer), TYPES.key).state.arn as string;
  const streamArn = (segment: string) => run.get(TYPES.stream, `${segment}-stream`).state.arn as string;

  it("declares each group under its segment, with a lease table keyed by leaseKey, on demand, encrypted with the layer key, recoverable", () => {
    for (const [name, layer] of [["ingest-persons-group-billing", "ingest"], ["ingest-persons-group-fraud", "ingest"], ["curated-adults-group-audit", "curated"]]) {
      const g = group(name);
      assert.strictEqual(run.resources.find((r) => r.urn === g.parent)?.type, TYPES.segment, `${name} is not under its segment`);
      const t = tableOf(name);
      assert.strictEqual(t.inputs.name, `unit-${name}`);
      assert.strictEqual(t.inputs.billingMode, "PAY_PER_REQUEST");
      assert.strictEqual(t.inputs.hashKey, "leaseKey");
      assert.deepStrictEqual(t.inputs.attributes, [{ name: "leaseKey", type: "S" }]);
      assert.deepStrictEqual(t.inputs.serverSideEncryption, { enabled: true, kmsKeyArn: layerKey(layer) });
      assert.deepStrictEqual(t.inputs.pointInTimeRecovery, { enabled: true });
      assert.strictEqual(t.inputs.deletionProtectionEnabled, true);
      assert.strictEqual(t.retainOnDelete, true, `${name}'s table is not retained on delete`);
    }
    assert.strictEqual(tableOf("ingest-persons-group-billing").inputs.name, "unit-ingest-persons-group-billing");
    assert.strictEqual(run.ofType(TABLE).length, 3);
  });

  it("lets a polling group's workers poll the stream, use their own table only, and the key through Kinesis and DynamoDB only", () => {
    const doc = policyDoc("ingest-persons-group-billing");
    assert.deepStrictEqual(findPolicyViolations(doc as never), []);
    const actions = doc.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat());
    assert.ok(actions.includes("kinesis:GetRecords") && !actions.includes("kinesis:SubscribeToShard"));
    const table = tableOf("ingest-persons-group-billing").state.arn;
    for (const s of doc.Statement) {
      const acts: string[] = [s.Action].flat();
      if (acts.some((a) => a.startsWith("dynamodb:"))) {
        assert.deepStrictEqual(s.Resource, table, `${s.Sid} names more than the group's table`);
        assert.ok(!acts.includes("dynamodb:DeleteItem") && !acts.includes("dynamodb:DeleteTable") && !acts.includes("dynamodb:CreateTable"), s.Sid);
      }
      if (acts.some((a) => a.startsWith("kinesis:"))) assert.deepStrictEqual([s.Resource].flat(), [streamArn("ingest-persons")], s.Sid);
      if (acts.some((a) => a.startsWith("kms:"))) {
        assert.strictEqual(s.Resource, layerKey("ingest"), s.Sid);
        assert.ok(["kinesis.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com"].includes(s.Condition.StringEquals["kms:ViaService"]), s.Sid);
      }
    }
    const kmsServices = doc.Statement.filter((s: { Action: string | string[] }) => [s.Action].flat().some((a) => a.startsWith("kms:"))).map(
      (s: { Condition: { StringEquals: Record<string, string> } }) => s.Condition.StringEquals["kms:ViaService"],
    );
    assert.deepStrictEqual([...new Set(kmsServices)].sort(), ["dynamodb.eu-west-1.amazonaws.com", "kinesis.eu-west-1.amazonaws.com"]);
  });

  it("lets a fan-out group's workers subscribe through their own consumer only, without GetRecords", () => {
    const doc = policyDoc("ingest-persons-group-fraud");
    assert.deepStrictEqual(findPolicyViolations(doc as never), []);
    const consumerArn = run.get(TYPES.streamConsumer, "ingest-persons-consumer-fast").state.arn;
    const subscribe = doc.Statement.find((s: { Action: string[] }) => [s.Action].flat().includes("kinesis:SubscribeToShard"));
    assert.deepStrictEqual(subscribe.Resource, [consumerArn, streamArn("ingest-persons")]);
    assert.ok(!JSON.stringify(doc).includes("kinesis:GetRecords"));
    assert.ok(JSON.stringify(doc).includes(tableOf("ingest-persons-group-fraud").state.arn));
    assert.ok(!JSON.stringify(doc).includes(tableOf("ingest-persons-group-billing").state.arn), "names the other group's table");
  });

  it("gives each group a lag alarm under it, on its consumer's MillisBehindLatest or on the stream's iterator age", () => {
    const alarm = (g: string) => run.only(group(g), ALARM).inputs;
    assert.strictEqual(alarm("ingest-persons-group-fraud").metricName, "SubscribeToShardEvent.MillisBehindLatest");
    assert.deepStrictEqual(alarm("ingest-persons-group-fraud").dimensions, { StreamName: "unit-ingest-persons", ConsumerName: "fast" });
    assert.strictEqual(alarm("ingest-persons-group-billing").metricName, "GetRecords.IteratorAgeMilliseconds");
    assert.strictEqual(alarm("curated-adults-group-audit").name, "unit-curated-adults-group-audit-lag");
    const topic = run.get("aws:sns/topic:Topic", "alerts-topic").state.arn;
    assert.deepStrictEqual(alarm("curated-adults-group-audit").alarmActions, [topic]);
  });

  it("lists each group in the catalog with its table and worker policy", () => {
    const groups = run.catalog["ingest/persons"].groups!;
    assert.deepStrictEqual(Object.keys(groups).sort(), ["billing", "fraud"]);
    assert.deepStrictEqual(groups.billing, {
      tableName: "unit-ingest-persons-group-billing",
      tableArn: tableOf("ingest-persons-group-billing").state.arn,
      policyArn: run.only(group("ingest-persons-group-billing"), TYPES.policy).state.arn,
    });
    assert.strictEqual(groups.fraud.consumerName, "fast");
    assert.strictEqual(run.catalog["ingest/orders"].groups, undefined);
  });

  it("removing a group keeps its table (retained) and changes nothing else", async () => {
    const raw = clone(TOPOLOGY) as { layers: { ingest: { segments: { persons: { groups: unknown[] } } } } };
    raw.layers.ingest.segments.persons.groups = [{ name: "fraud", consumer: "fast" }];
    const shrunk = await buildLake(raw);
    const kept = new Set(shrunk.resources.map((r) => r.urn));
    const gone: RecordedResource[] = run.resources.filter((r) => !kept.has(r.urn));
    assert.deepStrictEqual(gone.map((r) => r.name).sort(), [
      "ingest-persons-group-billing",
      "ingest-persons-group-billing-alarms",
      "ingest-persons-group-billing-alarms-lag",
      "ingest-persons-group-billing-leases",
      "ingest-persons-group-billing-policy",
    ]);
    const deletedFromAws = gone.filter((r) => r.custom && !r.retainOnDelete).map((r) => r.type).sort();
    assert.deepStrictEqual(deletedFromAws, [ALARM, TYPES.policy].sort(), "only the policy and the alarm are deleted; the table stays");
    // Nothing else changed its inputs either.
    const before = new Map(run.resources.map((r) => [r.urn, JSON.stringify(r.inputs)]));
    const changed = shrunk.resources.filter((r) => before.has(r.urn) && before.get(r.urn) !== JSON.stringify(r.inputs)).map((r) => r.name);
    assert.deepStrictEqual(changed, []);
  });
});
