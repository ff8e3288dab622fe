import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { useLocalKinesis } from "../helpers/local-kinesis";
import { runNpm } from "../helpers/run-app";



/** An environment with no AWS account configured, plus `extra`. */
function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: os.tmpdir(), AWS_EC2_METADATA_DISABLED: "true", ...extra };
}

function distinctIds(stdout: string): Set<string> {
  const lines = stdout.split("\n").filter((l) => l.trim().length > 0);
  const ids = lines.map((l) => (JSON.parse(l) as { id: string }).id);
  assert.strictEqual(new Set(ids).size, lines.length, "every line is a distinct record");
  return new Set(ids);
}

describe("publish-demo then subscribe, the apps as users run them", function () {
  this.timeout(300_000);
  const emulator = useLocalKinesis();

  it("N records published to a 4-shard stream come back as N distinct JSON lines", async () => {
    const stream = await emulator.createStream(emulator.uniqueName("roundtrip"), 4);
    const n = 2500;
    const e = env({ AWS_ENDPOINT_URL_KINESIS: emulator.endpoint });
    const pub = await runNpm("publish-demo", ["--stream", stream, "--count", String(n)], e);
    assert.strictEqual(pub.status, 0, pub.stderr);
    const sub = await runNpm("subscribe", ["--stream", stream, "--from", "trim-horizon", "--max", String(n), "--idle-timeout", "20"], e);
    assert.strictEqual(sub.status, 0, sub.stderr);
    const ids = distinctIds(sub.stdout);
    assert.strictEqual(ids.size, n);
    assert.match(sub.stderr, new RegExp(`target: stream ${stream} at ${emulator.endpoint.replace(/[.]/g, "\\.")}`));
  });

  it("with no AWS target, both apps share the embedded local lake across runs", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "datalake-local-"));
    try {
      const e = env({ DATALAKE_LOCAL_DIR: dir });
      const pub = await runNpm("publish-demo", ["--segment", "ingest/orders", "--count", "300"], e);
      assert.strictEqual(pub.status, 0, pub.stderr);
      assert.match(pub.stderr, /target: local lake .* stream datalake-dev-ingest-orders/);
      const sub = await runNpm("subscribe", ["--segment", "ingest/orders", "--from", "trim-horizon", "--max", "300", "--idle-timeout", "20"], e);
      assert.strictEqual(sub.status, 0, sub.stderr);
      assert.strictEqual(distinctIds(sub.stdout).size, 300);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
