/** Section 5: the local lake's publish rate on an empty emulator and on one holding several MB. */
import { bestRate } from "../local-lake-durability";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createKinesisClient } from "../../runtime/client";
import { ensureStream } from "../../runtime/streams";
import { publish } from "../../runtime/producer/publisher";
import { startLocalKinesis } from "../../local/kinesis";
import { quick } from "./options";
import { fmt, say } from "./report";

/** 5. The local lake's speed with state. */
export async function localLake(): Promise<void> {
  say("## 5. Local lake: speed with state (kinesis-local persisting to disk, as the local lake runs it)");
  say();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-lake-"));
  const emulator = await startLocalKinesis({ persistDir: dir });
  const client = createKinesisClient({ endpoint: emulator.endpoint });
  try {
    const n = quick ? 1500 : 3000;
    // The best of three short runs: a run of a second or two is easily slowed by other work on the
    // machine (once a third of the rate), which would read as decay.
    const rate = (stream: string) => bestRate(client, stream, n);
    await ensureStream(client, { name: "empty", shards: 2 });
    const empty = await rate("empty");
    // State: big records (several MB) in another stream.
    const mb = quick ? 4 : 8;
    await ensureStream(client, { name: "state", shards: 2 });
    const big = Buffer.alloc(100 * 1024, "x");
    await publish(client, "state", (function* () {
      for (let i = 0; i < mb * 10; i++) yield { data: big, partitionKey: `s${i}` };
    })(), { pacing: false });
    await ensureStream(client, { name: "after", shards: 2 });
    const after = await rate("after");
    say(`- publish rate (best of 3 runs of ${fmt(n)} records), empty lake: ${fmt(empty)} records/s; after ${mb} MB of state: ${fmt(after)} records/s; ratio ${(after / empty).toFixed(2)} (no decay means about 1)`);
  } finally {
    client.destroy();
    await emulator.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  say();
}
