/**
 * A kill between a registration and kinesis-local's timer that makes it ACTIVE left a consumer (or a stream)
 * CREATING in the snapshot, and every later start of the lake waited for it in vain ("consumer ... did not
 * become ACTIVE within 30 s", found by the kill -9 storm). A start finishes it as AWS would.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { repairState } from "../../../local/kinesis-state";

describe("repairState: registrations a kill interrupted", () => {
  it("makes CREATING streams and consumers ACTIVE and drops what was DELETING", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "state-finish-"));
    try {
      const stream = (name: string, status: string, consumers: Record<string, string>) => ({
        streamName: name,
        streamArn: `arn:aws:kinesis:eu-west-1:000000000000:stream/${name}`,
        streamStatus: status,
        retentionPeriod: { length: 24, unit: "HOURS" },
        shards: {},
        consumers: Object.fromEntries(Object.entries(consumers).map(([c, s]) => [c, { ConsumerName: c, ConsumerStatus: s }])),
      });
      const streams = [stream("a", "ACTIVE", { ok: "ACTIVE", half: "CREATING", gone: "DELETING" }), stream("b", "CREATING", {}), stream("c", "DELETING", {})];
      const file = path.join(dir, "kinesis-data.json");
      fs.writeFileSync(file, JSON.stringify({ streams: Object.fromEntries(streams.map((s) => [s.streamArn, s])) }));
      const repair = repairState(file, path.join(dir, "wal"));
      assert.strictEqual(repair.finished, 4);
      const after = JSON.parse(fs.readFileSync(file, "utf8")) as { streams: Record<string, { streamName: string; streamStatus: string; consumers: Record<string, { ConsumerStatus: string }> }> };
      const byName = Object.fromEntries(Object.values(after.streams).map((s) => [s.streamName, s]));
      assert.deepStrictEqual(Object.keys(byName).sort(), ["a", "b"]);
      assert.strictEqual(byName.b.streamStatus, "ACTIVE");
      assert.deepStrictEqual(
        Object.fromEntries(Object.entries(byName.a.consumers).map(([c, v]) => [c, v.ConsumerStatus])),
        { ok: "ACTIVE", half: "ACTIVE" },
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
