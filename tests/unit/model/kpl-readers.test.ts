/**
 * Every reader of a stream de-aggregates KPL records: the subscriber's output (one line per user record)
 * and the local wire-tap (one delimited record per user record, as Firehose writes them), for records
 * encoded by awslabs' aws-kinesis-agg as well as by model/kpl.ts.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { recordToLines } from "../../../apps/subscriber/output";
import { LocalWireTap, readWireTapRecords } from "../../../local/firehose";
import { SegmentConfig } from "../../../model/config";
import { aggregate } from "../../../model/kpl";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const agg = require("aws-kinesis-agg") as {
  RecordAggregator: new (cb: (err: Error | null, encoded: { partitionKey: string; data: Buffer }) => void) => {
    aggregateRecords(records: unknown[], forceFlush: boolean): void;
  };
};

function theirs(lines: string[]): { partitionKey: string; data: Buffer } {
  const out: { partitionKey: string; data: Buffer }[] = [];
  new agg.RecordAggregator((err, e) => {
    assert.ifError(err);
    out.push(e);
  }).aggregateRecords(lines.map((l, i) => ({ partitionKey: `k${i}`, data: Buffer.from(`${l}\n`) })), true);
  assert.strictEqual(out.length, 1);
  return out[0];
}

const people = Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `r-${i}`, name: `dennis ${i}`, age: i }));

describe("KPL records in the lake's readers", () => {
  it("the subscriber writes one line per user record of an aggregate encoded by aws-kinesis-agg", () => {
    const encoded = theirs(people);
    assert.deepStrictEqual(recordToLines({ Data: encoded.data, PartitionKey: encoded.partitionKey, SequenceNumber: "1" }), people);
  });

  it("the subscriber keeps plain records as one line, and binary user records in the envelope", () => {
    assert.deepStrictEqual(recordToLines({ Data: Buffer.from(`${people[0]}\n`), PartitionKey: "p", SequenceNumber: "7" }), [people[0]]);
    const binary = aggregate([{ partitionKey: "b", data: Buffer.from([0xff, 0x00]) }]);
    const [line] = recordToLines({ Data: binary.data, PartitionKey: binary.partitionKey, SequenceNumber: "9" });
    assert.deepStrictEqual(JSON.parse(line), { partitionKey: "b", sequenceNumber: "9", dataBase64: "/wA=" });
  });

  it("the local wire-tap stores each user record as its own record, as Firehose does", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kpl-wiretap-"));
    try {
      const segment = { wireTap: { bufferSeconds: 60, bufferMiB: 64, compression: "UNCOMPRESSED" } } as unknown as SegmentConfig;
      const tap = new LocalWireTap(segment, "lake-ingest-persons", dir);
      tap.add(theirs(people.slice(0, 20)).data);
      tap.add(Buffer.from(`${people[20]}\n`));
      tap.add(aggregate(people.slice(21).map((p, i) => ({ partitionKey: `x${i}`, data: Buffer.from(`${p}\n`) }))).data);
      tap.flush();
      assert.deepStrictEqual(readWireTapRecords(dir), people);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
