/**
 * The processor keys of a route in the stack config: every problem reported with its config path, the
 * value and what is allowed, together with the rest; defaults applied.
 */
import * as assert from "assert";
import { LakeConfigError, parseLakeConfig } from "../../../model/config";

const ctx = { project: "datalake", stack: "t" };
const layers = { ingest: { segments: { orders: {}, persons: {} } }, curated: { segments: { stats: {}, adults: {} } } };
const problems = (routes: unknown[]): Record<string, string> => {
  try {
    parseLakeConfig({ layers, routes }, ctx);
  } catch (err) {
    assert.ok(err instanceof LakeConfigError, String(err));
    return Object.fromEntries(err.problems.map((p) => [p.path.replace("datalake:lake.", ""), p.message]));
  }
  assert.fail("the config was accepted");
};

describe("route config: transform, aggregate, failure, startAt", () => {
  it("applies the documented defaults", () => {
    const [r] = parseLakeConfig({ layers, routes: [{ from: "ingest/orders", to: "curated/stats", aggregate: { windowSeconds: 60, count: true } }] }, ctx).routes;
    assert.deepStrictEqual(r.aggregate, { windowSeconds: 60, groupBy: [], count: true, sum: [], min: [], max: [] });
    assert.deepStrictEqual(r.failure, { maximumRetryAttempts: 3, maximumRecordAgeInSeconds: 3600, bisectBatchOnFunctionError: true, batchSize: 100 });
    assert.deepStrictEqual(r.startAt, { type: "trim-horizon", explicit: false });
    const [t] = parseLakeConfig({ layers, routes: [{ from: "ingest/persons", to: "curated/adults", startAt: "2026-11-26T13:00:00+01:00" }] }, ctx).routes;
    assert.deepStrictEqual(t.startAt, { type: "at-timestamp", timestamp: "2026-11-26T12:00:00.000Z", explicit: true });
  });

  it("reports every problem of every route with its path", () => {
    const found = problems([
      { from: "ingest/orders", to: "curated/stats", aggregate: { windowSeconds: 901, groupBy: [], sum: ["amount", "amount"], bogus: 1 }, transform: { select: ["a"] } },
      { from: "ingest/persons", to: "curated/adults", transform: { selct: ["a"] }, failure: { maximumRetryAttempts: -1, maximumRecordAgeInSeconds: 30 }, batchSize: 0, startAt: "yesterday" },
      { from: "ingest/persons", to: "curated/stats", transform: { select: [], rename: { a: "x", b: "x" }, set: {} } },
      { from: "ingest/orders", to: "curated/adults", aggregate: { windowSeconds: 10 } },
    ]);
    assert.match(found["routes[0].aggregate"], /either transforms or aggregates/);
    assert.match(found["routes[0].aggregate.windowSeconds"], /1 to 900/);
    assert.match(found["routes[0].aggregate.groupBy"], /at least one field/);
    assert.match(found["routes[0].aggregate.sum"], /"amount" is listed twice/);
    assert.match(found["routes[0].aggregate.bogus"], /unknown key; allowed keys here are windowSeconds, groupBy, count, sum, min, max/);
    assert.match(found["routes[1].transform.selct"], /did you mean "select"/);
    assert.match(found["routes[1].transform"], /at least one of select, rename or set/);
    assert.match(found["routes[1].failure.maximumRetryAttempts"], /0 to 10/);
    assert.match(found["routes[1].failure.maximumRecordAgeInSeconds"], /60 to 604800/);
    assert.match(found["routes[1].batchSize"], /1 to 10000/);
    assert.match(found["routes[1].startAt"], /trim-horizon.*latest.*ISO-8601/);
    assert.match(found["routes[2].transform.select"], /at least one field/);
    assert.match(found["routes[2].transform.rename"], /renamed to "x"/);
    assert.match(found["routes[2].transform.rename.a"], /select drops/);
    assert.match(found["routes[2].transform.set"], /at least one field/);
    assert.match(found["routes[3].aggregate"], /count: true or at least one of sum, min, max/);
  });
});
