import * as assert from "assert";
import {
  demoRecords,
  encodeRecord,
  KINESIS_LIMITS,
  newRunId,
  personRecord,
  recordProblem,
  recordSize,
} from "../../../runtime/producer/records";

describe("publisher: demo records", () => {
  it("are persons named 'dennis N' aged N with a run-unique id", () => {
    assert.deepStrictEqual(personRecord("run", 7), { id: "run-7", name: "dennis 7", age: 7 });
    assert.notStrictEqual(newRunId(), newRunId());
    assert.match(newRunId(new Date("2025-01-02T03:04:05.678Z")), /^20250102T030405Z-[0-9a-f]{6}$/);
  });

  it("encode as one JSON object with no line break (the wire-tap adds the archive's one new line)", () => {
    const text = Buffer.from(encodeRecord({ name: "dennis 1", age: 1 })).toString("utf8");
    assert.strictEqual(text, '{"name":"dennis 1","age":1}');
    const [fast] = [...demoRecords("r", 1)];
    assert.strictEqual(Buffer.from(fast.data).toString("utf8"), '{"id":"r-1","name":"dennis 1","age":1}');
  });

  it("are the bytes of encodeRecord(personRecord(...)) across digit counts and slab boundaries", () => {
    let i = 0;
    // 5,000 records of ~45 bytes fill three 64 KiB slabs and cross 1 -> 4 digit ids.
    for (const record of demoRecords("r", 5000)) {
      i++;
      assert.strictEqual(Buffer.from(record.data).toString("latin1"), Buffer.from(encodeRecord(personRecord("r", i))).toString("latin1"), `record ${i}`);
    }
    assert.strictEqual(i, 5000);
    // A run id JSON would escape takes the JSON.stringify path.
    const [odd] = [...demoRecords('r"1', 1)];
    assert.deepStrictEqual(JSON.parse(Buffer.from(odd.data).toString()), { id: 'r"1-1', name: "dennis 1", age: 1 });
  });

  it("are produced lazily, keyed by id or cycling over N keys", () => {
    const byId = [...demoRecords("r", 3)];
    assert.deepStrictEqual(byId.map((r) => r.partitionKey), ["r-1", "r-2", "r-3"]);
    assert.deepStrictEqual(JSON.parse(Buffer.from(byId[2].data).toString()), { id: "r-3", name: "dennis 3", age: 3 });
    assert.deepStrictEqual([...demoRecords("r", 5, 2)].map((r) => r.partitionKey), ["0", "1", "0", "1", "0"]);
    const huge = demoRecords("r", Number.MAX_SAFE_INTEGER);
    assert.strictEqual(huge.next().value?.partitionKey, "r-1");
  });
});

describe("publisher: record limits", () => {
  it("count data and partition key bytes against 1 MiB", () => {
    const key = "ключ"; // 8 bytes in UTF-8
    assert.strictEqual(recordSize(new Uint8Array(10), key), 18);
    const fits = new Uint8Array(KINESIS_LIMITS.maxRecordBytes - 8);
    assert.strictEqual(recordProblem(fits, key), undefined);
    assert.strictEqual(recordProblem(new Uint8Array(fits.length + 1), key), "RecordTooLarge");
  });

  it("accept partition keys of 1..256 characters", () => {
    const data = new Uint8Array(1);
    assert.strictEqual(recordProblem(data, ""), "InvalidPartitionKey");
    assert.strictEqual(recordProblem(data, "k".repeat(256)), undefined);
    assert.strictEqual(recordProblem(data, "😀".repeat(256)), undefined, "characters, not UTF-16 units");
    assert.strictEqual(recordProblem(data, "k".repeat(257)), "InvalidPartitionKey");
  });
});
