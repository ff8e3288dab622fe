/**
 * The deployed artifact itself: the esbuild bundle plus spec.json, loaded in a fresh Node process the way
 * Lambda loads `index.handle`, invoked with a Lambda-shaped event, writing through the bundled AWS SDK to
 * kinesis-local (AWS_ENDPOINT_URL_KINESIS). Forwarded records arrive byte for byte under their keys.
 */
import * as assert from "assert";
import { execFile } from "child_process";
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { processorPackageFiles } from "../../components/processor-package";
import { kinesisEvent } from "../../model/processor/events";
import { ProcessorSpec } from "../../model/processor/spec";
import { useLocalKinesis } from "../helpers/local-kinesis";

/** Writes the package and an event into a fresh folder and runs `index.handle` in a new Node process. */
async function runPackage(event: unknown, env: Record<string, string>, spec: ProcessorSpec = { route: "r", from: "ingest/persons", to: "curated/adults" }): Promise<{ response: unknown; stdout: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "processor-package-"));
  try {
    for (const [name, text] of Object.entries(processorPackageFiles(spec))) {
      fs.writeFileSync(path.join(dir, name), text);
    }
    fs.writeFileSync(path.join(dir, "event.json"), JSON.stringify(event));
    // The response goes to a file: stdout is the function's log, which carries the metrics line.
    const out = path.join(dir, "response.json");
    const script = `require(${JSON.stringify(path.join(dir, "index.js"))}).handle(require(${JSON.stringify(path.join(dir, "event.json"))})).then((r) => { require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(r)); }, (e) => { console.error(e); process.exit(1); });`;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], {
      cwd: dir,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_LAMBDA_FUNCTION_NAME: "acme-r",
        ...env,
      },
    });
    return { response: JSON.parse(fs.readFileSync(out, "utf8")), stdout };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The EMF documents among the lines the function printed. */
const metricLines = (stdout: string) =>
  stdout
    .split("\n")
    .filter((l) => l.startsWith("{") && l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("processor package (the bundle Lambda runs)", function () {
  this.timeout(120_000);
  const lake = useLocalKinesis();
  const tls = () => ({ NODE_TLS_REJECT_UNAUTHORIZED: lake.endpoint.startsWith("https:") ? "0" : "1" });
  const eventOf = (records: { data: Buffer; partitionKey: string; sequenceNumber: string; approximateArrivalTimestamp: Date }[]) =>
    kinesisEvent(records, { shardId: "shardId-000000000000", streamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/src", region: "us-east-1", invokeIdentityArn: "arn:aws:iam::000000000000:role/r" });

  it("forwards Lambda-shaped events to the target stream through the bundled SDK, byte for byte", async () => {
    const target = await lake.createStream(lake.uniqueName("adults"), 1);
    const records = [
      { data: Buffer.from('{"name":"dennis 1","age":19}\n'), partitionKey: "1", sequenceNumber: "1", approximateArrivalTimestamp: new Date() },
      { data: Buffer.from([0, 1, 2, 255, 10]), partitionKey: "bin", sequenceNumber: "2", approximateArrivalTimestamp: new Date() },
    ];
    const { response, stdout } = await runPackage(eventOf(records), { TARGET_STREAM_NAME: target, AWS_ENDPOINT_URL_KINESIS: lake.endpoint, ...tls() });
    assert.deepStrictEqual(response, { batchItemFailures: [] });
    const shard = (await lake.client.send(new ListShardsCommand({ StreamName: target }))).Shards![0].ShardId!;
    const it = (await lake.client.send(new GetShardIteratorCommand({ StreamName: target, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
    const got = (await lake.client.send(new GetRecordsCommand({ ShardIterator: it }))).Records ?? [];
    assert.deepStrictEqual(
      got.map((r) => [Buffer.from(r.Data!).toString("hex"), r.PartitionKey]),
      records.map((r) => [Buffer.from(r.data).toString("hex"), r.partitionKey]),
    );
    const [metrics] = metricLines(stdout);
    assert.deepStrictEqual([metrics.FunctionName, metrics.FailedRecords, metrics.PartialBatchFailures], ["acme-r", 0, 0]);
  });

  it("prints an EMF line counting the records it reports failed when the target refuses them (issue 17.4)", async () => {
    // The target stream does not exist: every PutRecords fails, the handler gives up after its bounded
    // resends and reports every record as a batch item failure — a successful invocation for Lambda.
    const records = [1, 2, 3].map((i) => ({ data: Buffer.from(`{"n":${i}}`), partitionKey: `k${i}`, sequenceNumber: String(i), approximateArrivalTimestamp: new Date() }));
    const { response, stdout } = await runPackage(eventOf(records), { TARGET_STREAM_NAME: lake.uniqueName("missing"), AWS_ENDPOINT_URL_KINESIS: lake.endpoint, ...tls() });
    assert.deepStrictEqual(response, { batchItemFailures: records.map((r) => ({ itemIdentifier: r.sequenceNumber })) });
    const lines = metricLines(stdout);
    assert.strictEqual(lines.length, 1, stdout);
    const [m] = lines;
    assert.deepStrictEqual([m.FunctionName, m.FailedRecords, m.PartialBatchFailures, m.Records], ["acme-r", 3, 1, 3]);
    const directive = (m._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] }).CloudWatchMetrics[0];
    assert.deepStrictEqual([directive.Namespace, directive.Dimensions], ["DataLake/Processors", [["FunctionName"]]]);
    // A line of its own with nothing before the JSON (console.log would prefix a time, request id and level).
    assert.ok(stdout.split("\n").some((l) => l.startsWith('{"_aws"')), stdout);
  });

  it("transforms with the bundled lossless JSON reader and writer: numbers arrive exactly as published", async () => {
    const target = await lake.createStream(lake.uniqueName("slim"), 1);
    const text = '{"id":123456789012345678901,"price":0.1000000000000000055511151231257827,"n":1.0,"drop":true}\n';
    const records = [{ data: Buffer.from(text), partitionKey: "k", sequenceNumber: "1", approximateArrivalTimestamp: new Date() }];
    const { response } = await runPackage(eventOf(records), { TARGET_STREAM_NAME: target, AWS_ENDPOINT_URL_KINESIS: lake.endpoint, ...tls() }, {
      route: "r",
      from: "ingest/persons",
      to: "curated/slim",
      transform: { select: ["id", "price", "n"] },
    });
    assert.deepStrictEqual(response, { batchItemFailures: [] });
    const shard = (await lake.client.send(new ListShardsCommand({ StreamName: target }))).Shards![0].ShardId!;
    const it = (await lake.client.send(new GetShardIteratorCommand({ StreamName: target, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
    const got = (await lake.client.send(new GetRecordsCommand({ ShardIterator: it }))).Records ?? [];
    assert.deepStrictEqual(
      got.map((r) => [Buffer.from(r.Data!).toString("utf8"), r.PartitionKey]),
      [['{"id":123456789012345678901,"price":0.1000000000000000055511151231257827,"n":1.0}\n', "k"]],
    );
  });
});
