/**
 * The topology as a whole: stability of names and URNs when the config changes, the stack files, the
 * catalog output, and how `index.ts` reports a bad config.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { CATALOG_REQUIRED_FIELDS } from "../../../model/catalog";
import { loadLakeConfig, readStackLakeConfig } from "../../../components/stack-config";
import {
  ACCOUNT_ID,
  buildLake,
  clone,
  LakeRun,
  REGION,
  settle,
  stackTopology,
  startMockRun,
  TYPES,
  valueOf,
} from "../../helpers/pulumi-mocks";

type Raw = {
  name?: string;
  layers: Record<string, { segments: Record<string, unknown> }>;
  routes?: unknown[];
};

/** What decides whether Pulumi keeps, updates or replaces a resource: its URN, parent and inputs. */
interface Signature {
  urn: string;
  type: string;
  name: string;
  parent: string | undefined;
  inputs: string;
}

const signatures = (run: LakeRun): Map<string, Signature> =>
  new Map(
    run.resources.map((r) => [
      r.urn,
      { urn: r.urn, type: r.type, name: r.name, parent: r.parent, inputs: JSON.stringify(sortKeys(r.inputs)) },
    ]),
  );

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
  }
  return value;
}

interface Diff {
  added: string[];
  removed: string[];
  changed: string[];
  reparented: string[];
}

function diff(before: LakeRun, after: LakeRun): Diff {
  const a = signatures(before);
  const b = signatures(after);
  return {
    added: [...b.keys()].filter((u) => !a.has(u)).sort(),
    removed: [...a.keys()].filter((u) => !b.has(u)).sort(),
    changed: [...a.keys()].filter((u) => b.has(u) && a.get(u)!.inputs !== b.get(u)!.inputs).sort(),
    reparented: [...a.keys()].filter((u) => b.has(u) && a.get(u)!.parent !== b.get(u)!.parent).sort(),
  };
}

/** URNs of a segment component and everything under it. */
function subtree(run: LakeRun, segment: string): string[] {
  const root = run.get(TYPES.segment, segment);
  return [root, ...run.descendantsOf(root)].map((r) => r.urn).sort();
}

describe("lake topology", function () {
  this.timeout(60_000);
  const dev = () => clone(stackTopology("dev")) as Raw;
  let base: LakeRun;
  before(async () => {
    base = await buildLake(dev(), { stack: "dev" });
  });

  describe("changing one segment leaves every other resource alone", () => {
    it("adding a segment adds only its resources and renames or changes nothing else", async () => {
      const raw = dev();
      raw.layers.ingest.segments.extra = { shards: 1 };
      const grown = await buildLake(raw, { stack: "dev" });
      const d = diff(base, grown);
      assert.deepStrictEqual(d.removed, []);
      assert.deepStrictEqual(d.reparented, []);
      assert.deepStrictEqual(d.added, subtree(grown, "ingest-extra"));
      assert.ok(d.added.length >= 15, `only ${d.added.length} resources added`);
      // The only existing resource that changes is the lake's dashboard, which draws every segment (an
      // in-place update of its body). The layer's key policy does not: it covers the layer's log-group
      // name space with one condition, so the new segment's log group is already in it.
      const dashboard = grown.get("aws:cloudwatch/dashboard:Dashboard", "dashboard-dashboard");
      assert.deepStrictEqual(d.changed, [dashboard.urn]);
    });

    it("removing a segment removes only its resources", async () => {
      const raw = dev();
      delete raw.layers.ingest.segments.orders;
      // The route that reads it goes with it (a route to a missing segment is a config error).
      raw.routes = (raw.routes ?? []).filter((r) => (r as { from?: string }).from !== "ingest/orders");
      const shrunk = await buildLake(raw, { stack: "dev" });
      const d = diff(base, shrunk);
      assert.deepStrictEqual(d.added, []);
      const route = base.get(TYPES.route, "route-ingest-orders-to-curated-order-stats");
      assert.deepStrictEqual(d.removed, [...subtree(base, "ingest-orders"), route.urn, ...base.descendantsOf(route).map((r) => r.urn)].sort());
      // The dashboard, and order-stats' archive table, whose columns came from that route's aggregate (it
      // falls back to the default schema). Not the curated key: its policy covers the layer's processor log
      // groups with one name-space condition, so a route's removal leaves it alone.
      assert.deepStrictEqual(
        d.changed,
        [
          base.get("aws:cloudwatch/dashboard:Dashboard", "dashboard-dashboard").urn,
          base.get("aws:glue/catalogTable:CatalogTable", "curated-order-stats-archive-table").urn,
        ].sort(),
      );
      assert.deepStrictEqual(d.reparented, []);
    });

    it("changing a segment's settings changes only that segment's resources", async () => {
      const raw = dev();
      raw.layers.ingest.segments.persons = { ...(raw.layers.ingest.segments.persons as object), shards: 5, wireTap: { compression: "Snappy" } };
      const changed = await buildLake(raw, { stack: "dev" });
      const d = diff(base, changed);
      assert.deepStrictEqual([d.added, d.removed, d.reparented], [[], [], []]);
      assert.deepStrictEqual(d.changed, [
        changed.get(TYPES.firehose, "ingest-persons-firehose").urn,
        changed.get(TYPES.stream, "ingest-persons-stream").urn,
      ].sort());
    });

    it("reordering layers, segments and routes changes nothing", async () => {
      const withTwoRoutes = (reverse: boolean): Raw => {
        const raw = dev();
        raw.routes = [...(raw.routes ?? []), { from: "ingest/orders", to: "curated/adults" }];
        if (!reverse) return raw;
        const reversed = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).reverse());
        const layers = Object.fromEntries(
          Object.entries(raw.layers)
            .reverse()
            .map(([name, layer]) => [name, { segments: reversed(layer.segments) }]),
        );
        return { ...raw, layers, routes: [...raw.routes].reverse() };
      };
      const inOrder = await buildLake(withTwoRoutes(false), { stack: "dev" });
      const reordered = await buildLake(withTwoRoutes(true), { stack: "dev" });
      assert.notDeepStrictEqual(
        inOrder.config.segments.map((s) => s.address),
        reordered.config.segments.map((s) => s.address),
        "the test did not reorder anything",
      );
      assert.deepStrictEqual(diff(inOrder, reordered), { added: [], removed: [], changed: [], reparented: [] });
      assert.strictEqual(inOrder.ofType(TYPES.function).length, 3);
    });
  });

  describe("stack files", () => {
    const root = path.join(__dirname, "..", "..", "..");
    const stackFile = (stack: string) =>
      parseYaml(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };

    it("Pulumi.yaml declares the datalake project on the Node.js runtime", () => {
      const project = parseYaml(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8"));
      assert.strictEqual(project.name, "datalake");
      assert.strictEqual(project.runtime.name, "nodejs");
    });

    for (const stack of ["dev", "prod"]) {
      it(`Pulumi.${stack}.yaml evaluates to a lake whose catalog lists every segment with its endpoints`, async () => {
        assert.strictEqual(stackFile(stack).config["aws:region"], "eu-west-1");
        const run = await buildLake(stackTopology(stack), { stack });
        assert.strictEqual(run.lakeName, `datalake-${stack}`);
        const addresses = run.config.segments.map((s) => s.address).sort();
        assert.deepStrictEqual(addresses, ["curated/adults", "curated/order-stats", "ingest/orders", "ingest/persons"]);
        assert.deepStrictEqual(Object.keys(run.catalog).sort(), addresses);
        for (const address of addresses) {
          const entry = run.catalog[address];
          for (const field of CATALOG_REQUIRED_FIELDS) {
            assert.ok(typeof entry[field] === "string" && entry[field].length > 0, `${address}.${field} is empty`);
          }
          const [layer, segment] = address.split("/");
          const seg = run.get(TYPES.segment, `${layer}-${segment}`);
          const stream = run.only(seg, TYPES.stream);
          assert.deepStrictEqual(
            [entry.address, entry.layer, entry.segment, entry.region],
            [address, layer, segment, REGION],
          );
          assert.strictEqual(entry.streamName, `datalake-${stack}-${layer}-${segment}`);
          assert.strictEqual(entry.streamArn, stream.state.arn);
          assert.strictEqual(entry.deliveryStreamName, run.only(seg, TYPES.firehose).inputs.name);
          assert.strictEqual(entry.bucketName, `datalake-${stack}-${layer}-${segment}-${ACCOUNT_ID}`);
          assert.strictEqual(entry.kmsKeyArn, stream.inputs.kmsKeyId);
          const policyArns = run.descendantsOf(seg).filter((r) => r.type === TYPES.policy).map((p) => p.state.arn).sort();
          // Plus one policy per declared enhanced fan-out consumer (dev: curated/adults' fraud-model) and per
          // consumer group (dev: ingest/persons' billing, curated/adults' fraud).
          const fanOut = Object.values(entry.consumers ?? {}).map((c) => c.policyArn);
          const groups = Object.values(entry.groups ?? {}).map((g) => g.policyArn);
          assert.deepStrictEqual([entry.consumerPolicyArn, entry.producerPolicyArn, entry.readerPolicyArn, ...fanOut, ...groups].sort(), policyArns);
          assert.ok(entry.readerPolicyArn.endsWith("-reader"));
          assert.strictEqual(entry.tableName, `datalake_${stack}_${layer}.${segment.replace(/-/g, "_")}`);
          assert.ok(entry.producerPolicyArn.endsWith("-producer") && entry.consumerPolicyArn.endsWith("-consumer"));
        }
        assert.strictEqual(run.ofType(TYPES.function).length, run.config.routes.length);
        assert.ok(run.config.routes.some((r) => r.aggregate), `Pulumi.${stack}.yaml has no aggregating route`);
      });
    }

    it("prod is sized at least as large as dev, segment by segment", async () => {
      const devConfig = loadLakeConfig(stackTopology("dev"), { project: "datalake", stack: "dev" });
      const prodConfig = loadLakeConfig(stackTopology("prod"), { project: "datalake", stack: "prod" });
      for (const d of devConfig.segments) {
        const p = prodConfig.segments.find((s) => s.address === d.address);
        assert.ok(p, `prod lacks ${d.address}`);
        assert.strictEqual(p.mode, d.mode, d.address);
        assert.ok((p.shards ?? 0) >= (d.shards ?? 0), `${d.address} shards`);
        assert.ok(p.retentionHours >= d.retentionHours, `${d.address} retention`);
      }
      assert.strictEqual(prodConfig.segments.find((s) => s.address === "ingest/persons")?.shards, 4);
    });
  });

  describe("loading the stack config (index.ts)", () => {
    const bad = () => {
      const raw = dev();
      raw.layers.ingest.segments.orders = { mode: "on-demand", shards: 0 };
      return raw;
    };

    it("turns a bad topology into a RunError (no stack trace) naming the config path", () => {
      assert.throws(
        () => loadLakeConfig(bad(), { project: "datalake", stack: "dev" }),
        (err: unknown) => {
          assert.ok(pulumi.RunError.isInstance(err), `not a RunError: ${String(err)}`);
          assert.match((err as Error).message, /datalake:lake\.layers\.ingest\.segments\.orders\.shards/);
          return true;
        },
      );
    });

    it("reads datalake:lake from the stack config, as `pulumi up` does", async () => {
      await startMockRun({ stack: "dev" });
      const saved = pulumi.runtime.allConfig();
      try {
        pulumi.runtime.setConfig("datalake:lake", JSON.stringify(bad()));
        assert.throws(
          () => readStackLakeConfig(),
          (err: unknown) => pulumi.RunError.isInstance(err) && /segments\.orders\.shards/.test((err as Error).message),
        );
        pulumi.runtime.setConfig("datalake:lake", JSON.stringify(dev()));
        const config = readStackLakeConfig();
        assert.strictEqual(config.name, "datalake-dev");
        assert.strictEqual(config.segments.length, 4);
      } finally {
        pulumi.runtime.setAllConfig(saved);
      }
    });

    it("index.ts declares the lake of the stack config and exports lakeName and catalog", async () => {
      await startMockRun({ stack: "dev" });
      const saved = pulumi.runtime.allConfig();
      const entry = require.resolve("../../../index");
      try {
        pulumi.runtime.setConfig("datalake:lake", JSON.stringify(dev()));
        delete require.cache[entry];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const program = require(entry) as typeof import("../../../index");
        assert.strictEqual(await valueOf(program.lakeName), "datalake-dev");
        assert.deepStrictEqual(Object.keys(await valueOf(program.catalog)).sort(), ["curated/adults", "curated/order-stats", "ingest/orders", "ingest/persons"]);
        await settle();
      } finally {
        delete require.cache[entry];
        pulumi.runtime.setAllConfig(saved);
      }
    });

    it("reports a stack without any topology as a RunError too", async () => {
      await startMockRun({ stack: "empty" });
      const saved = pulumi.runtime.allConfig();
      try {
        pulumi.runtime.setAllConfig({});
        assert.throws(
          () => readStackLakeConfig(),
          (err: unknown) => pulumi.RunError.isInstance(err) && (err as Error).message.includes("datalake:lake"),
        );
      } finally {
        pulumi.runtime.setAllConfig(saved);
      }
    });
  });
});
