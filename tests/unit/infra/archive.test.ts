/**
 * The archive under mocks: every segment's Glue table reads where its Firehose writes, its reader policy
 * reaches that segment only, the wire-tap appends a delimiter to every record, and the lake's Athena
 * workgroup enforces encrypted, access-blocked results.
 */
import * as assert from "assert";
import { findPolicyViolations } from "../../../model/policies";
import { buildLake, LakeRun, policyOf, RecordedResource, stackTopology, TYPES } from "../../helpers/pulumi-mocks";

const GLUE_TABLE = "aws:glue/catalogTable:CatalogTable";
const GLUE_DATABASE = "aws:glue/catalogDatabase:CatalogDatabase";
const WORKGROUP = "aws:athena/workgroup:Workgroup";

/** `s3://<bucket>/<Firehose prefix>` with each `!{timestamp:…}` turned into the column it fills. */
function firehoseLocation(bucket: string, prefix: string): string {
  const columns: Record<string, string> = { yyyy: "year", MM: "month", dd: "day", HH: "hour" };
  return `s3://${bucket}/${prefix.replace(/!\{timestamp:([A-Za-z]+)\}/g, (_, f: string) => `\${${columns[f]}}`)}`;
}

const arnsIn = (doc: unknown): string[] => JSON.stringify(doc).match(/arn:[^"]+/g) ?? [];

describe("archive tables of the dev stack", function () {
  this.timeout(120_000);
  let run: LakeRun;
  before(async () => {
    run = await buildLake(stackTopology("dev"), { stack: "dev" });
  });
  const segments = () => run.ofType(TYPES.segment);
  const tableOf = (segment: RecordedResource) => run.only(segment, GLUE_TABLE);
  const readerOf = (segment: RecordedResource) =>
    run.descendantsOf(segment).find((r) => r.type === TYPES.policy && String(r.inputs.name).endsWith("-reader"))!;

  it("gives every segment a table whose projection template matches its Firehose prefix", () => {
    assert.strictEqual(run.ofType(GLUE_TABLE).length, segments().length);
    for (const segment of segments()) {
      const bucket = run.only(segment, TYPES.bucket).inputs.bucket as string;
      const firehose = run.only(segment, TYPES.firehose).inputs.extendedS3Configuration;
      const table = tableOf(segment).inputs;
      assert.strictEqual(table.parameters["storage.location.template"], firehoseLocation(bucket, firehose.prefix), segment.name);
      assert.strictEqual(table.parameters["projection.enabled"], "true");
      assert.strictEqual(table.storageDescriptor.location, `s3://${bucket}/data/`);
      assert.deepStrictEqual(table.partitionKeys.map((k: { name: string }) => k.name), ["year", "month", "day", "hour"]);
      assert.strictEqual(table.storageDescriptor.serDeInfo.serializationLibrary, "org.openx.data.jsonserde.JsonSerDe");
    }
  });

  it("takes the table's columns from the segment's schema (default: the demo record)", () => {
    const persons = tableOf(run.get(TYPES.segment, "ingest-persons")).inputs;
    assert.deepStrictEqual(persons.storageDescriptor.columns, [
      { name: "id", type: "string" },
      { name: "name", type: "string" },
      { name: "age", type: "int" },
    ]);
    assert.strictEqual(persons.name, "persons");
  });

  it("puts each layer's tables in the layer's own database", () => {
    const databases = run.ofType(GLUE_DATABASE).map((d) => d.inputs.name).sort();
    assert.deepStrictEqual(databases, run.config.layers.map((l) => `datalake_dev_${l.name}`).sort());
    for (const segment of segments()) {
      const layer = run.config.segments.find((s) => `${s.layer}-${s.name}` === segment.name)!.layer;
      assert.strictEqual(tableOf(segment).inputs.databaseName, `datalake_dev_${layer}`);
    }
  });

  it("appends a new-line delimiter to every record on the wire-tap", () => {
    for (const segment of segments()) {
      const processing = run.only(segment, TYPES.firehose).inputs.extendedS3Configuration.processingConfiguration;
      assert.deepStrictEqual(processing, { enabled: true, processors: [{ type: "AppendDelimiterToRecord" }] }, segment.name);
    }
  });

  it("gives every segment a reader policy that passes the scanner and reaches only that segment", () => {
    const buckets = segments().map((s) => run.only(s, TYPES.bucket).state.arn as string);
    const tables = segments().map((s) => `table/${tableOf(s).inputs.databaseName}/${tableOf(s).inputs.name}`);
    for (const segment of segments()) {
      const doc = policyOf(readerOf(segment));
      assert.deepStrictEqual(findPolicyViolations(doc as never), [], segment.name);
      const arns = arnsIn(doc);
      const ownBucket = run.only(segment, TYPES.bucket).state.arn as string;
      const ownTable = `table/${tableOf(segment).inputs.databaseName}/${tableOf(segment).inputs.name}`;
      const ownKey = run.only(segment, TYPES.stream).inputs.kmsKeyId as string;
      for (const other of buckets.filter((b) => b !== ownBucket)) {
        assert.ok(!arns.some((a) => a === other || a.startsWith(`${other}/`)), `${segment.name} reaches ${other}`);
      }
      for (const other of tables.filter((t) => t !== ownTable)) assert.ok(!arns.some((a) => a.endsWith(other)), `${segment.name} reaches ${other}`);
      const keys = arns.filter((a) => a.includes(":kms:"));
      const resultsKey = run.get(TYPES.key, "archive-query-results-key").state.arn;
      assert.deepStrictEqual([...new Set(keys)].sort(), [ownKey, resultsKey].sort(), `${segment.name} keys`);
      assert.ok(arns.includes(`${ownBucket}/data/*`));
      assert.ok(arns.some((a) => a.endsWith(ownTable)));
    }
  });

  it("lists each reader policy and table in the catalog", () => {
    for (const segment of segments()) {
      const entry = run.catalog[run.config.segments.find((s) => `${s.layer}-${s.name}` === segment.name)!.address];
      assert.strictEqual(entry.readerPolicyArn, readerOf(segment).state.arn);
      assert.strictEqual(entry.tableName, `${tableOf(segment).inputs.databaseName}.${tableOf(segment).inputs.name}`);
    }
  });

  it("runs queries in one workgroup that enforces encrypted results in an access-blocked bucket", () => {
    const [workgroup] = run.ofType(WORKGROUP);
    assert.strictEqual(run.ofType(WORKGROUP).length, 1);
    const config = workgroup.inputs.configuration;
    assert.strictEqual(config.enforceWorkgroupConfiguration, true);
    const key = run.get(TYPES.key, "archive-query-results-key");
    assert.deepStrictEqual(config.resultConfiguration.encryptionConfiguration, { encryptionOption: "SSE_KMS", kmsKeyArn: key.state.arn });
    const bucket = run.get(TYPES.bucket, "archive-query-results");
    assert.strictEqual(config.resultConfiguration.outputLocation, `s3://${bucket.inputs.bucket}/results/`);
    const block = run.get(TYPES.publicAccessBlock, "archive-query-results-public-access").inputs;
    assert.deepStrictEqual(
      [block.blockPublicAcls, block.blockPublicPolicy, block.ignorePublicAcls, block.restrictPublicBuckets],
      [true, true, true, true],
    );
    const sse = run.get(TYPES.encryption, "archive-query-results-encryption").inputs.rules[0].applyServerSideEncryptionByDefault;
    assert.deepStrictEqual(sse, { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.state.arn });
    assert.strictEqual(policyOf(run.get(TYPES.bucketPolicy, "archive-query-results-policy")).Statement[0].Effect, "Deny");
  });
});
