/**
 * `publish`'s lines: only LF and CRLF end a line (a lone CR is data, also across chunk boundaries), a
 * record is the line's bytes exactly, a line that is not a UTF-8 JSON object is refused by its number
 * unless --raw (which keeps every byte), an over-long line is measured without being held in memory,
 * and the line of the last record the publisher took is known after an interruption.
 */
import * as assert from "assert";
import { Readable } from "stream";
import { lastTakenLine, Line, lineToRecord, newRecordsState, numberedLines, recordsOf } from "../../../apps/publish/lines";
import type { PublishRecord } from "../../../runtime/producer/publisher";

const spread = { keyPrefix: "run" };
const keyed = { keyPrefix: "run", keyField: "id" };
const raw = { keyPrefix: "run", raw: true };

async function linesOf(chunks: Array<string | Buffer>): Promise<Line[]> {
  const out: Line[] = [];
  for await (const line of numberedLines(Readable.from(chunks.map((c) => (typeof c === "string" ? Buffer.from(c, "latin1") : c))))) out.push(line);
  return out;
}

const line = (text: string | Buffer, lineNo = 1): Line => {
  const bytes = typeof text === "string" ? Buffer.from(text, "utf8") : text;
  return { lineNo, bytes, start: 0, end: bytes.length + 1 };
};

function record(result: ReturnType<typeof lineToRecord>): PublishRecord {
  assert.ok(typeof result === "object" && "data" in result, JSON.stringify(result));
  return result;
}

function problem(result: ReturnType<typeof lineToRecord>): string {
  assert.ok(typeof result === "object" && "message" in result, "accepted");
  return result.message;
}

describe("publish: lines to records", () => {
  it("ends lines at LF and CRLF only: a lone CR stays in its line, also when a chunk ends between CR and LF", async () => {
    const lines = await linesOf(['{"a":"x\ry"}\r', '\n{"b":1}\n', "\n", '{"c":2}\r\n{"d":3}']);
    assert.deepStrictEqual(
      lines.map((l) => [l.lineNo, l.bytes.toString("latin1"), l.start, l.end]),
      [
        [1, '{"a":"x\ry"}', 0, 13],
        [2, '{"b":1}', 13, 21],
        [3, "", 21, 22],
        [4, '{"c":2}', 22, 31],
        [5, '{"d":3}', 31, 38],
      ],
    );
  });

  it("publishes the line's bytes without its line break, under a spread key or the key field's value", () => {
    const r = record(lineToRecord(line('{"id":7,"name":"x"}', 3), spread));
    assert.deepStrictEqual([Buffer.from(r.data).toString(), r.partitionKey], ['{"id":7,"name":"x"}', "run-3"]);
    assert.strictEqual(record(lineToRecord(line('{"id":7,"name":"x"}', 3), keyed)).partitionKey, "7");
    assert.strictEqual(lineToRecord(line("", 4), spread), "skip");
    // Numbers and escapes are the publisher's bytes, never re-encoded.
    const exact = '{"n":123456789012345678901,"s":"\\u00e9","f":1.50}';
    assert.strictEqual(Buffer.from(record(lineToRecord(line(exact), spread)).data).toString(), exact);
  });

  it("refuses, by line number, a line that is not valid UTF-8, not JSON, not an object, or starts with a BOM", () => {
    assert.match(problem(lineToRecord(line(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), 2), spread)), /^is not valid UTF-8; records are UTF-8 JSON objects, one per line \(pass --raw/);
    assert.match(problem(lineToRecord(line("not json at all", 5), spread)), /^is not JSON; records are UTF-8 JSON objects/);
    assert.match(problem(lineToRecord(line("[1,2]"), spread)), /^is JSON but not an object/);
    assert.match(problem(lineToRecord(line("42"), spread)), /^is JSON but not an object/);
    assert.match(problem(lineToRecord(line(Buffer.from('\ufeff{"a":1}', "utf8")), spread)), /^starts with a UTF-8 byte order mark/);
    assert.deepStrictEqual(lineToRecord(line("not json", 7), spread), { line: 7, message: "is not JSON; records are UTF-8 JSON objects, one per line (pass --raw to publish lines as they are)" });
  });

  it("with --raw, publishes every byte as it is: not UTF-8, not JSON, a CR inside", async () => {
    const bytes = Buffer.from([0x61, 0xff, 0x0d, 0x62, 0xfe]);
    const [only] = await linesOf([Buffer.concat([bytes, Buffer.from("\r\n")])]);
    assert.ok(Buffer.from(record(lineToRecord(only, raw)).data).equals(bytes));
    assert.match(problem(lineToRecord(line("plain", 2), { ...raw, keyField: "id" })), /is not JSON \(--key-field reads a JSON field/);
  });

  it("names the line whose key field is missing or unusable", () => {
    assert.deepStrictEqual(lineToRecord(line('{"name":"x"}', 9), keyed), { line: 9, message: 'has no field "id" for the partition key' });
    assert.match(problem(lineToRecord(line('{"id":{"a":1}}', 2), keyed)), /must be a string or a number/);
    assert.match(problem(lineToRecord(line('{"id":""}', 2), keyed)), /1 to 256/);
  });

  it("refuses a line over the 1 MiB record limit, and measures a much longer one without keeping it", async () => {
    const exact = `{"x":"${"x".repeat(1024 * 1024 - "run-1".length - 8)}"}`;
    record(lineToRecord(line(exact), spread));
    assert.match(problem(lineToRecord(line(`${exact} `), spread)), /over Kinesis' record limit/);
    const huge = await linesOf([...Array.from({ length: 40 }, () => Buffer.alloc(256 * 1024, 0x61)), "\n{}\n"]);
    assert.deepStrictEqual([huge[0].tooLong, huge[0].bytes.length, huge[1].bytes.toString()], [40 * 256 * 1024, 0, "{}"]);
    assert.match(problem(lineToRecord(huge[0], raw)), /is 10485760 bytes, over Kinesis' record limit/);
  });

  it("knows the line of the last record taken, whether or not the publisher took the last one yielded", async () => {
    const state = newRecordsState();
    const lines = numberedLines(Readable.from([Buffer.from('{"a":1}\n\n{"a":2}\n{"a":3}\n')]));
    const it = recordsOf(lines, spread, state);
    await it.next();
    await it.next();
    assert.strictEqual(lastTakenLine(state, 2)?.lineNo, 3);
    assert.strictEqual(lastTakenLine(state, 1)?.lineNo, 1);
    assert.strictEqual(lastTakenLine(state, 2)?.end, 17);
    assert.strictEqual(lastTakenLine(state, 0), undefined);
  });
});
