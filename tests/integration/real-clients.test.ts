/**
 * Clients nobody here wrote, against `npm run local-lake` with exactly the lines it prints: boto3 (polling
 * and enhanced fan-out through SubscribeToShard, whose event stream botocore accepts only when it starts
 * with `initial-response`), AWS CLI v2, and the blog's own Go publisher and subscriber on aws-sdk-go
 * (region fixed to eu-west-1, shard id "0"). A client that is not installed is skipped with one line
 * saying how to install it.
 */
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DEBIAN_GOPATH, findAwsCliV2, findBoto3, findGoSdk } from "../helpers/real-clients";
import { LakeProcess, startLakeProcess } from "../helpers/local-lake-process";
import { PROJECT_DIR } from "../helpers/run-app";

const PERSONS = "datalake-dev-ingest-persons";

/** Runs a command with the lake's printed variables (and dummy credentials, as a user without AWS would set). */
function run(cmd: string, args: string[], vars: Record<string, string>, timeoutMs = 60_000, extra: NodeJS.ProcessEnv = {}) {
  const out = spawnSync(cmd, args, {
    encoding: "utf8",
    timeout: timeoutMs,
    env: { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", AWS_EC2_METADATA_DISABLED: "true", ...vars, ...extra },
  });
  return { code: out.status, stdout: out.stdout ?? "", stderr: out.stderr ?? "" };
}

function skipWith(ctx: Mocha.Context, why: string): never {
  process.stdout.write(`      skipped: ${why}\n`);
  ctx.skip();
}

/** boto3 script: the endpoint is passed explicitly too, since botocore before 1.31 ignores AWS_ENDPOINT_URL_KINESIS. */
const BOTO3_POLLING = `
import boto3, json, os, sys
k = boto3.client("kinesis", endpoint_url=os.environ["AWS_ENDPOINT_URL_KINESIS"])
name = sys.argv[1]
ids = ["boto3-%d" % i for i in range(50)]
out = k.put_records(StreamName=name, Records=[{"Data": json.dumps({"id": i, "name": "boto", "age": 40}).encode(), "PartitionKey": i} for i in ids])
assert out["FailedRecordCount"] == 0, out
shards = [s["ShardId"] for s in k.list_shards(StreamName=name)["Shards"]]
seen = []
for index, shard in enumerate(shards):
    # the short form the blog uses ("0"), as the live service accepts it
    it = k.get_shard_iterator(StreamName=name, ShardId=str(index), ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while it:
        page = k.get_records(ShardIterator=it, Limit=1000)
        seen += [json.loads(r["Data"])["id"] for r in page["Records"]]
        if not page["Records"]:
            break
        it = page["NextShardIterator"]
print(json.dumps({"region": k.meta.region_name, "missing": sorted(set(ids) - set(seen))}))
`;

const BOTO3_FAN_OUT = `
import boto3, json, os, sys
k = boto3.client("kinesis", endpoint_url=os.environ["AWS_ENDPOINT_URL_KINESIS"])
catalog = json.load(open(os.environ["DATALAKE_CATALOG"]))
entry = catalog["curated/adults"]
consumer = entry["consumers"]["fraud-model"]["consumerArn"]
wanted = set(sys.argv[1:])
got = set()
for shard in k.list_shards(StreamName=entry["streamName"])["Shards"]:
    sub = k.subscribe_to_shard(ConsumerARN=consumer, ShardId=shard["ShardId"], StartingPosition={"Type": "TRIM_HORIZON"})
    for event in sub["EventStream"]:
        e = event["SubscribeToShardEvent"]
        got |= {json.loads(r["Data"])["id"] for r in e["Records"]}
        if e["MillisBehindLatest"] == 0 and not e["Records"]:
            break
print(json.dumps({"missing": sorted(wanted - got)}))
`;

describe("real clients against npm run local-lake (boto3, AWS CLI v2, the blog's Go code)", function () {
  this.timeout(240_000);
  let dataDir: string;
  let lake: LakeProcess | undefined;

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-clients-"));
    lake = await startLakeProcess(dataDir, ["--wire-tap-seconds", "1"]);
  });

  after(async () => {
    if (lake) {
      process.kill(-lake.child.pid!, "SIGINT");
      await lake.exited;
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("the printed lines name the stack's region (eu-west-1), for AWS_REGION and botocore's AWS_DEFAULT_REGION", () => {
    assert.strictEqual(lake!.vars.AWS_REGION, "eu-west-1");
    assert.strictEqual(lake!.vars.AWS_DEFAULT_REGION, "eu-west-1");
  });

  it("boto3: put_records, then get_shard_iterator with shard id \"0\" and get_records read every record back", function () {
    const boto3 = findBoto3();
    if (!boto3.value) skipWith(this, boto3.missing!);
    const out = run(boto3.value.python, ["-c", BOTO3_POLLING, PERSONS], lake!.vars);
    assert.strictEqual(out.code, 0, out.stderr);
    assert.deepStrictEqual(JSON.parse(out.stdout.trim().split("\n").pop()!), { region: "eu-west-1", missing: [] });
  });

  it("boto3: subscribe_to_shard through the declared consumer reads the routed records (the event stream starts with initial-response)", async function () {
    const boto3 = findBoto3();
    if (!boto3.value) skipWith(this, boto3.missing!);
    const ids = Array.from({ length: 20 }, (_, i) => `fan-out-${i}`);
    const put = run(
      boto3.value.python,
      [
        "-c",
        `import boto3, json, os\nk = boto3.client("kinesis", endpoint_url=os.environ["AWS_ENDPOINT_URL_KINESIS"])\nk.put_records(StreamName="${PERSONS}", Records=[{"Data": json.dumps({"id": i, "name": "x", "age": 30}).encode(), "PartitionKey": i} for i in ${JSON.stringify(ids)}])`,
      ],
      lake!.vars,
    );
    assert.strictEqual(put.code, 0, put.stderr);
    // The route (age >= 18) forwards them to curated/adults; read until all arrived or 60 s passed.
    const deadline = Date.now() + 60_000;
    let last = "";
    for (;;) {
      const out = run(boto3.value.python, ["-c", BOTO3_FAN_OUT, ...ids], lake!.vars);
      assert.strictEqual(out.code, 0, out.stderr);
      last = out.stdout;
      if (JSON.parse(out.stdout.trim().split("\n").pop()!).missing.length === 0) break;
      assert.ok(Date.now() < deadline, `records still missing after 60 s: ${last}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  });

  it("AWS CLI v2: list-streams, put-record, list-shards, get-shard-iterator and get-records", function () {
    const cli = findAwsCliV2();
    if (!cli.value) skipWith(this, cli.missing!);
    // AWS CLI before 2.13 ignores AWS_ENDPOINT_URL_KINESIS, so the endpoint goes on the command line as well.
    const aws = (...args: string[]) => {
      const out = run(cli.value!.aws, ["--endpoint-url", lake!.vars.AWS_ENDPOINT_URL_KINESIS, "--output", "json", "kinesis", ...args], lake!.vars);
      assert.strictEqual(out.code, 0, `aws kinesis ${args.join(" ")}: ${out.stderr}`);
      return JSON.parse(out.stdout || "{}");
    };
    assert.ok(aws("list-streams").StreamNames.includes(PERSONS));
    const data = Buffer.from(JSON.stringify({ id: "cli-1", name: "cli", age: 50 })).toString("base64");
    const put = aws("put-record", "--stream-name", PERSONS, "--partition-key", "cli-1", "--data", data);
    const shards = aws("list-shards", "--stream-name", PERSONS).Shards.map((s: { ShardId: string }) => s.ShardId);
    assert.ok(shards.includes(put.ShardId));
    const it = aws("get-shard-iterator", "--stream-name", PERSONS, "--shard-id", put.ShardId, "--shard-iterator-type", "AT_SEQUENCE_NUMBER", "--starting-sequence-number", put.SequenceNumber).ShardIterator;
    const records = aws("get-records", "--shard-iterator", it).Records;
    assert.strictEqual(Buffer.from(records[0].Data, "base64").toString(), JSON.stringify({ id: "cli-1", name: "cli", age: 50 }));
  });

  it("the blog's Go publisher and subscriber (aws-sdk-go, region eu-west-1, shard \"0\") on a stream created as the blog does", async function () {
    const go = findGoSdk();
    if (!go.value) skipWith(this, go.missing!);
    const cli = findAwsCliV2();
    if (!cli.value) skipWith(this, cli.missing!);
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-blog-"));
    const gopath = `${path.join(PROJECT_DIR, "tests", "fixtures", "blog-go")}:${DEBIAN_GOPATH}`;
    for (const app of ["publisher", "subscriber"]) {
      const built = run("go", ["build", "-o", path.join(bin, app), `github.com/binxio/datasegment/${app}`], {}, 180_000, {
        GO111MODULE: "off",
        GOPATH: gopath,
        GOCACHE: path.join(os.tmpdir(), "datalake-go-cache"),
        GOFLAGS: "",
      });
      assert.strictEqual(built.code, 0, built.stderr);
    }
    // The blog's CloudFormation: one stream with one shard.
    const stream = "blog-datasegment-stream";
    const created = run(cli.value.aws, ["--endpoint-url", lake!.vars.AWS_ENDPOINT_URL_KINESIS, "kinesis", "create-stream", "--stream-name", stream, "--shard-count", "1"], lake!.vars);
    assert.strictEqual(created.code, 0, created.stderr);
    const waited = run(cli.value.aws, ["--endpoint-url", lake!.vars.AWS_ENDPOINT_URL_KINESIS, "kinesis", "wait", "stream-exists", "--stream-name", stream], lake!.vars, 120_000);
    assert.strictEqual(waited.code, 0, waited.stderr);

    const count = 200;
    const pub = run(path.join(bin, "publisher"), [], lake!.vars, 120_000, { KINESIS_STREAM_NAME: stream, BLOG_RECORD_COUNT: String(count) });
    assert.strictEqual(pub.code, 0, pub.stderr.slice(-2000));

    // The subscriber reads forever (as in the blog): stop it once it printed every record, or after 60 s.
    const child = spawn(path.join(bin, "subscriber"), [], {
      env: { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local", ...lake!.vars, KINESIS_STREAM_NAME: stream },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    const names = new Set<string>();
    const done = new Promise<void>((resolve) => {
      child.stderr!.on("data", (c: Buffer) => {
        log += c.toString();
        for (const m of log.matchAll(/"name":"(dennis \d+)"/g)) names.add(m[1]);
        if (names.size >= count) resolve();
      });
      child.once("exit", () => resolve());
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    await done;
    clearTimeout(timer);
    child.kill("SIGKILL");
    assert.strictEqual(names.size, count, `the subscriber printed ${names.size} of ${count} records: ${log.slice(-1000)}`);
    fs.rmSync(bin, { recursive: true, force: true });
  });
});
