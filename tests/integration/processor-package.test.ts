/**
 * The deployed artifact itself: the esbuild bundle plus spec.json, loaded in a fresh Node process the way
 * Lambda loads `index.handle`, invoked with a Lambda-shaped event, writing through the bundled AWS SDK to
 * kinesis-local (AWS_ENDPOINT_URL_KINESIS). Forwarded records arrive byte for byte under their keys; a
 * transform keeps numbers exactly (the lossless JSON library is in the bundle).
 */
import * as assert from "assert";
import { execFile } from "child_process";
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from "@aws-sdk/client-kinesis";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { processorPackageFiles } from "../../components/processor-package";
import { kinesisEvent, SourceRecord } from "../../model/processor/events";
import { ProcessorSpec } from "../../model/processor/spec";
import { useLocalKinesis } from "../helpers/local-kinesis";

describe("processor package (the bundle Lambda runs)", function () {
  this.timeout(120_000);
  const lake = useLocalKinesis();

  /** Writes the package for `spec`, invokes its `index.handle` in a fresh Node process with `records`, returns the response and what the target holds. */
  async function runPackage(spec: ProcessorSpec, records: SourceRecord[]): Promise<{ response: unknown; stored: [string, string][] }> {
    const target = await lake.createStream(lake.uniqueName("target"), 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "processor-package-"));
    try {
      for (const [name, text] of Object.entries(processorPackageFiles(spec))) fs.writeFileSync(path.join(dir, name), text);
      const event = kinesisEvent(records, { shardId: "shardId-000000000000", streamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/src", region: "us-east-1", invokeIdentityArn: "arn:aws:iam::000000000000:role/r" });
      fs.writeFileSync(path.join(dir, "event.json"), JSON.stringify(event));
      const script = `require(${JSON.stringify(path.join(dir, "index.js"))}).handle(require(${JSON.stringify(path.join(dir, "event.json"))})).then((r) => { process.stdout.write(JSON.stringify(r)); }, (e) => { console.error(e); process.exit(1); });`;
      const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], {
        cwd: dir,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH,
          TARGET_STREAM_NAME: target,
          AWS_ENDPOINT_URL_KINESIS: lake.endpoint,
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "local",
          AWS_SECRET_ACCESS_KEY: "local",
          AWS_EC2_METADATA_DISABLED: "true",
          NODE_TLS_REJECT_UNAUTHORIZED: lake.endpoint.startsWith("https:") ? "0" : "1",
        },
      });
      const shard = (await lake.client.send(new ListShardsCommand({ StreamName: target }))).Shards![0].ShardId!;
      const it = (await lake.client.send(new GetShardIteratorCommand({ StreamName: target, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
      const got = (await lake.client.send(new GetRecordsCommand({ ShardIterator: it }))).Records ?? [];
      return { response: JSON.parse(stdout), stored: got.map((r) => [Buffer.from(r.Data!).toString("hex"), r.PartitionKey!]) };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  it("forwards Lambda-shaped events to the target stream through the bundled SDK, byte for byte", async () => {
    const records = [
      { data: Buffer.from('{"name":"dennis 1","age":19}\n'), partitionKey: "1", sequenceNumber: "1", approximateArrivalTimestamp: new Date() },
      { data: Buffer.from([0, 1, 2, 255, 10]), partitionKey: "bin", sequenceNumber: "2", approximateArrivalTimestamp: new Date() },
    ];
    const { response, stored } = await runPackage({ route: "r", from: "ingest/persons", to: "curated/adults" }, records);
    assert.deepStrictEqual(response, { batchItemFailures: [] });
    assert.deepStrictEqual(stored, records.map((r) => [Buffer.from(r.data).toString("hex"), r.partitionKey]));
  });

  it("transforms with the bundled lossless JSON reader and writer: numbers arrive exactly as published", async () => {
    const text = '{"id":123456789012345678901,"price":0.1000000000000000055511151231257827,"n":1.0,"drop":true}\n';
    const records = [{ data: Buffer.from(text), partitionKey: "k", sequenceNumber: "1", approximateArrivalTimestamp: new Date() }];
    const { response, stored } = await runPackage({ route: "r", from: "ingest/persons", to: "curated/slim", transform: { select: ["id", "price", "n"] } }, records);
    assert.deepStrictEqual(response, { batchItemFailures: [] });
    assert.deepStrictEqual(stored, [[Buffer.from('{"id":123456789012345678901,"price":0.1000000000000000055511151231257827,"n":1.0}\n').toString("hex"), "k"]]);
  });
});
