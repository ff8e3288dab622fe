import * as assert from "assert";
import * as zlib from "zlib";
import {
  DEFAULT_SCHEMA,
  parseArchiveKey,
  projectionLocationTemplate,
  projectionParameters,
  queryResultsBucketName,
  selectWindow,
  splitRecords,
  windowHourPrefixes,
} from "../../model/archive";
import { glueArns, readerPolicy } from "../../model/archive-policy";
import { parseLakeConfig } from "../../model/config";
import { expandPrefix, segmentNames, WIRE_TAP_LAYOUT, wireTapObjectKey } from "../../model/naming";
import { findPolicyViolations } from "../../model/policies";
import { CorruptObjectError, decodeObject } from "../../runtime/archive/local-store";

const at = (iso: string) => new Date(iso);
const key = (iso: string, id = "u", compression = "GZIP") => wireTapObjectKey("lake-ingest-persons", compression, at(iso), id);

describe("archive object keys", () => {
  it("parses what the wire-tap writes: time in the name, hour in the prefix, compression from the extension", () => {
    const gz = parseArchiveKey(key("2026-11-26T10:59:58Z"));
    assert.ok(gz);
    assert.strictEqual(gz.time.toISOString(), "2026-11-26T10:59:58.000Z");
    assert.strictEqual(gz.hour.toISOString(), "2026-11-26T10:00:00.000Z");
    assert.strictEqual(gz.compression, "GZIP");
    assert.strictEqual(parseArchiveKey(key("2026-11-26T10:59:58Z", "u", "UNCOMPRESSED"))?.compression, "UNCOMPRESSED");
    assert.strictEqual(parseArchiveKey(key("2026-11-26T10:59:58Z", "u", "ZIP"))?.compression, "UNSUPPORTED");
  });

  it("ignores error output, partial files, foreign keys and impossible dates", () => {
    assert.strictEqual(parseArchiveKey(`${key("2026-11-26T10:00:00Z")}.partial`), undefined);
    assert.strictEqual(parseArchiveKey(key("2026-11-26T10:00:00Z").replace(/^data\//, "errors/processing-failed/")), undefined);
    assert.strictEqual(parseArchiveKey("data/readme.txt"), undefined);
    assert.strictEqual(parseArchiveKey("data/year=2026/month=02/day=31/hour=10/s-1-2026-02-31-10-00-00-u.gz"), undefined);
  });
});

describe("archive window", () => {
  const keys = [
    key("2026-11-26T11:00:00Z", "c"),
    key("2026-11-26T09:59:59Z", "a"),
    key("2026-11-26T10:00:00Z", "b"),
    key("2026-11-26T10:30:00Z", "a2"),
    key("2026-11-26T10:30:00Z", "a1"),
  ];

  it("takes objects from `from` inclusive to `to` exclusive, in time then key order", () => {
    const picked = selectWindow(keys, at("2026-11-26T10:00:00Z"), at("2026-11-26T11:00:00Z")).map((o) => o.key);
    assert.deepStrictEqual(picked, [key("2026-11-26T10:00:00Z", "b"), key("2026-11-26T10:30:00Z", "a1"), key("2026-11-26T10:30:00Z", "a2")]);
  });

  it("lists every hour the window touches, and the hour before it", () => {
    assert.deepStrictEqual(windowHourPrefixes(at("2026-11-26T10:15:00Z"), at("2026-11-26T11:00:01Z")), [
      "data/year=2026/month=11/day=26/hour=09/",
      "data/year=2026/month=11/day=26/hour=10/",
      "data/year=2026/month=11/day=26/hour=11/",
    ]);
  });
});

describe("archive objects", () => {
  const object = (compression: "GZIP" | "UNCOMPRESSED") => parseArchiveKey(key("2026-11-26T10:00:00Z", "u", compression))!;
  const body = Buffer.from('{"id":"1"}\n{"id":"2"}\n\n{"id":"3"}\n');

  it("reads GZIP and plain objects line by line, skipping the empty line a record ending in a newline leaves", () => {
    assert.deepStrictEqual(decodeObject(object("GZIP"), zlib.gzipSync(body)), ['{"id":"1"}', '{"id":"2"}', '{"id":"3"}']);
    assert.deepStrictEqual(decodeObject(object("UNCOMPRESSED"), body), ['{"id":"1"}', '{"id":"2"}', '{"id":"3"}']);
    assert.deepStrictEqual(splitRecords("a\n\nb\n"), ["a", "b"]);
  });

  it("refuses a truncated GZIP object and a plain object cut before its last delimiter, as a whole", () => {
    const gz = zlib.gzipSync(body);
    assert.throws(() => decodeObject(object("GZIP"), gz.subarray(0, gz.length - 6)), CorruptObjectError);
    assert.throws(() => decodeObject(object("GZIP"), Buffer.from("not gzip")), CorruptObjectError);
    assert.throws(() => decodeObject(object("UNCOMPRESSED"), body.subarray(0, body.length - 3)), /truncated/);
  });
});

describe("partition projection", () => {
  it("reads where Firehose writes: the template is the wire-tap prefix with each timestamp as its column", () => {
    const template = projectionLocationTemplate("bucket");
    for (const iso of ["2026-01-02T03:04:05Z", "2026-12-31T23:59:59Z"]) {
      const d = at(iso);
      const pad = (n: number) => String(n).padStart(2, "0");
      const filled = template
        .replace("${year}", String(d.getUTCFullYear()))
        .replace("${month}", pad(d.getUTCMonth() + 1))
        .replace("${day}", pad(d.getUTCDate()))
        .replace("${hour}", pad(d.getUTCHours()));
      assert.strictEqual(filled, `s3://bucket/${expandPrefix(WIRE_TAP_LAYOUT.prefix, d)}`);
    }
    const p = projectionParameters("bucket");
    assert.strictEqual(p["projection.enabled"], "true");
    assert.strictEqual(p["storage.location.template"], template);
    for (const column of ["month", "day", "hour"]) assert.strictEqual(p[`projection.${column}.digits`], "2");
  });

  it("refuses a prefix with an expression projection cannot map", () => {
    assert.throws(() => projectionLocationTemplate("b", "data/!{partitionKeyFromQuery:x}/"), /cannot map/);
  });
});

describe("reader policy", () => {
  const args = {
    bucketArn: "arn:aws:s3:::lake-ingest-persons-123456789012",
    keyArn: "arn:aws:kms:eu-west-1:123456789012:key/ingest",
    region: "eu-west-1",
    accountId: "123456789012",
    databaseName: "lake_ingest",
    tableName: "persons",
    workgroupArn: "arn:aws:athena:eu-west-1:123456789012:workgroup/lake-archive",
    resultsBucketArn: "arn:aws:s3:::lake-query-results-123456789012",
    resultsKeyArn: "arn:aws:kms:eu-west-1:123456789012:key/results",
  };

  it("passes the policy scanner and reaches the segment's objects only under data/", () => {
    const doc = readerPolicy(args);
    assert.deepStrictEqual(findPolicyViolations(doc), []);
    const read = doc.Statement.find((s) => s.Sid === "ReadArchive")!;
    assert.strictEqual(read.Resource, `${args.bucketArn}/data/*`);
    const glue = doc.Statement.find((s) => s.Sid === "ReadTableDefinition")!;
    assert.deepStrictEqual(glue.Resource, Object.values(glueArns(args)));
  });
});

describe("segment schema in the config", () => {
  const ctx = { project: "datalake", stack: "dev" };
  it("defaults to the demo record and keeps a given schema in order", () => {
    const c = parseLakeConfig({ layers: { ingest: { segments: { persons: {}, orders: { schema: { id: "string", amount: "double" } } } } } }, ctx);
    assert.deepStrictEqual(c.segments[0].schema, DEFAULT_SCHEMA);
    assert.deepStrictEqual(Object.entries(c.segments[1].schema), [["id", "string"], ["amount", "double"]]);
  });

  it("keeps the query results bucket name shorter than any segment bucket name of the lake", () => {
    const lake = "l".repeat(30);
    assert.ok(queryResultsBucketName(lake, "123456789012").length < segmentNames(lake, "a", "b", "123456789012").bucketName.length);
  });

  it("names every bad column with its config path", () => {
    assert.throws(
      () => parseLakeConfig({ layers: { ingest: { segments: { persons: { schema: { Id: "string", year: "int", x: "text" } } } } } }, ctx),
      (err: Error) =>
        /segments\.persons\.schema\.Id: column names/.test(err.message) &&
        /schema\.year: "year" is a partition column/.test(err.message) &&
        /schema\.x: column type must be one of/.test(err.message),
    );
  });
});
