/**
 * `apps/subscriber/main.ts` as a child process against kinesis-local: records on stdout, logs on stderr,
 * flag errors in one line with exit status 2.
 */
import * as assert from "assert";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { AppRun, runApp } from "../helpers/run-app";

function runSubscriber(args: string[], env: NodeJS.ProcessEnv): Promise<AppRun> {
  return runApp("apps/subscriber/main.ts", args, { ...process.env, KINESIS_STREAM_NAME: "", ...env });
}

describe("subscriber CLI on kinesis-local", function () {
  this.timeout(60_000);
  const lake = useLocalKinesis();

  it("writes exactly N distinct JSON lines to stdout and names the target on stderr", async () => {
    const stream = await lake.createStream(lake.uniqueName("sub-cli"), 3);
    const n = 600;
    await lake.client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: 500 }, (_, i) => ({
          PartitionKey: `k-${i}`,
          Data: Buffer.from(`${JSON.stringify({ id: `r-${i}`, name: `dennis ${i}`, age: i })}\n`),
        })),
      }),
    );
    await lake.client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: Array.from({ length: 200 }, (_, i) => ({ PartitionKey: `k-${500 + i}`, Data: Buffer.from(JSON.stringify({ id: `r-${500 + i}` })) })),
      }),
    );
    const result = await runSubscriber(["--stream", stream, "--from", "trim-horizon", "--max", String(n), "--idle-timeout", "20"], {
      AWS_ENDPOINT_URL_KINESIS: lake.endpoint,
    });
    assert.strictEqual(result.code, 0, result.stderr);
    const lines = result.stdout.split("\n");
    assert.strictEqual(lines.pop(), "", "stdout must end with a newline");
    assert.strictEqual(lines.length, n);
    const ids = lines.map((line) => JSON.parse(line).id);
    assert.strictEqual(new Set(ids).size, n);
    assert.match(result.stderr, new RegExp(`target: stream ${stream} at ${lake.endpoint.replace(/[.]/g, "\\.")}`));
    assert.match(result.stderr, /summary: 600 records/);
  });

  it("rejects a bad --from with exit status 2 and one line naming the flag, without a stack trace", async () => {
    const result = await runSubscriber(["--stream", "anything", "--from", "yesterday"], { AWS_ENDPOINT_URL_KINESIS: lake.endpoint });
    assert.strictEqual(result.code, 2);
    assert.strictEqual(result.stdout, "");
    const lines = result.stderr.trim().split("\n");
    assert.strictEqual(lines.length, 1, result.stderr);
    assert.match(lines[0], /^error: .*--from.*trim-horizon, latest or an ISO-8601 time/);
  });

  it("fails in one line, exit status 2, for a stream that does not exist", async () => {
    const result = await runSubscriber(["--stream", "no-such-stream", "--max", "1"], { AWS_ENDPOINT_URL_KINESIS: lake.endpoint });
    assert.strictEqual(result.code, 2);
    const errors = result.stderr.split("\n").filter((l) => l.startsWith("error:"));
    assert.strictEqual(errors.length, 1, result.stderr);
    assert.match(errors[0], /no-such-stream/);
    assert.ok(!/^\s+at /m.test(result.stderr), result.stderr);
  });
});
