import * as assert from "assert";
import { Writable } from "stream";
import { createLineWriter, OutputClosedError, recordToLine } from "../../../apps/subscriber/output";

const record = (data: string | Uint8Array) => ({
  Data: typeof data === "string" ? Buffer.from(data, "utf8") : data,
  PartitionKey: "pk-1",
  SequenceNumber: "4960001",
});

describe("subscriber output: one JSON line per record", () => {
  it("passes a publisher record (JSON + newline) through as it is, without the newline", () => {
    assert.strictEqual(recordToLine(record('{"name":"dennis 1","age":1,"id":"r-1"}\n')), '{"name":"dennis 1","age":1,"id":"r-1"}');
  });

  it("keeps the exact text of single-line JSON (large numbers stay exact)", () => {
    assert.strictEqual(recordToLine(record('{"id": 12345678901234567890, "s": "ä ✓"}\r\n')), '{"id": 12345678901234567890, "s": "ä ✓"}');
  });

  it("re-encodes JSON spread over several lines as one compact line", () => {
    const line = recordToLine(record('{\n  "a": 1,\n  "b": [1, 2]\n}\n'));
    assert.strictEqual(line, '{"a":1,"b":[1,2]}');
  });

  it("wraps data that is not JSON, not UTF-8 or empty as {partitionKey, sequenceNumber, dataBase64}", () => {
    for (const data of ["hello world\n", "line 1\nline 2", "", new Uint8Array([0xff, 0xfe, 0x00, 0x7b])]) {
      const line = recordToLine(record(data));
      assert.ok(!line.includes("\n"), line);
      const bytes = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
      assert.deepStrictEqual(JSON.parse(line), { partitionKey: "pk-1", sequenceNumber: "4960001", dataBase64: bytes.toString("base64") });
    }
  });

  it("treats invalid UTF-8 that happens to parse after lossy decoding as binary", () => {
    // 0xC3 alone is invalid UTF-8; a lossy decoder would turn it into U+FFFD inside a valid JSON string.
    const data = Buffer.concat([Buffer.from('"a'), Buffer.from([0xc3]), Buffer.from('"')]);
    assert.ok("dataBase64" in JSON.parse(recordToLine(record(data))));
  });
});

describe("subscriber output: line writer", () => {
  it("resolves only once the stream took the line (backpressure)", async () => {
    const chunks: string[] = [];
    let release!: () => void;
    const slow = new Writable({
      highWaterMark: 1,
      write(chunk, _enc, callback) {
        chunks.push(String(chunk));
        release = callback;
      },
    });
    const write = createLineWriter(slow);
    let done = false;
    const pending = write("one").then(() => (done = true));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepStrictEqual(chunks, ["one\n"]);
    assert.strictEqual(done, false, "resolved before the stream accepted the line");
    release();
    await pending;
    assert.strictEqual(done, true);
  });

  it("rejects with OutputClosedError after EPIPE, for that line and every later one", async () => {
    const broken = new Writable({
      write(_chunk, _enc, callback) {
        callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const write = createLineWriter(broken);
    await assert.rejects(write("a"), (err: Error) => err instanceof OutputClosedError && /EPIPE/.test(err.message));
    await assert.rejects(write("b"), OutputClosedError);
  });
});
