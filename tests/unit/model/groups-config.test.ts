/**
 * Consumer groups in the topology (`…segments.<segment>.groups`, model/groups.ts): the two shapes, and
 * every check, each reported with its config path. Pure: no Pulumi.
 */
import assert from "node:assert/strict";
import { CONFIG_KEY, ConfigProblem, LakeConfigError, parseLakeConfig } from "../../../model/config";
import { groupAlarms } from "../../../model/alarms";

const ctx = { project: "datalake", stack: "dev" };
const SEG = `${CONFIG_KEY}.layers.ingest.segments.persons`;
const lake = (persons: Record<string, unknown>) => ({ name: "acme", layers: { ingest: { segments: { persons, orders: {} } } } });

function problems(raw: unknown): ConfigProblem[] {
  try {
    parseLakeConfig(raw, ctx);
  } catch (e) {
    assert.ok(e instanceof LakeConfigError, String(e));
    return e.problems;
  }
  return [];
}

function onlyProblem(raw: unknown, path: string, ...says: string[]): ConfigProblem {
  const found = problems(raw);
  assert.deepEqual(found.map((p) => p.path), [path], JSON.stringify(found, null, 1));
  for (const s of says) assert.ok(found[0].message.includes(s), found[0].message);
  return found[0];
}

describe("consumer groups in the topology", () => {
  it("parses a name as a polling group and { name, consumer } as a group reading through that consumer; none by default", () => {
    const cfg = parseLakeConfig(lake({ consumers: ["fast"], groups: ["billing", { name: "fraud", consumer: "fast" }, { name: "audit" }] }), ctx);
    const persons = cfg.segments.find((s) => s.address === "ingest/persons")!;
    assert.deepEqual(persons.groups, [
      { name: "billing", consumer: undefined },
      { name: "fraud", consumer: "fast" },
      { name: "audit", consumer: undefined },
    ]);
    assert.deepEqual(cfg.segments.find((s) => s.address === "ingest/orders")!.groups, []);
    // `groups:` with every entry commented out reads as null: no groups.
    assert.deepEqual(parseLakeConfig(lake({ groups: null }), ctx).segments[0].groups, []);
  });

  it("rejects a group name that breaks the naming rule, at its path", () => {
    onlyProblem(lake({ groups: ["ok", "Bad_Name"] }), `${SEG}.groups[1]`, "group name must use");
    onlyProblem(lake({ groups: [{ name: "Bad" }] }), `${SEG}.groups[0].name`, "group name must use");
  });

  it("rejects a group declared twice on one segment, whichever shape each has", () => {
    onlyProblem(lake({ groups: ["billing", { name: "billing" }] }), `${SEG}.groups[1].name`, "already declared at groups[0]", "unique per segment");
  });

  it("allows the same group name on two segments (each has its own table)", () => {
    const raw = { name: "acme", layers: { ingest: { segments: { persons: { groups: ["billing"] }, orders: { groups: ["billing"] } } } } };
    assert.deepEqual(problems(raw), []);
  });

  it("rejects a consumer the segment does not declare, naming the declared ones", () => {
    onlyProblem(lake({ consumers: ["fast"], groups: [{ name: "fraud", consumer: "slow" }] }), `${SEG}.groups[0].consumer`, "names no consumer of this segment", "fast");
  });

  it("rejects two groups on one consumer (Kinesis allows one subscription per shard and consumer)", () => {
    const raw = lake({ consumers: ["fast"], groups: [{ name: "a", consumer: "fast" }, { name: "b", consumer: "fast" }] });
    onlyProblem(raw, `${SEG}.groups[1].consumer`, "already serves groups[0]");
  });

  it("rejects a group whose table, policy or alarm name would pass AWS's limits", () => {
    onlyProblem(lake({ groups: [`g${"x".repeat(120)}`] }), `${SEG}.groups[0]`, "IAM policy name", "128");
  });

  it("rejects unknown keys of a group with a hint, and shapes that are neither a name nor a map", () => {
    onlyProblem(lake({ groups: [{ name: "a", consumr: "fast" }] }), `${SEG}.groups[0].consumr`, 'did you mean "consumer"');
    onlyProblem(lake({ groups: [42] }), `${SEG}.groups[0]`, "a name or { name, consumer }");
    onlyProblem(lake({ groups: "billing" }), `${SEG}.groups`, "list of group names");
  });

  it("gives each group a lag alarm: the consumer's MillisBehindLatest, or the stream's iterator age for a polling group", () => {
    const cfg = parseLakeConfig(lake({ consumers: ["fast"], groups: ["billing", { name: "fraud", consumer: "fast" }] }), ctx);
    const persons = cfg.segments.find((s) => s.address === "ingest/persons")!;
    const [polling] = groupAlarms(cfg.name, persons, persons.groups[0]);
    assert.equal(polling.alarmName, "acme-ingest-persons-group-billing-lag");
    assert.equal(polling.metricName, "GetRecords.IteratorAgeMilliseconds");
    assert.deepEqual(polling.dimensions, { StreamName: "acme-ingest-persons" });
    const [fanOut] = groupAlarms(cfg.name, persons, persons.groups[1]);
    assert.equal(fanOut.metricName, "SubscribeToShardEvent.MillisBehindLatest");
    assert.deepEqual(fanOut.dimensions, { StreamName: "acme-ingest-persons", ConsumerName: "fast" });
    // Half the 24 h retention by default, as the segment's own iterator-age alarm.
    assert.equal(fanOut.threshold, 12 * 3600 * 1000);
    assert.equal(fanOut.treatMissingData, "breaching");
    const off = parseLakeConfig(lake({ alarms: { enabled: false }, groups: ["billing"] }), ctx).segments[0];
    assert.deepEqual(groupAlarms(cfg.name, off, off.groups[0]), []);
  });
});
