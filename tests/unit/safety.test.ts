/**
 * The config checks of model/safety.ts through parseLakeConfig: names AWS reserves, consumers, sharing,
 * and the layer key policy's size (issue 7 items 4, 5, 8, 10). Pure: no Pulumi.
 */
import assert from "node:assert/strict";
import { CONFIG_KEY, ConfigProblem, LakeConfigError, parseLakeConfig } from "../../model/config";
import { layerNames, reservedBucketNameProblem, RESERVED_BUCKET_SUFFIXES, segmentNames } from "../../model/naming";
import { KEY_POLICY_MAX_BYTES, layerKeyPolicy } from "../../model/policies";
import { layerKeyPolicyShape, MAX_CONSUMERS_PER_STREAM } from "../../model/safety";
import { catalogFromConfig } from "../../runtime/catalog";

const ctx = { project: "datalake", stack: "dev" };
type Raw = { name?: string; layers: Record<string, { segments: Record<string, Record<string, unknown>> }> };
const lake = (): Raw => ({ name: "acme", layers: { ingest: { segments: { persons: {}, orders: {} } }, curated: { segments: { adults: {} } } } });
const SEG = `${CONFIG_KEY}.layers.ingest.segments.persons`;

function problems(raw: unknown): ConfigProblem[] {
  try {
    parseLakeConfig(raw, ctx);
  } catch (e) {
    assert.ok(e instanceof LakeConfigError, String(e));
    return e.problems;
  }
  return [];
}

/** Exactly one problem, at `path`, whose message says each of `says`; returns it. */
function onlyProblem(raw: unknown, path: string, ...says: Array<string | RegExp>): ConfigProblem {
  const found = problems(raw);
  assert.deepEqual(found.map((p) => p.path), [path], JSON.stringify(found, null, 1));
  for (const s of says) {
    if (typeof s === "string") assert.ok(found[0].message.includes(s), found[0].message);
    else assert.match(found[0].message, s);
  }
  return found[0];
}

describe("names AWS reserves (issue 7.4)", () => {
  it("rejects a lake name that makes the layer key alias start with alias/aws/", () => {
    const raw = lake();
    raw.name = "aws";
    const p = onlyProblem(raw, `${CONFIG_KEY}.name`, "alias/aws/ingest", 'start with "alias/aws/"', "KMS reserves");
    assert.equal(p.value, "aws");
  });

  it("accepts lake names that merely start with aws", () => {
    for (const name of ["awsome", "aws-lake"]) {
      const raw = lake();
      raw.name = name;
      assert.deepEqual(problems(raw), [], name);
    }
  });

  for (const [name, prefix] of [["xn-", "xn--"], ["sthree", "sthree-"], ["amzn-s3-demo", "amzn-s3-demo-"]]) {
    it(`rejects a lake name that makes every bucket name start with ${prefix}`, () => {
      const raw = lake();
      raw.name = name;
      onlyProblem(raw, `${CONFIG_KEY}.name`, `may not start with "${prefix}"`, "lake name");
    });
  }

  it("rejects a reserved bucket prefix that the lake, layer and segment names make together, at the segment", () => {
    const raw: Raw = { name: "amzn", layers: { s3: { segments: { "demo-x": {}, fine: {} } } } };
    onlyProblem(raw, `${CONFIG_KEY}.layers.s3.segments.demo-x`, 'may not start with "amzn-s3-demo-"');
  });

  it("knows every reserved bucket suffix (they cannot occur here: bucket names end in the account id)", () => {
    for (const suffix of RESERVED_BUCKET_SUFFIXES) {
      assert.match(reservedBucketNameProblem(`lake-ingest-persons${suffix}`) ?? "", /may not end with/, suffix);
    }
    assert.equal(reservedBucketNameProblem(segmentNames("acme", "ingest", "persons", "123456789012").bucketName), undefined);
    assert.deepEqual([...RESERVED_BUCKET_SUFFIXES].sort(), ["--ol-s3", "--table-s3", "--x-s3", "-s3alias", ".mrap"].sort());
  });
});

describe("layer name spaces and the key policy size (issue 7.5)", () => {
  it("rejects a segment whose names fall in another layer's name space", () => {
    const raw: Raw = { name: "acme", layers: { ingest: { segments: { "raw-x": {} } }, "ingest-raw": { segments: { persons: {} } } } };
    onlyProblem(raw, `${CONFIG_KEY}.layers.ingest.segments.raw-x`, 'layer "ingest-raw"', "rename");
  });

  it("accepts layers whose names extend each other when their segments stay apart", () => {
    const raw: Raw = { name: "acme", layers: { ingest: { segments: { persons: {} } }, "ingest-raw": { segments: { persons: {} } } } };
    assert.deepEqual(problems(raw), []);
  });

  it("accepts a layer of 200 segments, whose key policy is as small as a one-segment layer's", () => {
    const segments = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`s${i}`, {}]));
    const raw: Raw = { name: "acme", layers: { big: { segments } } };
    const cfg = parseLakeConfig(raw, ctx);
    assert.equal(cfg.segments.length, 200);
    const policyOf = (n: number) => {
      const shape = layerKeyPolicyShape("acme", "big", ["big"], cfg.segments.slice(0, n));
      const at = { accountId: "123456789012", region: "eu-west-1", partition: "aws" };
      return JSON.stringify(layerKeyPolicy({ ...at, logGroups: shape.logGroups, shares: shape.shares(at) }));
    };
    assert.equal(policyOf(200), policyOf(1));
    assert.ok(policyOf(200).length < KEY_POLICY_MAX_BYTES / 16, `${policyOf(200).length} bytes`);
  });

  it("rejects a layer whose sharing would push its key policy over 32 KB, at the layer's path", () => {
    const segments = Object.fromEntries(
      Array.from({ length: 200 }, (_, i) => [`s${i}`, { share: { producers: ["111122223333"], consumers: ["444455556666"] } }]),
    );
    const p = onlyProblem({ name: "acme", layers: { big: { segments } } }, `${CONFIG_KEY}.layers.big`, "KMS key policy", String(KEY_POLICY_MAX_BYTES));
    assert.match(String(p.value), /^\d+ bytes$/);
  });

  it("accepts a modest number of shared segments in a layer", () => {
    const segments = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`s${i}`, { share: { consumers: ["444455556666"] } }]));
    assert.deepEqual(problems({ name: "acme", layers: { big: { segments } } }), []);
  });
});

describe("consumers (issue 7.8)", () => {
  it("parses declared consumers, none by default", () => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { consumers: ["fraud-model", "audit"] };
    const cfg = parseLakeConfig(raw, ctx);
    assert.deepEqual(cfg.segments.find((s) => s.address === "ingest/persons")?.consumers, ["fraud-model", "audit"]);
    assert.deepEqual(cfg.segments.find((s) => s.address === "ingest/orders")?.consumers, []);
  });

  it("rejects a consumer name that breaks the name rule, with its path", () => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { consumers: ["ok", "Fraud_Model"] };
    const p = onlyProblem(raw, `${SEG}.consumers[1]`, "consumer name must use");
    assert.equal(p.value, "Fraud_Model");
  });

  it("rejects a consumer listed twice", () => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { consumers: ["audit", "audit"] };
    onlyProblem(raw, `${SEG}.consumers[1]`, "already listed at consumers[0]");
  });

  it(`rejects more than ${MAX_CONSUMERS_PER_STREAM} consumers on one segment`, () => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { consumers: Array.from({ length: MAX_CONSUMERS_PER_STREAM + 1 }, (_, i) => `c${i}`) };
    onlyProblem(raw, `${SEG}.consumers`, `at most ${MAX_CONSUMERS_PER_STREAM}`);
  });

  it("counts the consumers that routes reading the segment register toward Kinesis's 20 per stream", () => {
    const raw = lake() as Raw & { routes?: unknown[] };
    raw.layers.ingest.segments.persons = { consumers: Array.from({ length: MAX_CONSUMERS_PER_STREAM - 1 }, (_, i) => `c${i}`) };
    raw.routes = [{ from: "ingest/persons", to: "curated/adults" }];
    assert.deepEqual(problems(raw), [], "19 declared + 1 route = 20 is allowed");
    raw.routes.push({ from: "ingest/persons", to: "ingest/orders" });
    onlyProblem(raw, `${SEG}.consumers`, "19 declared consumers and 2 routes", `at most ${MAX_CONSUMERS_PER_STREAM}`);
  });

  it("rejects a consumer whose policy name would be over IAM's limit", () => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { consumers: [`c${"x".repeat(120)}`] };
    onlyProblem(raw, `${SEG}.consumers[0]`, "IAM policy name", "128");
  });

  it("rejects a consumers value that is not a list of names", () => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { consumers: "fraud-model" };
    onlyProblem(raw, `${SEG}.consumers`, "consumers must be a list of consumer names");
  });
});

describe("cross-account sharing (issue 7.10)", () => {
  const withShare = (share: unknown): Raw => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { share };
    return raw;
  };

  it("parses producers and consumers: account ids and role ARNs", () => {
    const cfg = parseLakeConfig(withShare({ producers: ["111122223333"], consumers: ["arn:aws:iam::444455556666:role/team/reader"] }), ctx);
    assert.deepEqual(cfg.segments[0].share, { producers: ["111122223333"], consumers: ["arn:aws:iam::444455556666:role/team/reader"] });
    assert.deepEqual(cfg.segments[1].share, { producers: [], consumers: [] });
  });

  for (const bad of ["12345", "1111-2222-3333", "1111222233334"]) {
    it(`rejects the account id ${bad}, with its path`, () => {
      const p = onlyProblem(withShare({ producers: [bad] }), `${SEG}.share.producers[0]`, "exactly 12 digits");
      assert.equal(p.value, bad);
    });
  }

  for (const bad of ["arn:aws:iam::4444:role/reader", "arn:aws:iam::444455556666:user/bob", "arn:aws:iam::444455556666:role/", "role/reader", "arn:aws:sts::444455556666:assumed-role/r/s"]) {
    it(`rejects the malformed role ARN ${bad}, with its path`, () => {
      onlyProblem(withShare({ consumers: [bad] }), `${SEG}.share.consumers[0]`, "12-digit account id or an IAM role ARN");
    });
  }

  it("rejects a principal listed twice", () => {
    onlyProblem(withShare({ consumers: ["444455556666", "444455556666"] }), `${SEG}.share.consumers[1]`, "listed twice");
  });

  it("rejects unknown keys under share, naming the allowed ones", () => {
    onlyProblem(withShare({ readers: ["444455556666"] }), `${SEG}.share.readers`, "allowed keys here are producers, consumers");
  });

  it("knows the layer's log-group name space", () => {
    assert.equal(layerNames("acme", "ingest").logGroupPrefix, "/aws/kinesisfirehose/acme-ingest-");
    assert.ok(segmentNames("acme", "ingest", "persons", "").logGroupName.startsWith(layerNames("acme", "ingest").logGroupPrefix));
  });
});

describe("the local lake's catalog (issue 7.8, 7.10)", () => {
  it("lists declared consumers with their policy and no ARN (known only once registered), and who the segment is shared with", () => {
    const raw = lake();
    raw.layers.ingest.segments.persons = { consumers: ["fraud-model"], share: { consumers: ["444455556666"] } };
    const catalog = catalogFromConfig(parseLakeConfig(raw, ctx));
    assert.deepEqual(catalog["ingest/persons"].consumers, {
      "fraud-model": { consumerName: "fraud-model", policyArn: "arn:aws:iam::000000000000:policy/acme-ingest-persons-consumer-fraud-model" },
    });
    assert.deepEqual(catalog["ingest/persons"].sharedWith, { producers: [], consumers: ["444455556666"] });
    assert.equal(catalog["ingest/orders"].consumers, undefined);
    assert.equal(catalog["ingest/orders"].sharedWith, undefined);
  });
});
