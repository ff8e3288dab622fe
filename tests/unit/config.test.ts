import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import {
  COMPRESSION_FORMATS,
  CONFIG_KEY,
  ConfigProblem,
  DEFAULTS,
  defaultLakeName,
  LakeConfigError,
  parseLakeConfig,
} from "../../model/config";

const ctx = { project: "datalake", stack: "dev" };
/** What parseLakeConfig adds to a route that sets none of the processor keys. */
const PROCESSOR_DEFAULTS = {
  transform: undefined,
  aggregate: undefined,
  failure: { maximumRetryAttempts: 3, maximumRecordAgeInSeconds: 3600, bisectBatchOnFunctionError: true, batchSize: 100 },
  startAt: { type: "trim-horizon", explicit: false },
};

/** The example topology of DESIGN.md, as Pulumi hands it over after decoding the stack YAML. */
const DESIGN_EXAMPLE_YAML = `
config:
  aws:region: eu-west-1
  datalake:lake:
    name: acme-dev
    layers:
      ingest:
        segments:
          persons:
            shards: 2
          orders:
            mode: on-demand
            retentionHours: 168
            wireTap:
              bufferSeconds: 60
              bufferMiB: 5
              compression: GZIP
      curated:
        segments:
          adults: {}
    routes:
      - from: ingest/persons
        to: curated/adults
        filter: { age: [ { numeric: [">=", 18] } ] }
`;

const fromYaml = (text: string): unknown => (parseYaml(text) as { config: Record<string, unknown> }).config[CONFIG_KEY];
const example = (): Record<string, any> => fromYaml(DESIGN_EXAMPLE_YAML) as Record<string, any>;

/** A small valid lake to break one thing at a time: ingest/{persons,orders}, curated/adults. */
function lake(): Record<string, any> {
  return {
    layers: {
      ingest: { segments: { persons: {}, orders: {} } },
      curated: { segments: { adults: {} } },
    },
  };
}

/** Parses, expects a LakeConfigError, and returns it. */
function rejects(raw: unknown, context = ctx): LakeConfigError {
  try {
    parseLakeConfig(raw, context);
  } catch (e) {
    assert.ok(e instanceof LakeConfigError, `expected LakeConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected the config to be rejected: ${JSON.stringify(raw)}`);
}

function problemAt(error: LakeConfigError, path: string): ConfigProblem {
  const found = error.problems.filter((p) => p.path === path);
  assert.equal(found.length, 1, `expected one problem at ${path}; got:\n${error.message}`);
  return found[0];
}

/** The line of the message that reports the problem at `path`. */
function lineFor(error: LakeConfigError, path: string): string {
  const lines = error.message.split("\n").filter((l) => l.startsWith(`  - ${path}: `));
  assert.equal(lines.length, 1, `expected one line for ${path} in:\n${error.message}`);
  return lines[0];
}

/**
 * The heart of most tests: the config is rejected with exactly one problem at `path`, which carries the
 * given value, and whose message line names the path, shows the value and says what is allowed.
 */
function expectProblem(
  raw: unknown,
  path: string,
  expected: { value: unknown; shown?: string; says: Array<string | RegExp>; only?: boolean },
): ConfigProblem {
  const error = rejects(raw);
  const problem = problemAt(error, path);
  assert.deepEqual(problem.value, expected.value);
  const line = lineFor(error, path);
  const shown = expected.shown ?? (expected.value === undefined ? "nothing" : JSON.stringify(expected.value));
  assert.ok(line.endsWith(`(got ${shown})`), `line should show the value ${shown}: ${line}`);
  for (const s of expected.says) {
    if (typeof s === "string") assert.ok(problem.message.includes(s), `message should say ${JSON.stringify(s)}: ${problem.message}`);
    else assert.match(problem.message, s);
  }
  if (expected.only !== false) {
    assert.equal(error.problems.length, 1, `expected only the problem at ${path}; got:\n${error.message}`);
  }
  return problem;
}

const SEG = `${CONFIG_KEY}.layers.ingest.segments.persons`;

describe("parseLakeConfig", () => {
  describe("a valid topology", () => {
    it("parses the DESIGN.md example with its values and the defaults", () => {
      const cfg = parseLakeConfig(example(), ctx);
      assert.equal(cfg.name, "acme-dev");
      assert.deepEqual(
        cfg.layers.map((l) => l.name),
        ["ingest", "curated"],
      );
      assert.deepEqual(cfg.segments, [
        {
          layer: "ingest",
          name: "persons",
          address: "ingest/persons",
          mode: "provisioned",
          shards: 2,
          retentionHours: 24,
          wireTap: { bufferSeconds: 300, bufferMiB: 64, compression: "GZIP" },
          schema: { id: "string", name: "string", age: "int" },
          alarms: { enabled: true, iteratorAgePercentOfRetention: 50, freshnessMarginSeconds: 300 },
          consumers: [],
          share: { producers: [], consumers: [] },
          backup: false,
          groups: [],
        },
        {
          layer: "ingest",
          name: "orders",
          address: "ingest/orders",
          mode: "on-demand",
          shards: undefined,
          retentionHours: 168,
          wireTap: { bufferSeconds: 60, bufferMiB: 5, compression: "GZIP" },
          schema: { id: "string", name: "string", age: "int" },
          alarms: { enabled: true, iteratorAgePercentOfRetention: 50, freshnessMarginSeconds: 300 },
          consumers: [],
          share: { producers: [], consumers: [] },
          backup: false,
          groups: [],
        },
        {
          layer: "curated",
          name: "adults",
          address: "curated/adults",
          mode: "provisioned",
          shards: 1,
          retentionHours: 24,
          wireTap: { bufferSeconds: 300, bufferMiB: 64, compression: "GZIP" },
          schema: { id: "string", name: "string", age: "int" },
          alarms: { enabled: true, iteratorAgePercentOfRetention: 50, freshnessMarginSeconds: 300 },
          consumers: [],
          share: { producers: [], consumers: [] },
          backup: false,
          groups: [],
        },
      ]);
      assert.deepEqual(cfg.routes, [
        {
          name: "ingest-persons-to-curated-adults",
          from: "ingest/persons",
          to: "curated/adults",
          filter: { age: [{ numeric: [">=", 18] }] },
          filterAt: "function",
          ...PROCESSOR_DEFAULTS,
        },
      ]);
    });

    it("documents the defaults it applies", () => {
      assert.deepEqual(DEFAULTS, {
        mode: "provisioned",
        shards: 1,
        retentionHours: 24,
        bufferSeconds: 300,
        bufferMiB: 64,
        compression: "GZIP",
      });
    });

    it("flattens segments layer by layer in config order, and keeps them per layer", () => {
      const cfg = parseLakeConfig(
        {
          layers: {
            zeta: { segments: { b: {}, a: {} } },
            alpha: { segments: { d: {}, c: {} } },
          },
        },
        ctx,
      );
      assert.deepEqual(
        cfg.segments.map((s) => s.address),
        ["zeta/b", "zeta/a", "alpha/d", "alpha/c"],
      );
      assert.deepEqual(
        cfg.layers.map((l) => [l.name, l.segments.map((s) => s.name)]),
        [
          ["zeta", ["b", "a"]],
          ["alpha", ["d", "c"]],
        ],
      );
      assert.deepEqual(cfg.segments, cfg.layers.flatMap((l) => l.segments));
    });

    it("leaves shards undefined for on-demand streams", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { mode: "on-demand" };
      const persons = parseLakeConfig(raw, ctx).segments[0];
      assert.equal(persons.mode, "on-demand");
      assert.equal(persons.shards, undefined);
    });

    it("takes a segment without settings (YAML `adults:`, i.e. null) as all defaults", () => {
      const raw = fromYaml(`
config:
  datalake:lake:
    layers:
      ingest:
        segments:
          persons:
`);
      const [persons] = parseLakeConfig(raw, ctx).segments;
      assert.equal(persons.mode, "provisioned");
      assert.equal(persons.shards, 1);
      assert.equal(persons.retentionHours, 24);
      assert.deepEqual(persons.wireTap, { bufferSeconds: 300, bufferMiB: 64, compression: "GZIP" });
    });

    it("fills in the wireTap settings that are not given, and takes an empty `wireTap:` as defaults", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { wireTap: { compression: "ZIP" } };
      raw.layers.ingest.segments.orders = { wireTap: null };
      const [persons, orders] = parseLakeConfig(raw, ctx).segments;
      assert.deepEqual(persons.wireTap, { bufferSeconds: 300, bufferMiB: 64, compression: "ZIP" });
      assert.deepEqual(orders.wireTap, { bufferSeconds: 300, bufferMiB: 64, compression: "GZIP" });
    });

    it("accepts the edges of every range and every compression format", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { shards: 1, retentionHours: 24, wireTap: { bufferSeconds: 0, bufferMiB: 1 } };
      raw.layers.ingest.segments.orders = { shards: 4096, retentionHours: 8760, wireTap: { bufferSeconds: 900, bufferMiB: 128 } };
      const [persons, orders] = parseLakeConfig(raw, ctx).segments;
      assert.deepEqual([persons.shards, persons.retentionHours, persons.wireTap.bufferSeconds, persons.wireTap.bufferMiB], [1, 24, 0, 1]);
      assert.deepEqual([orders.shards, orders.retentionHours, orders.wireTap.bufferSeconds, orders.wireTap.bufferMiB], [4096, 8760, 900, 128]);
      for (const compression of COMPRESSION_FORMATS) {
        const r = lake();
        r.layers.curated.segments.adults = { wireTap: { compression } };
        assert.equal(parseLakeConfig(r, ctx).segments[2].wireTap.compression, compression);
      }
    });

    it("defaults the lake name to <project>-<stack>", () => {
      assert.equal(parseLakeConfig(lake(), ctx).name, "datalake-dev");
      assert.equal(parseLakeConfig(lake(), { project: "datalake", stack: "prod" }).name, "datalake-prod");
    });

    it("sanitises the default lake name for stack names with uppercase letters, underscores or dots", () => {
      assert.equal(parseLakeConfig(lake(), { project: "datalake", stack: "Prod_EU" }).name, "datalake-prod-eu");
      assert.equal(defaultLakeName({ project: "datalake", stack: "Dev.West_2" }), "datalake-dev-west-2");
    });

    it("honours an explicit lake name over the default", () => {
      const raw = lake();
      raw.name = "acme-dev";
      assert.equal(parseLakeConfig(raw, { project: "datalake", stack: "Other_Stack" }).name, "acme-dev");
    });

    it("accepts names with digits and hyphens", () => {
      const cfg = parseLakeConfig({ name: "lake-1", layers: { "raw-2": { segments: { "persons-v2": {} } } } }, ctx);
      assert.equal(cfg.segments[0].address, "raw-2/persons-v2");
    });

    it("gives routes default names, keeps explicit ones, and keeps their order and filters", () => {
      const raw = lake();
      raw.routes = [
        { from: "ingest/persons", to: "curated/adults" },
        { name: "orders-to-adults", from: "ingest/orders", to: "curated/adults", filter: { kind: ["adult"] } },
      ];
      assert.deepEqual(parseLakeConfig(raw, ctx).routes, [
        { name: "ingest-persons-to-curated-adults", from: "ingest/persons", to: "curated/adults", filter: undefined, filterAt: "function", ...PROCESSOR_DEFAULTS },
        { name: "orders-to-adults", from: "ingest/orders", to: "curated/adults", filter: { kind: ["adult"] }, filterAt: "function", ...PROCESSOR_DEFAULTS },
      ]);
    });

    it("has no routes when none are given, or when `routes:` is empty", () => {
      assert.deepEqual(parseLakeConfig(lake(), ctx).routes, []);
      assert.deepEqual(parseLakeConfig({ ...lake(), routes: null }, ctx).routes, []);
      assert.deepEqual(parseLakeConfig({ ...lake(), routes: [] }, ctx).routes, []);
    });

    it("accepts routes that fan out and in without a loop", () => {
      const raw = {
        layers: { l: { segments: { a: {}, b: {}, c: {}, d: {} } } },
        routes: [
          { from: "l/a", to: "l/b" },
          { from: "l/a", to: "l/c" },
          { from: "l/b", to: "l/d" },
          { from: "l/c", to: "l/d" },
        ],
      };
      assert.equal(parseLakeConfig(raw, ctx).routes.length, 4);
    });

    it("does not modify the raw config it is given", () => {
      const raw = example();
      const copy = structuredClone(raw);
      parseLakeConfig(raw, ctx);
      assert.deepEqual(raw, copy);
    });
  });

  describe("missing config", () => {
    for (const raw of [undefined, null]) {
      it(`says the topology is missing when the value is ${String(raw)}`, () => {
        const error = rejects(raw);
        assert.equal(error.problems.length, 1);
        assert.equal(error.problems[0].path, CONFIG_KEY);
        assert.match(error.problems[0].message, /no topology/);
        assert.ok(error.message.includes("Pulumi.<stack>.yaml"));
        assert.ok(error.message.includes("datalake:lake"));
      });
    }

    it("says what the topology must be when it is not a map", () => {
      expectProblem("acme", CONFIG_KEY, { value: "acme", says: ["must be a map of layers"] });
    });
  });

  describe("unknown keys", () => {
    it("at lake level, with a suggestion for a typo", () => {
      const raw = lake();
      raw.layer = raw.layers;
      delete raw.layers;
      const error = rejects(raw);
      const problem = problemAt(error, `${CONFIG_KEY}.layer`);
      assert.match(problem.message, /unknown key/);
      assert.match(problem.message, /allowed keys here are name, layers, routes/);
      assert.match(problem.message, /did you mean "layers"\?/);
      // the missing `layers` is reported too
      assert.match(problemAt(error, `${CONFIG_KEY}.layers`).message, /layers must be a map/);
    });

    it("at layer level", () => {
      const raw = lake();
      raw.layers.curated = { segmnts: { adults: {} }, segments: { adults: {} } };
      expectProblem(raw, `${CONFIG_KEY}.layers.curated.segmnts`, {
        value: { adults: {} },
        says: ["unknown key", "allowed keys here are segments", 'did you mean "segments"?'],
      });
    });

    it("at segment level", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { shard: 2 };
      expectProblem(raw, `${SEG}.shard`, {
        value: 2,
        says: ["unknown key", "allowed keys here are mode, shards, retentionHours, wireTap", 'did you mean "shards"?'],
      });
    });

    it("suggests the key a shortened or wrongly cased key stands for", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { retention: 48, Mode: "on-demand" };
      const error = rejects(raw);
      assert.match(problemAt(error, `${SEG}.retention`).message, /did you mean "retentionHours"\?/);
      assert.match(problemAt(error, `${SEG}.Mode`).message, /did you mean "mode"\?/);
    });

    it("at wireTap level", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { wireTap: { buffer_seconds: 60, compresion: "ZIP" } };
      const error = rejects(raw);
      assert.equal(error.problems.length, 2);
      const a = problemAt(error, `${SEG}.wireTap.buffer_seconds`);
      assert.equal(a.value, 60);
      assert.match(a.message, /allowed keys here are bufferSeconds, bufferMiB, compression; did you mean "bufferSeconds"\?/);
      assert.match(problemAt(error, `${SEG}.wireTap.compresion`).message, /did you mean "compression"\?/);
    });

    it("at route level", () => {
      const raw = lake();
      raw.routes = [{ form: "ingest/persons", from: "ingest/persons", to: "curated/adults" }];
      expectProblem(raw, `${CONFIG_KEY}.routes[0].form`, {
        value: "ingest/persons",
        says: ["unknown key", "allowed keys here are name, from, to, filter", 'did you mean "from"?'],
      });
    });

    it("makes no suggestion when nothing is close", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { colour: "blue" };
      const problem = expectProblem(raw, `${SEG}.colour`, { value: "blue", says: ["unknown key", "mode, shards, retentionHours, wireTap"] });
      assert.doesNotMatch(problem.message, /did you mean/);
    });

    it("lists a segment's keys for a segment whatever its name", () => {
      const raw = lake();
      raw.layers.ingest.segments = { wireTap: { shard: 1 } };
      const error = rejects(raw);
      assert.match(
        problemAt(error, `${CONFIG_KEY}.layers.ingest.segments.wireTap.shard`).message,
        /allowed keys here are mode, shards, retentionHours, wireTap, (schema, )?alarms, consumers, share, backup, groups; did you mean "shards"/,
      );
      assert.match(problemAt(error, `${CONFIG_KEY}.layers.ingest.segments.wireTap`).message, /segment name must use/);
    });
  });

  describe("layer, segment and lake names", () => {
    for (const bad of ["Ingest", "in_gest", "1ngest", "-ingest", "in gest"]) {
      it(`rejects the layer name ${JSON.stringify(bad)}`, () => {
        const raw = lake();
        raw.layers[bad] = raw.layers.ingest;
        delete raw.layers.ingest;
        expectProblem(raw, `${CONFIG_KEY}.layers.${bad}`, {
          value: bad,
          says: ["layer name", 'lowercase letters, digits and "-", starting with a letter'],
        });
      });
    }

    for (const bad of ["Persons", "per_sons", "9persons", "persons.v2"]) {
      it(`rejects the segment name ${JSON.stringify(bad)}`, () => {
        const raw = lake();
        raw.layers.ingest.segments = { [bad]: {}, orders: {} };
        expectProblem(raw, `${CONFIG_KEY}.layers.ingest.segments.${bad}`, {
          value: bad,
          says: ["segment name", 'lowercase letters, digits and "-", starting with a letter'],
        });
      });
    }

    it("rejects an explicit lake name that cannot prefix physical names", () => {
      expectProblem({ ...lake(), name: "Acme_Dev" }, `${CONFIG_KEY}.name`, {
        value: "Acme_Dev",
        says: ["lake name must use", "lowercase letters", `set ${CONFIG_KEY}.name`],
      });
    });

    it("rejects a default lake name that cannot be sanitised into a valid name, pointing at the name setting", () => {
      const error = rejects(lake(), { project: "9lake", stack: "dev" });
      const problem = problemAt(error, `${CONFIG_KEY}.name`);
      assert.equal(problem.value, "9lake-dev");
      assert.match(problem.message, /set datalake:lake\.name/);
    });

    it("rejects two segments whose physical names would collide (a-b/c and a/b-c)", () => {
      const raw = { layers: { "a-b": { segments: { c: {} } }, a: { segments: { "b-c": {} } } } };
      expectProblem(raw, `${CONFIG_KEY}.layers.a.segments.b-c`, {
        value: "a/b-c",
        says: ['same resource names as "a-b/c"', '"datalake-dev-a-b-c"', "rename one of them"],
      });
    });
  });

  describe("numbers and choices", () => {
    const cases: Array<[string, Record<string, unknown>, string, unknown, string]> = [
      ["shards below 1", { shards: 0 }, "shards", 0, "shards must be a whole number from 1 to 4096"],
      ["negative shards", { shards: -2 }, "shards", -2, "shards must be a whole number from 1 to 4096"],
      ["fractional shards", { shards: 1.5 }, "shards", 1.5, "shards must be a whole number from 1 to 4096"],
      ["too many shards", { shards: 4097 }, "shards", 4097, "shards must be a whole number from 1 to 4096"],
      ["shards as a boolean", { shards: true }, "shards", true, "shards must be a whole number from 1 to 4096"],
      ["retention below 24", { retentionHours: 23 }, "retentionHours", 23, "retentionHours must be a whole number from 24 to 8760"],
      ["retention above 8760", { retentionHours: 8761 }, "retentionHours", 8761, "retentionHours must be a whole number from 24 to 8760"],
      ["fractional retention", { retentionHours: 24.5 }, "retentionHours", 24.5, "retentionHours must be a whole number from 24 to 8760"],
      ["unknown mode", { mode: "ondemand" }, "mode", "ondemand", 'mode must be "provisioned" or "on-demand"'],
      ["bufferSeconds below 0", { wireTap: { bufferSeconds: -1 } }, "wireTap.bufferSeconds", -1, "bufferSeconds (Firehose buffering interval) must be a whole number from 0 to 900"],
      ["bufferSeconds above 900", { wireTap: { bufferSeconds: 901 } }, "wireTap.bufferSeconds", 901, "bufferSeconds (Firehose buffering interval) must be a whole number from 0 to 900"],
      ["bufferMiB below 1", { wireTap: { bufferMiB: 0 } }, "wireTap.bufferMiB", 0, "bufferMiB (Firehose buffering size) must be a whole number from 1 to 128"],
      ["bufferMiB above 128", { wireTap: { bufferMiB: 129 } }, "wireTap.bufferMiB", 129, "bufferMiB (Firehose buffering size) must be a whole number from 1 to 128"],
      ["unknown compression", { wireTap: { compression: "gzip" } }, "wireTap.compression", "gzip", "compression must be one of UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY"],
      ["wireTap that is not a map", { wireTap: 60 }, "wireTap", 60, "wireTap must be a map of bufferSeconds, bufferMiB and compression"],
    ];
    for (const [title, settings, key, value, says] of cases) {
      it(`rejects ${title}`, () => {
        const raw = lake();
        raw.layers.ingest.segments.persons = settings;
        expectProblem(raw, `${SEG}.${key}`, { value, says: [says] });
      });
    }

    it("rejects a segment whose settings are not a map", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = 2;
      expectProblem(raw, SEG, { value: 2, says: ["a segment's settings must be a map of mode, shards, retentionHours and wireTap"] });
    });

    it("rejects shards together with mode on-demand", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { mode: "on-demand", shards: 3 };
      expectProblem(raw, `${SEG}.shards`, { value: 3, says: ['mode "on-demand"', "remove shards", 'use mode "provisioned"'] });
    });

    it('rejects a quoted number (YAML `shards: "2"`) and says to drop the quotes', () => {
      const raw = fromYaml(`
config:
  datalake:lake:
    layers:
      ingest:
        segments:
          persons:
            shards: "2"
`);
      expectProblem(raw, `${SEG}.shards`, {
        value: "2",
        shown: '"2"',
        says: ["shards must be a whole number from 1 to 4096", "write it without quotes"],
      });
    });

    it("does not suggest dropping quotes around text that is no number", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { shards: "two" };
      const problem = expectProblem(raw, `${SEG}.shards`, { value: "two", says: ["whole number"] });
      assert.doesNotMatch(problem.message, /quotes/);
    });
  });

  describe("layers", () => {
    it("rejects a lake without layers", () => {
      expectProblem({ name: "acme-dev" }, `${CONFIG_KEY}.layers`, { value: undefined, says: ["layers must be a map of layer name to { segments: ... }"] });
    });

    it("rejects an empty map of layers", () => {
      expectProblem({ layers: {} }, `${CONFIG_KEY}.layers`, { value: {}, says: ["a lake needs at least one layer with one segment"] });
    });

    it("rejects layers given as a list, once", () => {
      expectProblem({ layers: [] }, `${CONFIG_KEY}.layers`, { value: [], says: ["layers must be a map"] });
    });

    it("rejects a layer with `segments: {}`", () => {
      const raw = lake();
      raw.layers.curated = { segments: {} };
      expectProblem(raw, `${CONFIG_KEY}.layers.curated.segments`, { value: {}, says: ["a layer needs at least one segment"] });
    });

    it("rejects a layer without segments, once", () => {
      const raw = lake();
      raw.layers.curated = {};
      expectProblem(raw, `${CONFIG_KEY}.layers.curated.segments`, { value: undefined, says: ["segments must be a map of segment name to settings"] });
    });

    it("rejects a layer with no settings at all (YAML `curated:`)", () => {
      const raw = lake();
      raw.layers.curated = null;
      expectProblem(raw, `${CONFIG_KEY}.layers.curated`, { value: null, says: ["a layer must be a map with segments"] });
    });
  });

  describe("routes", () => {
    const withRoutes = (...routes: unknown[]) => ({ ...lake(), routes });

    it("rejects a route to an unknown segment and lists the known ones", () => {
      expectProblem(withRoutes({ from: "ingest/persons", to: "curated/adult" }), `${CONFIG_KEY}.routes[0].to`, {
        value: "curated/adult",
        says: ["names no segment of this lake", "known segments: ingest/persons, ingest/orders, curated/adults"],
      });
    });

    it("rejects a route from an unknown segment", () => {
      expectProblem(withRoutes({ from: "raw/persons", to: "curated/adults" }), `${CONFIG_KEY}.routes[0].from`, {
        value: "raw/persons",
        says: ["names no segment of this lake", "curated/adults"],
      });
    });

    for (const bad of ["ingest", "ingest/persons/x", "/persons", "ingest/", ""]) {
      it(`rejects the malformed address ${JSON.stringify(bad)}`, () => {
        expectProblem(withRoutes({ from: bad, to: "curated/adults" }), `${CONFIG_KEY}.routes[0].from`, {
          value: bad,
          says: ['must be a segment address "layer/segment"'],
        });
      });
    }

    it("rejects a route without `from`", () => {
      expectProblem(withRoutes({ to: "curated/adults" }), `${CONFIG_KEY}.routes[0].from`, {
        value: undefined,
        says: ['from must be a segment address "layer/segment"'],
      });
    });

    it("rejects a route that is not a map", () => {
      expectProblem(withRoutes("ingest/persons -> curated/adults"), `${CONFIG_KEY}.routes[0]`, {
        value: "ingest/persons -> curated/adults",
        says: ["each route must be a map of from, to"],
      });
    });

    it("rejects a route back into its own segment", () => {
      expectProblem(withRoutes({ from: "ingest/persons", to: "ingest/persons" }), `${CONFIG_KEY}.routes[0].to`, {
        value: "ingest/persons",
        says: ["cannot lead back into its own segment"],
      });
    });

    it("rejects two routes with the same explicit name", () => {
      expectProblem(
        withRoutes(
          { name: "adults", from: "ingest/persons", to: "curated/adults" },
          { name: "adults", from: "ingest/orders", to: "curated/adults" },
        ),
        `${CONFIG_KEY}.routes[1].name`,
        { value: "adults", says: ['route name "adults" is already used by routes[0]', "distinct name"] },
      );
    });

    it("rejects two routes that get the same default name", () => {
      expectProblem(
        withRoutes({ from: "ingest/persons", to: "curated/adults" }, { from: "ingest/persons", to: "curated/adults", filter: { a: [1] } }),
        `${CONFIG_KEY}.routes[1].from`,
        { value: "ingest-persons-to-curated-adults", says: ["already used by routes[0]"] },
      );
    });

    it("rejects a route name that cannot be part of physical names", () => {
      expectProblem(withRoutes({ name: "To_Adults", from: "ingest/persons", to: "curated/adults" }), `${CONFIG_KEY}.routes[0].name`, {
        value: "To_Adults",
        says: ["route name must use", "lowercase letters"],
      });
    });

    it("rejects a loop a -> b -> a", () => {
      const problem = expectProblem(
        withRoutes({ from: "ingest/persons", to: "curated/adults" }, { from: "curated/adults", to: "ingest/persons" }),
        `${CONFIG_KEY}.routes`,
        { value: "ingest/persons -> curated/adults -> ingest/persons", says: ["routes form a loop", "remove one route of the loop"] },
      );
      assert.ok(problem);
    });

    it("rejects a longer loop a -> b -> c -> a", () => {
      expectProblem(
        withRoutes(
          { from: "ingest/persons", to: "ingest/orders" },
          { from: "ingest/orders", to: "curated/adults" },
          { from: "curated/adults", to: "ingest/persons" },
        ),
        `${CONFIG_KEY}.routes`,
        { value: "ingest/persons -> ingest/orders -> curated/adults -> ingest/persons", says: ["routes form a loop"] },
      );
    });

    describe("filters", () => {
      const route = (filter: unknown) => withRoutes({ from: "ingest/persons", to: "curated/adults", filter });
      const at = (sub = "") => `${CONFIG_KEY}.routes[0].filter${sub}`;

      it("rejects an empty pattern object", () => {
        expectProblem(route({}), at(), { value: {}, says: ["a filter pattern must name at least one field"] });
      });

      it("rejects an empty list of values", () => {
        expectProblem(route({ age: [] }), at(".age"), { value: [], says: ["a pattern list must hold at least one value or matcher"] });
      });

      it("rejects an empty nested object and an empty nested list", () => {
        const error = rejects(route({ person: { name: {}, age: [] } }));
        assert.equal(error.problems.length, 2);
        assert.match(problemAt(error, at(".person.name")).message, /at least one field/);
        assert.match(problemAt(error, at(".person.age")).message, /at least one value/);
      });

      it("rejects a bare value where a list is needed", () => {
        expectProblem(route({ age: 18 }), at(".age"), { value: 18, says: ["each pattern field must be a list of values or a nested object"] });
      });

      it("rejects a filter that is not an object, once", () => {
        expectProblem(route([{ age: [18] }]), at(), { value: [{ age: [18] }], says: ["filter must be an EventBridge pattern object"] });
      });

      it("keeps a valid nested pattern as given", () => {
        const filter = { person: { age: [{ numeric: [">=", 18] }], name: [{ prefix: "d" }] } };
        assert.deepEqual(parseLakeConfig(route(filter), ctx).routes[0].filter, filter);
      });

      it("runs the filter in the function unless the route asks for the mapping too", () => {
        const filter = { age: [{ numeric: [">=", 18] }] };
        assert.equal(parseLakeConfig(route(filter), ctx).routes[0].filterAt, "function");
        const inMapping = withRoutes({ from: "ingest/persons", to: "curated/adults", filter, filterAt: "mapping" });
        assert.equal(parseLakeConfig(inMapping, ctx).routes[0].filterAt, "mapping");
        const wrong = withRoutes({ from: "ingest/persons", to: "curated/adults", filter, filterAt: "lambda" });
        expectProblem(wrong, `${CONFIG_KEY}.routes[0].filterAt`, { value: "lambda", says: ['filterAt must be "function" or "mapping"'] });
      });
    });
  });

  describe("physical-name length limits", () => {
    // Lake "datalake-dev" (12), layer "l" (1): segment base "datalake-dev-l-<segment>" is 15 + segment.
    const oneSegment = (segment: string, name?: string) => ({ ...(name ? { name } : {}), layers: { l: { segments: { [segment]: {} } } } });
    const segPath = (segment: string) => `${CONFIG_KEY}.layers.l.segments.${segment}`;
    const s = (n: number) => "s".repeat(n);

    it("accepts a bucket name of exactly 63 characters including the 12-digit account id", () => {
      // base 50 + "-" + 12 = 63
      assert.equal(parseLakeConfig(oneSegment(s(35)), ctx).segments[0].name, s(35));
    });

    it("rejects a bucket name one over 63, saying which limit and by how much", () => {
      expectProblem(oneSegment(s(36)), segPath(s(36)), {
        value: `datalake-dev-l-${s(36)}-000000000000`,
        says: ["S3 bucket name (with the 12-digit account id) would be 64 characters, over AWS's limit of 63", "by 1"],
      });
    });

    it("rejects an IAM role name one over 64", () => {
      // base 56: role "<base>-firehose" 65; bucket 69 (also over); Firehose 56 (fine)
      const error = rejects(oneSegment(s(41)));
      const lines = error.problems.map((p) => p.message);
      assert.ok(lines.some((m) => /^IAM role name would be 65 characters, over AWS's limit of 64; .* by 1$/.test(m)), lines.join("\n"));
      assert.ok(lines.some((m) => /^S3 bucket name .* 69 characters, over AWS's limit of 63; .* by 6$/.test(m)), lines.join("\n"));
      assert.ok(!lines.some((m) => m.startsWith("Firehose")), lines.join("\n"));
      assert.ok(error.problems.every((p) => p.path === segPath(s(41))));
    });

    it("rejects a Firehose delivery stream name one over 64 (and every other name over its limit)", () => {
      // base 65: Firehose 65, role 74, bucket 78; the Kinesis stream (128) is fine
      const error = rejects(oneSegment(s(50)));
      const byWhat = Object.fromEntries(error.problems.map((p) => [p.message.split(" would be")[0], p]));
      assert.deepEqual(Object.keys(byWhat).sort(), ["Firehose delivery stream name", "IAM role name", "S3 bucket name (with the 12-digit account id)"]);
      const firehose = byWhat["Firehose delivery stream name"];
      assert.equal(firehose.value, `datalake-dev-l-${s(50)}`);
      assert.match(firehose.message, /65 characters, over AWS's limit of 64; shorten the lake, layer or segment name by 1$/);
      assert.match(byWhat["IAM role name"].message, /by 10$/);
      assert.match(byWhat["S3 bucket name (with the 12-digit account id)"].message, /by 15$/);
      const lines = error.message.split("\n").filter((l) => l.startsWith("  - "));
      assert.equal(lines.length, 3);
      for (const line of lines) assert.ok(line.startsWith(`  - ${segPath(s(50))}: `), line);
    });

    it("counts the lake name: a long explicit name makes a short segment too long", () => {
      const name = `lake-${"x".repeat(43)}`; // 48; base 48 + "-l-s" = 52; bucket 65
      expectProblem(oneSegment("s", name), segPath("s"), {
        value: `${name}-l-s-000000000000`,
        says: ["S3 bucket name", "65 characters", "limit of 63", "by 2"],
      });
    });

    it("counts a long default lake name (long stack name)", () => {
      const stack = "x".repeat(40); // lake "datalake-xxx…" 49; base 53; bucket 66
      const error = rejects(oneSegment("s"), { project: "datalake", stack });
      assert.match(problemAt(error, segPath("s")).message, /S3 bucket name .* by 3$/);
    });

    it("rejects a KMS alias over 256 for a very long layer name", () => {
      const layer = "l".repeat(250);
      const error = rejects({ layers: { [layer]: { segments: { s: {} } } } });
      const problem = problemAt(error, `${CONFIG_KEY}.layers.${layer}`);
      assert.match(problem.message, /^KMS alias would be 269 characters, over AWS's limit of 256; .* by 13$/);
    });

    describe("route names", () => {
      // pipe "datalake-dev-<route>" is 13 + route; its role "<pipe>-route" is 19 + route
      const route = (name: string) => ({
        layers: { l: { segments: { a: {}, b: {} } } },
        routes: [{ name, from: "l/a", to: "l/b" }],
      });
      const r = (n: number) => "r".repeat(n);
      const routePath = `${CONFIG_KEY}.routes[0].name`;

      it("accepts a route whose IAM role name is exactly 64", () => {
        assert.equal(parseLakeConfig(route(r(45)), ctx).routes[0].name, r(45));
      });

      it("rejects a route whose IAM role name is one over 64", () => {
        expectProblem(route(r(46)), routePath, {
          value: `datalake-dev-${r(46)}-route`,
          says: ["IAM role name would be 65 characters, over AWS's limit of 64", "by 1", "(or give the route a shorter name)"],
        });
      });

      it("rejects a route whose Lambda function name is one over 64", () => {
        const error = rejects(route(r(52)));
        const pipe = error.problems.find((p) => p.message.startsWith("Lambda function name"));
        assert.ok(pipe, error.message);
        assert.equal(pipe.path, routePath);
        assert.equal(pipe.value, `datalake-dev-${r(52)}`);
        assert.match(pipe.message, /65 characters, over AWS's limit of 64; .* by 1 \(or give the route a shorter name\)$/);
      });

      it("checks default route names too, pointing at the route's `from`", () => {
        const raw = {
          layers: { l: { segments: { [`a${"a".repeat(20)}`]: {}, [`b${"b".repeat(20)}`]: {} } } },
          routes: [{ from: `l/a${"a".repeat(20)}`, to: `l/b${"b".repeat(20)}` }],
        };
        const error = rejects(raw);
        const problem = problemAt(error, `${CONFIG_KEY}.routes[0].from`);
        assert.match(problem.message, /^IAM role name would be 69 characters, over AWS's limit of 64/);
        assert.match(problem.message, /give the route a shorter name/);
      });
    });
  });

  describe("one error for every problem", () => {
    /** Schema problems and topology problems, in several layers, segments and routes, all at once. */
    function broken(): Record<string, unknown> {
      return {
        name: "acme-dev",
        layerz: {},
        layers: {
          ingest: {
            segments: {
              persons: { shard: 2, retentionHours: 10 },
              orders: { mode: "on-demand", shards: 2, wireTap: { bufferMiB: 500, compression: "LZ4" } },
              Bad_Name: {},
            },
          },
          Curated: { segments: { adults: { shards: 0 } } },
          empty: { segments: {} },
        },
        routes: [
          { from: "ingest/persons", to: "curated/nobody", filter: {} },
          { from: "ingest/orders", to: "ingest/orders" },
          { from: "nonsense", to: "ingest/persons", extra: true },
        ],
      };
    }

    const expectedPaths = [
      "layerz",
      "layers.Curated",
      "layers.Curated.segments.adults.shards",
      "layers.empty.segments",
      "layers.ingest.segments.Bad_Name",
      "layers.ingest.segments.orders.shards",
      "layers.ingest.segments.orders.wireTap.bufferMiB",
      "layers.ingest.segments.orders.wireTap.compression",
      "layers.ingest.segments.persons.retentionHours",
      "layers.ingest.segments.persons.shard",
      "routes[0].filter",
      "routes[0].to",
      "routes[1].to",
      "routes[2].extra",
      "routes[2].from",
    ].map((p) => `${CONFIG_KEY}.${p}`);

    it("throws a single LakeConfigError whose problems include every one of them", () => {
      const error = rejects(broken());
      assert.equal(error.name, "LakeConfigError");
      assert.ok(error instanceof Error);
      assert.deepEqual([...error.problems.map((p) => p.path)].sort(), [...expectedPaths].sort());
    });

    it("reports each with its own message", () => {
      const error = rejects(broken());
      const message = (path: string) => problemAt(error, `${CONFIG_KEY}.${path}`).message;
      assert.match(message("layerz"), /did you mean "layers"/);
      assert.match(message("layers.Curated"), /layer name must use/);
      assert.match(message("layers.Curated.segments.adults.shards"), /whole number from 1 to 4096/);
      assert.match(message("layers.empty.segments"), /at least one segment/);
      assert.match(message("layers.ingest.segments.Bad_Name"), /segment name must use/);
      assert.match(message("layers.ingest.segments.orders.shards"), /on-demand/);
      assert.match(message("layers.ingest.segments.orders.wireTap.bufferMiB"), /from 1 to 128/);
      assert.match(message("layers.ingest.segments.orders.wireTap.compression"), /one of UNCOMPRESSED/);
      assert.match(message("layers.ingest.segments.persons.retentionHours"), /from 24 to 8760/);
      assert.match(message("layers.ingest.segments.persons.shard"), /did you mean "shards"/);
      assert.match(message("routes[0].filter"), /at least one field/);
      assert.match(message("routes[0].to"), /names no segment of this lake; known segments: ingest\/persons, ingest\/orders, ingest\/Bad_Name, Curated\/adults$/);
      assert.match(message("routes[1].to"), /own segment/);
      assert.match(message("routes[2].extra"), /unknown key/);
      assert.match(message("routes[2].from"), /segment address/);
    });

    it("writes one line per problem, each starting with the config path, and nothing like a stack trace", () => {
      const error = rejects(broken());
      const lines = error.message.split("\n");
      assert.equal(lines[0], `Invalid ${CONFIG_KEY} config: ${expectedPaths.length} problems.`);
      const problemLines = lines.filter((l) => l.startsWith("  - "));
      assert.equal(problemLines.length, error.problems.length);
      assert.equal(lines.length, error.problems.length + 2, "a heading, one line per problem, and the closing advice");
      for (const line of problemLines) {
        assert.ok(line.slice(4).startsWith(`${CONFIG_KEY}.`), line);
        assert.match(line, /\(got .+\)$/);
      }
      assert.match(lines[lines.length - 1], /^Fix these in Pulumi\.<stack>\.yaml/);
      assert.doesNotMatch(error.message, /^\s+at /m);
      assert.doesNotMatch(error.message, /\.ts:\d+|node_modules|ZodError|"code":|"path":/);
    });

    it("lists the problems sorted by path, so the same config always gives the same message", () => {
      const a = rejects(broken());
      const b = rejects(broken());
      assert.equal(a.message, b.message);
      const paths = a.problems.map((p) => p.path);
      assert.deepEqual(paths, [...paths].sort());
    });

    it("shortens long values in the message", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { mode: "x".repeat(400) };
      const line = lineFor(rejects(raw), `${SEG}.mode`);
      assert.ok(line.length < 300, line);
      assert.match(line, /\.\.\.\)$/);
    });

    it("says `1 problem` for a single problem", () => {
      const raw = lake();
      raw.layers.ingest.segments.persons = { shards: 0 };
      assert.equal(rejects(raw).message.split("\n")[0], `Invalid ${CONFIG_KEY} config: 1 problem.`);
    });
  });
});

describe("config: route filter matchers", () => {
  const base = {
    layers: { ingest: { segments: { persons: {} } }, curated: { segments: { adults: {} } } },
  };
  it("rejects an unknown EventBridge matcher with the filter field's path", () => {
    const raw = { ...base, routes: [{ from: "ingest/persons", to: "curated/adults", filter: { age: [{ numerc: [">=", 18] }] } }] };
    assert.throws(
      () => parseLakeConfig(raw, ctx),
      (err: Error) => err instanceof LakeConfigError && /datalake:lake\.routes\[0\]\.filter\.age: unknown matcher/.test(err.message),
    );
    const ok = { ...base, routes: [{ from: "ingest/persons", to: "curated/adults", filter: { age: [{ numeric: [">=", 18] }] } }] };
    assert.strictEqual(parseLakeConfig(ok, ctx).routes.length, 1);
  });
});

describe("config: route filter size", () => {
  it("rejects a filter longer than Lambda's filter criteria accept, before deploy", () => {
    const names = Array.from({ length: 400 }, (_, i) => `person-number-${i}`);
    const raw = {
      layers: { ingest: { segments: { persons: {} } }, curated: { segments: { adults: {} } } },
      routes: [{ from: "ingest/persons", to: "curated/adults", filter: { name: names } }],
    };
    assert.throws(
      () => parseLakeConfig(raw, ctx),
      (err: Error) => err instanceof LakeConfigError && /routes\[0\]\.filter: the filter is \d+ characters .* limit of 4096/.test(err.message),
    );
    raw.routes[0].filter.name = names.slice(0, 10);
    assert.strictEqual(parseLakeConfig(raw, ctx).routes[0].filter?.name instanceof Array, true);
  });
});
