/**
 * The local processor's checkpoint (local/processor/checkpoint-file.ts): the subscriber's format with each
 * shard's open tumbling window as its `state`, and files of the processor's earlier format loaded as the
 * same positions and windows. End to end on a STUB stream: a processor started on an earlier-format file
 * resumes after its record with its open window's state, and ends that window at the tip once it is over.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { parseCheckpoint } from "../../../runtime/consumer/checkpoint";
import { fromLegacyCheckpoint, ProcessorCheckpointFile } from "../../../local/processor/checkpoint-file";
import { LocalProcessor } from "../../../local/processor";
import { parseLakeConfig } from "../../../model/config";
import type { ProcessorEvent } from "../../../model/processor/handler";
import { records, shardId, StubKinesis } from "../../helpers/stub-kinesis";

const window = { startMs: Date.parse("2026-11-26T12:00:00Z"), state: { c1: 3 } };

describe("local processor: its checkpoint file", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "processor-checkpoint-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("loads the earlier format as the same positions, with the open window as the shard's state", () => {
    const legacy = {
      shards: {
        a: { sequenceNumber: "49001", start: { type: "TRIM_HORIZON" }, window },
        b: { start: { type: "AT_TIMESTAMP", timestamp: "2026-11-26T11:00:00.000Z" } },
        c: { start: { type: "TRIM_HORIZON" } },
        d: { sequenceNumber: "49002", closed: true },
      },
    };
    assert.deepStrictEqual(fromLegacyCheckpoint(legacy), {
      a: { sequenceNumber: "49001", state: { window } },
      b: { start: { atTimestamp: "2026-11-26T11:00:00.000Z" } },
      c: { start: "trim-horizon" },
      d: { sequenceNumber: "49002", ended: true },
    });
    assert.strictEqual(fromLegacyCheckpoint({ version: 1, stream: "s", shards: {} }), undefined);
    assert.strictEqual(fromLegacyCheckpoint({ shards: [] }), undefined);
  });

  it("saves the subscriber's format (state included) and starts afresh from a file of another stream or none", async () => {
    const file = path.join(dir, "checkpoint.json");
    const lines: string[] = [];
    const store = new ProcessorCheckpointFile(file, (line) => lines.push(line));
    await store.save("source", { a: { sequenceNumber: "49001", state: { window } } });
    assert.deepStrictEqual(parseCheckpoint(fs.readFileSync(file, "utf8")), { version: 1, stream: "source", shards: { a: { sequenceNumber: "49001", state: { window } } } });
    assert.deepStrictEqual(await store.load("source"), { a: { sequenceNumber: "49001", state: { window } } });
    assert.deepStrictEqual(await store.load("other"), {});
    fs.writeFileSync(file, "not json");
    assert.deepStrictEqual(await store.load("source"), {});
    assert.strictEqual(lines.length, 2, lines.join("\n"));
  });

  it("resumes a processor from an earlier-format file: after its record, with its window's state, ended at the tip", async function () {
    this.timeout(20_000);
    const windowSeconds = 60;
    const startMs = Math.floor((Date.now() - 5 * 60_000) / 60_000) * 60_000; // a window that is over
    const source = records(0, 10).map((r, i) => ({ ...r, ApproximateArrivalTimestamp: new Date(startMs + 1000 + i) }));
    const stub = new StubKinesis([{ id: shardId(0), records: source }]);
    const client = {
      send: (command: { constructor: { name: string } }) => (command instanceof PutRecordsCommand ? Promise.resolve({ Records: [] }) : stub.send(command as never)),
    };
    const route = parseLakeConfig(
      {
        layers: { ingest: { segments: { orders: {} } }, curated: { segments: { stats: {} } } },
        routes: [{ from: "ingest/orders", to: "curated/stats", aggregate: { windowSeconds, groupBy: ["customer"], count: true }, startAt: "trim-horizon" }],
      },
      { project: "datalake", stack: "t" },
    ).routes[0];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const p = new LocalProcessor({ route, client: client as any, sourceStream: "stream", targetStream: "t", sourceStreamArn: "arn:aws:kinesis:us-east-1:000000000000:stream/stream", dataDir: dir, idlePollMs: 50 });
    fs.writeFileSync(p.checkpointFile, JSON.stringify({ shards: { [shardId(0)]: { sequenceNumber: source[4].SequenceNumber, window: { startMs, state: { earlier: 5 } } } } }));
    const events: ProcessorEvent[] = [];
    const stop = new AbortController();
    // The handler's part is not under test here: it records the events and carries the state on.
    (p as unknown as { handler: (e: ProcessorEvent) => Promise<unknown> }).handler = async (event) => {
      events.push(event);
      if (event.isFinalInvokeForWindow) stop.abort();
      return { state: { ...event.state, seen: ((event.state?.seen as number) ?? 0) + (event.Records?.length ?? 0) }, batchItemFailures: [] };
    };
    const deadline = setTimeout(() => stop.abort(), 10_000); // a window never ended fails below, not by timeout
    await p.run(stop.signal);
    clearTimeout(deadline);
    assert.deepStrictEqual(
      events.map((e) => [e.Records?.map((r) => r.kinesis.sequenceNumber), e.state, e.isFinalInvokeForWindow]),
      [
        [source.slice(5).map((r) => r.SequenceNumber), { earlier: 5 }, false],
        [[], { earlier: 5, seen: 5 }, true],
      ],
    );
    const saved = parseCheckpoint(fs.readFileSync(p.checkpointFile, "utf8"));
    assert.deepStrictEqual(saved?.shards, { [shardId(0)]: { sequenceNumber: source[9].SequenceNumber } }, "the window is closed and the file in the new format");
  });
});
