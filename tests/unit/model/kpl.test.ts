/**
 * model/kpl.ts against awslabs' aws-kinesis-agg: what we aggregate, their de-aggregator reads; what their
 * aggregator writes, we read; sizes are exact (the publisher fills records up to a byte budget with them);
 * plain and damaged records pass through whole.
 */
import * as assert from "assert";
import { createHash } from "crypto";
import { aggregate, Aggregator, deaggregate, isAggregated, KPL_MAGIC, UserRecord } from "../../../model/kpl";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const agg = require("aws-kinesis-agg") as {
  deaggregateSync(record: unknown, checksums: boolean, cb: (err: Error | null, records?: { partitionKey: string; explicitPartitionKey?: string; data: string }[]) => void): void;
  RecordAggregator: new (cb: (err: Error | null, encoded: { partitionKey: string; data: Buffer }) => void) => {
    aggregateRecords(records: unknown[], forceFlush: boolean): void;
  };
};

const users: UserRecord[] = [
  { partitionKey: "a", data: Buffer.from('{"id":1}\n') },
  { partitionKey: "b", data: Buffer.from('{"id":2}\n'), explicitHashKey: "170141183460469231731687303715884105728" },
  { partitionKey: "a", data: Buffer.from('{"id":3}\n') },
  { partitionKey: "ключ", data: Buffer.alloc(300, 7) },
  { partitionKey: "c", data: Buffer.from("") },
];

describe("KPL aggregation (model/kpl.ts)", () => {
  it("writes what aws-kinesis-agg's own de-aggregator reads, with checksums verified", () => {
    const out = aggregate(users);
    assert.ok(isAggregated(out.data));
    assert.deepStrictEqual(out.data.subarray(0, 4), KPL_MAGIC);
    assert.strictEqual(out.partitionKey, "a");
    let got: { partitionKey: string; explicitPartitionKey?: string; data: string }[] = [];
    agg.deaggregateSync({ partitionKey: out.partitionKey, data: out.data.toString("base64"), sequenceNumber: "1" }, true, (err, records) => {
      assert.ifError(err);
      got = records!;
    });
    assert.deepStrictEqual(
      got.map((r) => [r.partitionKey, Buffer.from(r.data, "base64").toString("hex")]),
      users.map((u) => [u.partitionKey, Buffer.from(u.data).toString("hex")]),
    );
    assert.strictEqual(got[1].explicitPartitionKey, users[1].explicitHashKey);
    // And our own reader gives back exactly what went in, the hash key only where there was one.
    assert.deepStrictEqual(
      deaggregate(out).map((u) => ({ ...u, data: Buffer.from(u.data) })),
      users.map((u) => ({ ...u, data: Buffer.from(u.data) })),
    );
  });

  it("reads what aws-kinesis-agg's aggregator writes", () => {
    const encoded: { partitionKey: string; data: Buffer }[] = [];
    const theirs = new agg.RecordAggregator((err, e) => {
      assert.ifError(err);
      encoded.push(e);
    });
    const input = Array.from({ length: 200 }, (_, i) => ({ partitionKey: `k${i % 7}`, data: Buffer.from(`record ${i}`) }));
    theirs.aggregateRecords(input, true);
    assert.strictEqual(encoded.length, 1);
    const back = deaggregate({ partitionKey: encoded[0].partitionKey, data: encoded[0].data });
    assert.deepStrictEqual(
      back.map((r) => [r.partitionKey, Buffer.from(r.data).toString(), r.explicitHashKey]),
      input.map((r) => [r.partitionKey, r.data.toString(), undefined]),
    );
  });

  it("knows the exact size Kinesis counts (data plus partition key) before building", () => {
    const a = new Aggregator();
    for (let i = 0; i < 5000; i++) {
      const r: UserRecord = { partitionKey: `key-${i % 300}-é`, data: Buffer.alloc(i % 97, i) };
      if (i % 11 === 0) r.explicitHashKey = String(BigInt(i) * 12345678901234567890n);
      const predicted = a.sizeWith(r);
      a.add(r);
      assert.strictEqual(a.size, predicted);
    }
    const size = a.size;
    const out = a.build();
    assert.strictEqual(out.data.length + Buffer.byteLength(out.partitionKey), size);
    assert.strictEqual(out.count, 5000);
    assert.strictEqual(deaggregate(out).length, 5000);
  });

  it("passes plain records and damaged aggregates through whole", () => {
    const plain = { partitionKey: "p", data: Buffer.from('{"x":1}') };
    assert.deepStrictEqual(deaggregate(plain), [plain]);
    const damaged = Buffer.from(aggregate(users).data);
    damaged[damaged.indexOf(Buffer.alloc(50, 7)) + 10] = 8; // a data byte: only the checksum notices
    assert.ok(isAggregated(damaged));
    assert.deepStrictEqual(deaggregate({ partitionKey: "p", data: damaged }), [{ partitionKey: "p", data: damaged }]);
    // Magic bytes and a valid checksum over bytes that are not a protobuf AggregatedRecord.
    const junk = Buffer.from([0xff, 0xff, 0xff]);
    const fake = Buffer.concat([KPL_MAGIC, junk, createHash("md5").update(junk).digest()]);
    assert.deepStrictEqual(deaggregate({ partitionKey: "p", data: fake }).length, 1);
    assert.ok(!isAggregated(Buffer.from([0xf3, 0x89, 0x9a, 0xc2])));
  });
});
