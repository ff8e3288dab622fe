/**
 * The replay core against an in-memory archive and a stub sender (the delivery core itself is tested with
 * the publisher): batches, checkpoint after each delivered batch only, resume position, filter, corrupt
 * objects, and a failed batch keeping the checkpoint before it.
 */
import * as assert from "assert";
import { getEventListeners } from "events";
import * as zlib from "zlib";
import { ReplayCheckpoint } from "../../../apps/replay/checkpoint";
import { replay, ReplayStoppedError } from "../../../apps/replay/replay";
import type { PublishRecord, PublishSummary } from "../../../runtime/producer/publisher";
import type { ArchiveStore } from "../../../runtime/archive/local-store";
import { wireTapObjectKey } from "../../../model/naming";

const FROM = new Date("2026-11-26T10:00:00Z");
const TO = new Date("2026-11-26T11:00:00Z");

function store(objects: Record<string, Buffer>): ArchiveStore {
  return {
    description: "memory",
    async *list(prefix: string) {
      for (const key of Object.keys(objects)) if (key.startsWith(prefix)) yield key;
    },
    async read(key: string) {
      return objects[key];
    },
  };
}

const key = (iso: string, id: string, compression = "GZIP") => wireTapObjectKey("s", compression, new Date(iso), id);
const body = (from: number, to: number) => Buffer.from(Array.from({ length: to - from + 1 }, (_, i) => `{"id":${from + i}}\n`).join(""));

function sender(failAt?: number) {
  const sent: string[] = [];
  let calls = 0;
  const send = async (records: PublishRecord[]): Promise<PublishSummary> => {
    calls++;
    const ok = calls === failAt ? 0 : records.length;
    for (const r of records.slice(0, ok)) sent.push(Buffer.from(r.data).toString());
    return ({
      records: records.length,
      sent: ok,
      bytes: 0,
      durationMs: 1,
      recordsPerSecond: 0,
      requests: 1,
      retries: { resentRecords: 0, throttledRequests: 0 },
      failed: { count: records.length - ok, reasons: ok ? {} : { ProvisionedThroughputExceededException: records.length } },
      interrupted: false,
      // Only `sent` and `failed` matter to replay; the rest of the summary is the publisher's business.
    } as unknown) as PublishSummary;
  };
  return { sent, send };
}

function checkpoint(start?: ReplayCheckpoint) {
  const saved: ReplayCheckpoint[] = [];
  const state: ReplayCheckpoint = start ?? {
    version: 1,
    replay: { segment: "a/b", into: "c/d", from: FROM.toISOString(), to: TO.toISOString(), filter: null, keyField: null },
    published: 0,
  };
  return { saved, cp: { state, save: (s: ReplayCheckpoint) => saved.push(JSON.parse(JSON.stringify(s)) as ReplayCheckpoint) } };
}

describe("replay core", () => {
  const archive = {
    [key("2026-11-26T10:05:00Z", "a")]: zlib.gzipSync(body(1, 7)),
    [key("2026-11-26T10:30:00Z", "b", "UNCOMPRESSED")]: body(8, 10),
    [key("2026-11-26T11:00:00Z", "c")]: zlib.gzipSync(body(99, 99)),
  };

  it("sends the window's records in time order, in batches, saving the position after each delivered batch", async () => {
    const { sent, send } = sender();
    const { saved, cp } = checkpoint();
    const summary = await replay({ store: store(archive), from: FROM, to: TO, send, checkpoint: cp, batchSize: 4 });
    assert.deepStrictEqual(sent.map((s) => JSON.parse(s).id), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.deepStrictEqual([summary.objects, summary.recordsRead, summary.published], [2, 10, 10]);
    assert.deepStrictEqual(
      saved.map((s) => [s.position?.index, s.published]),
      [[4, 4], [1, 8], [3, 10], [3, 10]],
    );
    assert.ok(saved.at(-1)?.completedAt);
  });

  it("resumes after the saved position, sending nothing before it again", async () => {
    const { sent, send } = sender();
    const { cp } = checkpoint();
    cp.state.position = { key: key("2026-11-26T10:05:00Z", "a"), index: 6 };
    await replay({ store: store(archive), from: FROM, to: TO, send, checkpoint: cp, batchSize: 4 });
    assert.deepStrictEqual(sent.map((s) => JSON.parse(s).id), [7, 8, 9, 10]);
  });

  it("keeps the checkpoint before a batch that could not be delivered", async () => {
    const { send } = sender(2);
    const { saved, cp } = checkpoint();
    await assert.rejects(replay({ store: store(archive), from: FROM, to: TO, send, checkpoint: cp, batchSize: 4 }), ReplayStoppedError);
    assert.deepStrictEqual(saved.map((s) => s.position?.index), [4]);
    assert.ok(!saved.some((s) => s.completedAt));
  });

  it("replays only what the filter matches, and counts in a dry run without sending", async () => {
    const { sent, send } = sender();
    const summary = await replay({ store: store(archive), from: FROM, to: TO, send, filter: { id: [{ numeric: [">", 8] }] } });
    assert.deepStrictEqual(sent.map((s) => JSON.parse(s).id), [9, 10]);
    assert.strictEqual(summary.matched, 2);
    const dry = await replay({ store: store(archive), from: FROM, to: TO, dryRun: true });
    assert.deepStrictEqual([dry.matched, dry.published], [10, 0]);
  });

  it("skips a corrupt object whole, or stops at it when asked", async () => {
    const corrupt = { ...archive, [key("2026-11-26T10:20:00Z", "x")]: zlib.gzipSync(body(50, 60)).subarray(0, 20) };
    const { sent, send } = sender();
    const summary = await replay({ store: store(corrupt), from: FROM, to: TO, send });
    assert.deepStrictEqual(summary.corrupt, [key("2026-11-26T10:20:00Z", "x")]);
    assert.strictEqual(sent.length, 10);
    await assert.rejects(replay({ store: store(corrupt), from: FROM, to: TO, send: sender().send, onCorrupt: "fail" }), /corrupt object/);
  });

  it("remembers a skipped corrupt object: a re-run after the window completed fails naming it, then replays only it once restored", async () => {
    const bad = key("2026-11-26T10:20:00Z", "x");
    const good = zlib.gzipSync(body(50, 55));
    const objects: Record<string, Buffer> = { ...archive, [bad]: good.subarray(0, 20) };
    const { saved, cp } = checkpoint();
    const first = await replay({ store: store(objects), from: FROM, to: TO, send: sender().send, checkpoint: cp, batchSize: 4 });
    assert.deepStrictEqual([first.corrupt, first.unreplayed], [[bad], [bad]]);
    assert.ok(saved.at(-1)?.completedAt);
    assert.deepStrictEqual(saved.at(-1)?.skipped, [bad]);

    // Still corrupt: nothing sent, still unreplayed.
    const again = sender();
    const second = await replay({ store: store(objects), from: FROM, to: TO, send: again.send, checkpoint: cp, batchSize: 4 });
    assert.deepStrictEqual([again.sent.length, second.unreplayed], [0, [bad]]);

    // Restored (a previous version copied back): exactly its records, and the checkpoint forgets it.
    objects[bad] = good;
    const third = sender();
    const recovered = await replay({ store: store(objects), from: FROM, to: TO, send: third.send, checkpoint: cp, batchSize: 4 });
    assert.deepStrictEqual(third.sent.map((s) => JSON.parse(s).id), [50, 51, 52, 53, 54, 55]);
    assert.deepStrictEqual([recovered.recovered, recovered.unreplayed], [[bad], []]);
    assert.strictEqual(cp.state.skipped, undefined);
    assert.strictEqual(cp.state.retrying, undefined);
  });

  it("resumes a skipped object's replay inside it after an interruption", async () => {
    const bad = key("2026-11-26T10:20:00Z", "x");
    const { cp } = checkpoint();
    cp.state.position = { key: key("2026-11-26T10:30:00Z", "b", "UNCOMPRESSED"), index: 3 };
    cp.state.completedAt = "2026-11-27T00:00:00.000Z";
    cp.state.skipped = [bad];
    cp.state.retrying = { key: bad, index: 4 };
    const { sent, send } = sender();
    await replay({ store: store({ ...archive, [bad]: zlib.gzipSync(body(50, 55)) }), from: FROM, to: TO, send, checkpoint: cp, batchSize: 4 });
    assert.deepStrictEqual(sent.map((s) => JSON.parse(s).id), [54, 55]);
  });

  it("reports a skipped object that is no longer in the archive", async () => {
    const gone = key("2026-11-26T10:20:00Z", "gone");
    const { cp } = checkpoint();
    cp.state.skipped = [gone];
    const summary = await replay({ store: store(archive), from: FROM, to: TO, send: sender().send, checkpoint: cp });
    assert.deepStrictEqual([summary.missing, summary.unreplayed], [[gone], [gone]]);
  });

  it("a dry run counts from the checkpoint's position and saves nothing", async () => {
    const { saved, cp } = checkpoint();
    cp.state.position = { key: key("2026-11-26T10:05:00Z", "a"), index: 6 };
    const dry = await replay({ store: store(archive), from: FROM, to: TO, dryRun: true, checkpoint: cp });
    assert.deepStrictEqual([dry.matched, dry.published, saved.length], [4, 0, 0]);
  });

  it("never marks a window that has not ended complete", async () => {
    const { saved, cp } = checkpoint();
    const summary = await replay({ store: store(archive), from: FROM, to: TO, now: new Date("2026-11-26T10:45:00Z"), send: sender().send, checkpoint: cp });
    assert.strictEqual(summary.windowOpen, true);
    assert.ok(saved.length > 0 && !saved.some((s) => s.completedAt));
  });

  it("paces with --rate without leaving a listener on the stop signal per batch", async () => {
    const controller = new AbortController();
    const { sent, send } = sender();
    await replay({ store: store(archive), from: FROM, to: TO, send, rate: 200, signal: controller.signal });
    assert.strictEqual(sent.length, 10);
    assert.strictEqual(getEventListeners(controller.signal, "abort").length, 0);
  });
});
