/**
 * Starts one real kinesis-local emulator for a mocha suite and stops it afterwards.
 *
 *   const lake = useLocalKinesis();            // inside describe()
 *   it("...", async () => { await lake.createStream("s", 4); lake.client.send(...) });
 */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../runtime/client";
import { LocalKinesis, startLocalKinesis } from "../../local/kinesis";
import { ensureStream } from "../../runtime/streams";

export interface LocalKinesisFixture {
  /** `http://127.0.0.1:<port>`; valid inside tests and hooks. */
  readonly endpoint: string;
  /** A client on that endpoint; valid inside tests and hooks. */
  readonly client: KinesisClient;
  /** Creates a provisioned stream (or on-demand without shards) and waits until it is ACTIVE. */
  createStream(name: string, shards?: number): Promise<string>;
  /** A stream name not used before in this run. */
  uniqueName(prefix: string): string;
}

let counter = 0;

export function useLocalKinesis(): LocalKinesisFixture {
  let emulator: LocalKinesis | undefined;
  let client: KinesisClient | undefined;
  before(async function () {
    this.timeout(90_000);
    emulator = await startLocalKinesis();
    client = createKinesisClient({ endpoint: emulator.endpoint });
  });
  after(async function () {
    this.timeout(30_000);
    client?.destroy();
    await emulator?.stop();
  });
  return {
    get endpoint() {
      if (!emulator) throw new Error("useLocalKinesis: emulator not started (use inside tests or hooks)");
      return emulator.endpoint;
    },
    get client() {
      if (!client) throw new Error("useLocalKinesis: emulator not started (use inside tests or hooks)");
      return client;
    },
    async createStream(name: string, shards?: number) {
      await ensureStream(this.client, { name, shards });
      return name;
    },
    uniqueName(prefix: string) {
      counter += 1;
      return `${prefix}-${process.pid}-${counter}`;
    },
  };
}
