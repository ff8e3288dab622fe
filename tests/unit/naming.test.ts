import assert from "node:assert/strict";
import { COMPRESSION_FORMATS, parseLakeConfig } from "../../model/config";
import {
  ACCOUNT_ID_LENGTH,
  COMPRESSION_EXTENSION,
  defaultRouteName,
  expandPrefix,
  layerNameChecks,
  layerNames,
  LIMITS,
  NAME_PATTERN,
  NameCheck,
  parseAddress,
  routeNameChecks,
  routeNames,
  segmentAddress,
  segmentNameChecks,
  segmentNames,
  WIRE_TAP_LAYOUT,
  wireTapObjectKey,
} from "../../model/naming";

const ACCOUNT = "123456789012";

describe("naming", () => {
  describe("segment addresses", () => {
    it("formats layer/segment", () => {
      assert.equal(segmentAddress("ingest", "persons"), "ingest/persons");
    });

    for (const [layer, segment] of [
      ["ingest", "persons"],
      ["raw-2", "orders-v2"],
      ["a", "b"],
    ]) {
      it(`round-trips ${layer}/${segment} through format and parse`, () => {
        assert.deepEqual(parseAddress(segmentAddress(layer, segment)), { layer, segment });
        const parsed = parseAddress(`${layer}/${segment}`);
        assert.ok(parsed);
        assert.equal(segmentAddress(parsed.layer, parsed.segment), `${layer}/${segment}`);
      });
    }

    for (const bad of ["", "ingest", "ingest/", "/persons", "/", "ingest/persons/extra", "ingest//persons"]) {
      it(`does not take ${JSON.stringify(bad)} for an address`, () => {
        assert.equal(parseAddress(bad), undefined);
      });
    }
  });

  describe("name pattern", () => {
    for (const good of ["a", "ingest", "raw-2", "persons-v2", "x1"]) {
      it(`accepts ${JSON.stringify(good)}`, () => assert.ok(NAME_PATTERN.test(good)));
    }
    for (const bad of ["", "Ingest", "in_gest", "1ngest", "-ingest", "in gest", "in.gest", "ingest/persons"]) {
      it(`rejects ${JSON.stringify(bad)}`, () => assert.ok(!NAME_PATTERN.test(bad)));
    }
  });

  describe("segment names", () => {
    it("derives every physical name from the lake, layer and segment names", () => {
      assert.deepEqual(segmentNames("acme-dev", "ingest", "persons", ACCOUNT), {
        address: "ingest/persons",
        logicalName: "ingest-persons",
        streamName: "acme-dev-ingest-persons",
        deliveryStreamName: "acme-dev-ingest-persons",
        bucketName: "acme-dev-ingest-persons-123456789012",
        firehoseRoleName: "acme-dev-ingest-persons-firehose",
        producerPolicyName: "acme-dev-ingest-persons-producer",
        consumerPolicyName: "acme-dev-ingest-persons-consumer",
        logGroupName: "/aws/kinesisfirehose/acme-dev-ingest-persons",
        logStreamName: "DestinationDelivery",
      });
    });

    it("gives the same names for the same inputs", () => {
      assert.deepEqual(segmentNames("acme-dev", "ingest", "persons", ACCOUNT), segmentNames("acme-dev", "ingest", "persons", ACCOUNT));
    });

    it("lets the account id change only the bucket name", () => {
      const a = segmentNames("acme-dev", "ingest", "persons", ACCOUNT);
      const b = segmentNames("acme-dev", "ingest", "persons", "210987654321");
      assert.notEqual(a.bucketName, b.bucketName);
      assert.deepEqual({ ...a, bucketName: "" }, { ...b, bucketName: "" });
    });

    it("gives two lakes (stacks) distinct physical names for the same segment", () => {
      const dev = segmentNames("acme-dev", "ingest", "persons", ACCOUNT);
      const prod = segmentNames("acme-prod", "ingest", "persons", ACCOUNT);
      assert.equal(dev.address, prod.address);
      assert.equal(dev.logicalName, prod.logicalName);
      for (const key of ["streamName", "deliveryStreamName", "bucketName", "firehoseRoleName", "producerPolicyName", "consumerPolicyName", "logGroupName"] as const) {
        assert.notEqual(dev[key], prod[key], key);
      }
    });

    it("gives every segment of a lake distinct physical names", () => {
      const all = [
        segmentNames("acme-dev", "ingest", "persons", ACCOUNT),
        segmentNames("acme-dev", "ingest", "orders", ACCOUNT),
        segmentNames("acme-dev", "curated", "persons", ACCOUNT),
      ];
      for (const key of ["logicalName", "streamName", "bucketName", "firehoseRoleName", "producerPolicyName", "consumerPolicyName"] as const) {
        assert.equal(new Set(all.map((n) => n[key])).size, all.length, key);
      }
    });

    it("keeps a segment's names when other segments are added, removed or reordered", () => {
      const before = parseLakeConfig({ name: "acme-dev", layers: { ingest: { segments: { persons: {} } } } }, { project: "datalake", stack: "dev" });
      const after = parseLakeConfig(
        {
          name: "acme-dev",
          layers: {
            curated: { segments: { adults: {}, kids: {} } },
            ingest: { segments: { orders: { mode: "on-demand" }, persons: { shards: 4 }, addresses: {} } },
          },
          routes: [{ from: "ingest/persons", to: "curated/adults" }],
        },
        { project: "datalake", stack: "dev" },
      );
      const namesOf = (cfg: typeof before, address: string) => {
        const s = cfg.segments.find((x) => x.address === address);
        assert.ok(s, address);
        return segmentNames(cfg.name, s.layer, s.name, ACCOUNT);
      };
      assert.deepEqual(namesOf(after, "ingest/persons"), namesOf(before, "ingest/persons"));
      // and no name carries a position in a list
      for (const s of after.segments) {
        const n = segmentNames(after.name, s.layer, s.name, ACCOUNT);
        assert.equal(n.streamName, `acme-dev-${s.layer}-${s.name}`);
      }
    });
  });

  describe("layer and route names", () => {
    it("names a layer's KMS alias after the lake and layer", () => {
      assert.deepEqual(layerNames("acme-dev", "ingest"), {
        logicalName: "ingest",
        kmsAlias: "alias/acme-dev/ingest",
        logGroupPrefix: "/aws/kinesisfirehose/acme-dev-ingest-",
        processorLogGroupPrefix: "/datalake/acme-dev/ingest/processors/",
      });
    });

    it("gives each lake its own KMS alias for a layer", () => {
      assert.notEqual(layerNames("acme-dev", "ingest").kmsAlias, layerNames("acme-prod", "ingest").kmsAlias);
    });

    it("defaults a route's name to <fromLayer>-<fromSegment>-to-<toLayer>-<toSegment>", () => {
      const name = defaultRouteName("ingest/persons", "curated/adults");
      assert.equal(name, "ingest-persons-to-curated-adults");
      assert.ok(NAME_PATTERN.test(name));
    });

    it("names a route's function, role, queue, consumer and log group after the lake and route", () => {
      assert.deepEqual(routeNames("acme-dev", "persons-to-adults", "curated"), {
        logicalName: "route-persons-to-adults",
        functionName: "acme-dev-persons-to-adults",
        roleName: "acme-dev-persons-to-adults-route",
        queueName: "acme-dev-persons-to-adults-dlq",
        consumerName: "acme-dev-persons-to-adults",
        // Under the target layer's processor name space, which its key policy covers with one condition.
        logGroupName: "/datalake/acme-dev/curated/processors/persons-to-adults",
      });
    });

    it("keeps route role names apart from segment role names", () => {
      // a route called like a segment's stem still gets a different role
      assert.notEqual(routeNames("acme-dev", "ingest-persons", "curated").roleName, segmentNames("acme-dev", "ingest", "persons", ACCOUNT).firehoseRoleName);
    });
  });

  describe("AWS name-length limits", () => {
    it("uses AWS's limits", () => {
      assert.equal(LIMITS.streamName, 128);
      assert.equal(LIMITS.deliveryStreamName, 64);
      assert.equal(LIMITS.bucketName, 63);
      assert.equal(LIMITS.roleName, 64);
      assert.equal(LIMITS.functionName, 64);
      assert.equal(LIMITS.queueName, 80);
      assert.equal(LIMITS.kmsAlias, 256);
      assert.equal(ACCOUNT_ID_LENGTH, 12);
    });

    const check = (checks: NameCheck[], what: string): NameCheck => {
      const found = checks.find((c) => c.what.startsWith(what));
      assert.ok(found, `no check for ${what} in ${checks.map((c) => c.what).join(", ")}`);
      return found;
    };
    const over = (c: NameCheck) => c.name.length > c.limit;

    it("checks the names of the resources a segment creates, as they will really be", () => {
      const checks = segmentNameChecks("acme-dev", "ingest", "persons");
      const real = segmentNames("acme-dev", "ingest", "persons", ACCOUNT);
      assert.equal(check(checks, "Kinesis stream name").name, real.streamName);
      assert.equal(check(checks, "Firehose delivery stream name").name, real.deliveryStreamName);
      assert.equal(check(checks, "IAM role name").name, real.firehoseRoleName);
      // the bucket name is checked with a stand-in of the account id's length
      assert.equal(check(checks, "S3 bucket name").name.length, real.bucketName.length);
      assert.ok(checks.every((c) => !over(c)));
    });

    // lake "acme-dev" (8) + "-l-" + segment: base = 11 + segment length
    const seg = (n: number) => segmentNameChecks("acme-dev", "l", "s".repeat(n));

    it("passes a bucket name (with account id) of exactly 63 and fails 64", () => {
      const at = check(seg(39), "S3 bucket name"); // 50 + 1 + 12
      assert.equal(at.name.length, 63);
      assert.equal(at.limit, 63);
      assert.ok(!over(at));
      assert.ok(over(check(seg(40), "S3 bucket name")));
    });

    it("passes a Firehose delivery stream name of exactly 64 and fails 65", () => {
      const at = check(seg(53), "Firehose delivery stream name");
      assert.equal(at.name.length, 64);
      assert.ok(!over(at));
      const one = check(seg(54), "Firehose delivery stream name");
      assert.equal(one.name.length, 65);
      assert.ok(over(one));
    });

    it("passes a Firehose IAM role name of exactly 64 and fails 65", () => {
      const at = check(seg(44), "IAM role name"); // 55 + "-firehose"
      assert.equal(at.name.length, 64);
      assert.ok(!over(at));
      assert.ok(over(check(seg(45), "IAM role name")));
    });

    it("passes a Kinesis stream name of exactly 128 and fails 129", () => {
      const at = check(seg(117), "Kinesis stream name");
      assert.equal(at.name.length, 128);
      assert.ok(!over(at));
      assert.ok(over(check(seg(118), "Kinesis stream name")));
    });

    // function "acme-dev-<route>" = 9 + route; role = 15 + route
    const route = (n: number) => routeNameChecks("acme-dev", "r".repeat(n), "curated");

    it("passes a Lambda function name of exactly 64 and fails 65", () => {
      const at = check(route(55), "Lambda function name");
      assert.equal(at.name.length, 64);
      assert.ok(!over(at));
      assert.ok(over(check(route(56), "Lambda function name")));
    });

    it("passes a route IAM role name of exactly 64 and fails 65", () => {
      const at = check(route(49), "IAM role name");
      assert.equal(at.name, `acme-dev-${"r".repeat(49)}-route`);
      assert.equal(at.name.length, 64);
      assert.ok(!over(at));
      assert.ok(over(check(route(50), "IAM role name")));
    });

    it("passes a KMS alias of exactly 256 and fails 257", () => {
      // "alias/acme-dev/" is 15
      const at = check(layerNameChecks("acme-dev", "l".repeat(241)), "KMS alias");
      assert.equal(at.name.length, 256);
      assert.ok(!over(at));
      assert.ok(over(check(layerNameChecks("acme-dev", "l".repeat(242)), "KMS alias")));
    });
  });

  describe("wire-tap object layout", () => {
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const tz = process.env.TZ;
    // Far from UTC, so reading local time instead of UTC would change every field below.
    before(() => {
      process.env.TZ = "Pacific/Kiritimati";
    });
    after(() => {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    });

    it("expands the hour-partitioned prefix for a UTC time", () => {
      assert.equal(expandPrefix(WIRE_TAP_LAYOUT.prefix, at), "data/year=2026/month=01/day=02/hour=03/");
    });

    it("uses UTC, not local time, at the end of a year", () => {
      assert.equal(expandPrefix(WIRE_TAP_LAYOUT.prefix, new Date(Date.UTC(2026, 11, 31, 23, 59, 59))), "data/year=2026/month=12/day=31/hour=23/");
    });

    it("expands the error prefix, with the error type", () => {
      assert.equal(expandPrefix(WIRE_TAP_LAYOUT.errorOutputPrefix, at), "errors/processing-failed/year=2026/month=01/day=02/hour=03/");
      assert.equal(
        expandPrefix(WIRE_TAP_LAYOUT.errorOutputPrefix, at, "format-conversion-failed"),
        "errors/format-conversion-failed/year=2026/month=01/day=02/hour=03/",
      );
    });

    it("leaves no Firehose expression unexpanded", () => {
      for (const prefix of Object.values(WIRE_TAP_LAYOUT)) assert.doesNotMatch(expandPrefix(prefix, at), /!\{/);
    });

    it("gives an error prefix, as Firehose requires for a prefix with expressions", () => {
      assert.match(WIRE_TAP_LAYOUT.prefix, /!\{timestamp:/);
      assert.ok(WIRE_TAP_LAYOUT.errorOutputPrefix.includes("!{firehose:error-output-type}"));
      assert.ok(WIRE_TAP_LAYOUT.prefix.endsWith("/") && WIRE_TAP_LAYOUT.errorOutputPrefix.endsWith("/"));
    });

    it("names an object as Firehose does: <prefix><stream>-1-<yyyy-MM-dd-HH-mm-ss>-<random><ext>", () => {
      assert.equal(
        wireTapObjectKey("acme-dev-ingest-persons", "GZIP", at, "a1b2c3"),
        "data/year=2026/month=01/day=02/hour=03/acme-dev-ingest-persons-1-2026-01-02-03-04-05-a1b2c3.gz",
      );
    });

    it("pads every field of the time stamp, in UTC", () => {
      assert.equal(
        wireTapObjectKey("s", "GZIP", new Date(Date.UTC(2026, 11, 31, 23, 59, 9)), "r"),
        "data/year=2026/month=12/day=31/hour=23/s-1-2026-12-31-23-59-09-r.gz",
      );
    });

    it("puts the object under the expanded prefix", () => {
      assert.ok(wireTapObjectKey("s", "GZIP", at, "r").startsWith(expandPrefix(WIRE_TAP_LAYOUT.prefix, at)));
    });

    it("ends the object name with the extension of its compression", () => {
      const key = (c: string) => wireTapObjectKey("s", c, at, "r");
      assert.ok(key("UNCOMPRESSED").endsWith("-r"));
      assert.ok(key("ZIP").endsWith("-r.zip"));
      assert.ok(key("Snappy").endsWith("-r.snappy"));
      assert.ok(key("HADOOP_SNAPPY").endsWith("-r.snappy"));
    });

    it("knows the extension of every compression format the config allows", () => {
      for (const c of COMPRESSION_FORMATS) assert.ok(c in COMPRESSION_EXTENSION, c);
    });
  });
});
