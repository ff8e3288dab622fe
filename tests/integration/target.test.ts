import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { UserError } from "../../runtime/errors";
import { resolveTarget, Target } from "../../apps/lib/target";
import { useLocalKinesis } from "../helpers/local-kinesis";

/**
 * An environment with nothing AWS in it (no region, profile, credentials or endpoint), plus `extra`.
 * The SDK itself reads process.env, which tests/helpers/setup.ts has cleared the same way.
 */
function bareEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_EC2_METADATA_DISABLED: "true", ...extra };
}

async function rejectsWith(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${err.name}: ${err.message}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "a user error is one line");
    return true;
  });
}

describe("target selection (apps/lib/target.ts)", function () {
  this.timeout(60_000);
  const emulator = useLocalKinesis();
  const logs: string[] = [];
  const log = (line: string) => logs.push(line);
  let tmp: string;
  let stream: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-target-"));
    stream = await emulator.createStream(emulator.uniqueName("target"), 1);
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  beforeEach(() => (logs.length = 0));

  async function using<T>(target: Promise<Target>, check: (t: Target) => T): Promise<T> {
    const t = await target;
    try {
      return check(t);
    } finally {
      await t.close();
    }
  }

  it("--stream with AWS_ENDPOINT_URL_KINESIS uses that endpoint and says so", async () => {
    await using(resolveTarget({ stream }, log, bareEnv({ AWS_ENDPOINT_URL_KINESIS: emulator.endpoint })), (t) => {
      assert.strictEqual(t.streamName, stream);
      assert.strictEqual(t.local, false);
      assert.ok(logs.some((l) => l.includes(stream) && l.includes(emulator.endpoint) && l.includes("--stream")), logs.join("\n"));
    });
  });

  it("KINESIS_STREAM_NAME selects the stream when --stream is absent; --stream wins over it", async () => {
    const env = bareEnv({ AWS_ENDPOINT_URL: emulator.endpoint, KINESIS_STREAM_NAME: stream });
    await using(resolveTarget({}, log, env), (t) => assert.strictEqual(t.streamName, stream));
    await rejectsWith(resolveTarget({ stream: "other-stream" }, log, env), /stream "other-stream" not found/);
  });

  it("--segment resolves through a catalog file and unknown segments list the known ones", async () => {
    const catalog = path.join(tmp, "catalog.json");
    fs.writeFileSync(catalog, JSON.stringify({ "ingest/persons": { streamName: stream, streamArn: `arn:aws:kinesis:us-east-1:000000000000:stream/${stream}` } }));
    const env = bareEnv({ AWS_ENDPOINT_URL_KINESIS: emulator.endpoint });
    await using(resolveTarget({ segment: "ingest/persons", catalog }, log, env), (t) => assert.strictEqual(t.streamName, stream));
    await rejectsWith(resolveTarget({ segment: "ingest/orders", catalog }, log, env), /unknown segment "ingest\/orders".*known segments: ingest\/persons/);
  });

  it("a missing or broken catalog says how to get one", async () => {
    const env = bareEnv({ AWS_ENDPOINT_URL_KINESIS: emulator.endpoint });
    await rejectsWith(resolveTarget({ segment: "ingest/persons" }, log, env), /pulumi stack output catalog --json/);
    const broken = path.join(tmp, "broken.json");
    fs.writeFileSync(broken, "{not json");
    await rejectsWith(resolveTarget({ segment: "ingest/persons", catalog: broken }, log, env), /not JSON.*pulumi stack output catalog/);
    await rejectsWith(resolveTarget({ segment: "ingest/persons", catalog: path.join(tmp, "absent.json") }, log, env), /cannot be read/);
  });

  it("AWS without a region fails in one line naming the fix", async () => {
    await rejectsWith(resolveTarget({ stream: "s" }, log, bareEnv({ AWS_PROFILE: "nobody" })), /no AWS region configured: set AWS_REGION/);
  });

  it("AWS without credentials fails in one line naming the fix", async () => {
    await rejectsWith(resolveTarget({ stream: "s" }, log, bareEnv({ AWS_REGION: "eu-west-1" })), /no AWS credentials/);
  });

  it("with no AWS target configured, the embedded local lake serves the dev topology's segments", async () => {
    const env = bareEnv({ DATALAKE_LOCAL_DIR: path.join(tmp, "local") });
    await using(resolveTarget({ segment: "curated/adults" }, log, env), (t) => {
      assert.strictEqual(t.local, true);
      assert.strictEqual(t.streamName, "datalake-dev-curated-adults");
      assert.ok(logs.some((l) => l.startsWith("target: local lake")), logs.join("\n"));
    });
    await rejectsWith(resolveTarget({ segment: "ingest/nope" }, log, env), /unknown segment "ingest\/nope".*ingest\/persons/);
    await rejectsWith(resolveTarget({ segment: "Ingest" }, log, env), /not a segment address/);
  });

  it("--local uses the embedded lake even with AWS settings in the environment (an unresolvable profile too)", async () => {
    const env = bareEnv({ DATALAKE_LOCAL_DIR: path.join(tmp, "local-forced"), AWS_REGION: "eu-west-1", AWS_PROFILE: "nobody" });
    await rejectsWith(resolveTarget({ segment: "ingest/persons" }, log, env), /no catalog to resolve --segment/);
    await using(resolveTarget({ segment: "ingest/persons", local: true }, log, env), (t) => {
      assert.strictEqual(t.local, true);
      assert.strictEqual(t.streamName, "datalake-dev-ingest-persons");
    });
  });

  it("an endpoint without a scheme: http:// on loopback, a one-line fix elsewhere", async () => {
    const hostPort = emulator.endpoint.replace(/^http:\/\//, "");
    await using(resolveTarget({ stream, endpoint: hostPort }, log, bareEnv()), (t) => {
      assert.strictEqual(t.streamName, stream);
      assert.ok(logs.some((l) => l.includes(`at http://${hostPort}`)), logs.join("\n"));
    });
    await using(resolveTarget({ stream }, log, bareEnv({ AWS_ENDPOINT_URL_KINESIS: hostPort })), (t) => assert.strictEqual(t.streamName, stream));
    await rejectsWith(
      resolveTarget({ stream, endpoint: "kinesis.example.com:443" }, log, bareEnv({ AWS_REGION: "eu-west-1" })),
      /--endpoint "kinesis\.example\.com:443" has no scheme; use https:\/\/kinesis\.example\.com:443/,
    );
    await rejectsWith(resolveTarget({ stream, endpoint: "ftp://127.0.0.1:1" }, log, bareEnv()), /must start with http:\/\/ or https:\/\//);
  });
});
