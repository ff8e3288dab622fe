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
import { useLocalKinesis } from "../helpers/local-kinesis";

describe("processor package (the bundle Lambda runs)", function () {
  this.timeout(120_000);
  const lake = useLocalKinesis();

  it("forwards Lambda-shaped events to the target stream through the bundled SDK, byte for byte", async () => {
    const target = await lake.createStream(lake.uniqueName("adults"), 1);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "processor-package-"));
    try {
      for (const [name, text] of Object.entries(processorPackageFiles({ route: "r", from: "ingest/persons", to: "curated/adults" }))) {
        fs.writeFileSync(path.join(dir, name), text);
      }
      const records = [
        { data: Buffer.from('{"name":"dennis 1","age":19}\n'), partitionKey: "1", sequenceNumber: "1", approximateArrivalTimestamp: new Date() },
        { data: Buffer.from([0, 1, 2, 255, 10]), partitionKey: "bin", sequenceNumber: "2", approximateArrivalTimestamp: new Date() },
      ];
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
      assert.deepStrictEqual(JSON.parse(stdout), { batchItemFailures: [] });
      const shard = (await lake.client.send(new ListShardsCommand({ StreamName: target }))).Shards![0].ShardId!;
      const it = (await lake.client.send(new GetShardIteratorCommand({ StreamName: target, ShardId: shard, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
      const got = (await lake.client.send(new GetRecordsCommand({ ShardIterator: it }))).Records ?? [];
      assert.deepStrictEqual(
        got.map((r) => [Buffer.from(r.Data!).toString("hex"), r.PartitionKey]),
        records.map((r) => [Buffer.from(r.data).toString("hex"), r.partitionKey]),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
