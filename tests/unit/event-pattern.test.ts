import * as assert from "assert";
import { matchesPattern, patternMatcherProblems } from "../../model/event-pattern";

describe("event-pattern: EventBridge content filtering for routes", () => {
  const adults = { age: [{ numeric: [">=", 18] }] };

  it("numeric ranges select exactly the matching records", () => {
    const ages = Array.from({ length: 40 }, (_, i) => i);
    const matched = ages.filter((age) => matchesPattern(adults, { name: `dennis ${age}`, age }));
    assert.deepStrictEqual(matched, ages.filter((a) => a >= 18));
    assert.ok(matchesPattern({ age: [{ numeric: [">", 10, "<=", 20] }] }, { age: 20 }));
    assert.ok(!matchesPattern({ age: [{ numeric: [">", 10, "<=", 20] }] }, { age: 21 }));
    assert.ok(!matchesPattern(adults, { age: "30" }), "a string is not a number");
  });

  it("exact values, prefix, suffix, ignore-case, wildcard and anything-but", () => {
    assert.ok(matchesPattern({ name: ["a", "b"] }, { name: "b" }));
    assert.ok(!matchesPattern({ name: ["a", "b"] }, { name: "c" }));
    assert.ok(matchesPattern({ name: [{ prefix: "den" }] }, { name: "dennis 1" }));
    assert.ok(!matchesPattern({ name: [{ prefix: "bob" }] }, { name: "dennis 1" }));
    assert.ok(matchesPattern({ name: [{ suffix: " 1" }] }, { name: "dennis 1" }));
    assert.ok(matchesPattern({ name: [{ "equals-ignore-case": "DENNIS 1" }] }, { name: "dennis 1" }));
    assert.ok(matchesPattern({ name: [{ wildcard: "d*s 1" }] }, { name: "dennis 1" }));
    assert.ok(!matchesPattern({ name: [{ wildcard: "d*s 2" }] }, { name: "dennis 1" }));
    assert.ok(matchesPattern({ name: [{ "anything-but": ["x", "y"] }] }, { name: "z" }));
    assert.ok(!matchesPattern({ name: [{ "anything-but": "z" }] }, { name: "z" }));
    assert.ok(!matchesPattern({ name: [{ "anything-but": { prefix: "d" } }] }, { name: "dennis" }));
    assert.ok(matchesPattern({ vip: [true] }, { vip: true }) && !matchesPattern({ vip: [true] }, { vip: false }));
    assert.ok(matchesPattern({ x: [null] }, { x: null }));
  });

  it("exists, nesting and array fields", () => {
    assert.ok(matchesPattern({ id: [{ exists: true }] }, { id: "1" }));
    assert.ok(!matchesPattern({ id: [{ exists: true }] }, {}));
    assert.ok(matchesPattern({ id: [{ exists: false }] }, {}));
    assert.ok(matchesPattern({ address: { city: ["Utrecht"] } }, { address: { city: "Utrecht" } }));
    assert.ok(!matchesPattern({ address: { city: ["Utrecht"] } }, { address: "Utrecht" }));
    assert.ok(matchesPattern({ tags: ["b"] }, { tags: ["a", "b"] }));
    assert.ok(!matchesPattern(adults, "not an object"));
    assert.ok(matchesPattern({ a: ["1"], b: [2] }, { a: "1", b: 2 }) && !matchesPattern({ a: ["1"], b: [2] }, { a: "1", b: 3 }));
  });

  it("reports unknown or malformed matchers with their field", () => {
    assert.deepStrictEqual(patternMatcherProblems(adults), []);
    const problems = patternMatcherProblems({ age: [{ numerc: [">", 1] }], n: [{ numeric: ["~", 1] }], e: [{ exists: "yes" }], s: "x" });
    assert.deepStrictEqual(
      problems.map(([path]) => path.join(".")),
      ["age", "n", "e", "s"],
    );
    assert.match(problems[0][1], /unknown matcher/);
  });
});
