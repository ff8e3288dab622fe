/**
 * `npm run -s diagram`: the Mermaid picture of a stack, and README's copy of the dev stack's picture,
 * which must stay what Pulumi.dev.yaml says.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { describeFilter, embeddedDiagram, renderDiagram } from "../../../apps/diagram/diagram";
import { loadStackTopology } from "../../../runtime/topology";
import { parseLakeConfig } from "../../../model/config";
import { PROJECT_DIR, runApp } from "../../helpers/run-app";

describe("diagram", function () {
  it("matches the dev stack's diagram embedded in docs/processors.md (regenerate: npm run -s diagram -- --stack dev --fence)", () => {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "docs", "processors.md"), "utf8");
    const embedded = embeddedDiagram(readme, "dev");
    assert.ok(embedded, "docs/processors.md has no <!-- diagram:dev --> block");
    assert.strictEqual(embedded, renderDiagram(loadStackTopology("dev")));
  });

  it("draws layers as subgraphs, segments with capacity, consumers, and each processor's filter, transform or aggregate", () => {
    const config = parseLakeConfig(
      {
        name: "t",
        layers: {
          raw: { segments: { events: { shards: 3 }, clicks: { mode: "on-demand" } } },
          clean: { segments: { slim: { consumers: ["fraud-model"] }, stats: {} } },
        },
        routes: [
          { from: "raw/events", to: "clean/slim", filter: { kind: ["a", "b"], meta: { v: [{ numeric: [">", 1, "<=", 3] }] } }, transform: { select: ["id"], set: { src: "raw" } } },
          { name: "click-stats", from: "raw/clicks", to: "clean/stats", aggregate: { windowSeconds: 300, count: true, max: ["ms"] } },
        ],
      },
      { project: "datalake", stack: "t" },
    );
    const text = renderDiagram(config);
    assert.ok(text.startsWith("flowchart LR\n"));
    assert.ok(text.includes('subgraph layer_raw["layer raw"]'));
    assert.ok(text.includes('raw_events[("raw/events<br/>3 shards")]'));
    assert.ok(text.includes('raw_clicks[("raw/clicks<br/>on-demand")]'));
    assert.ok(
      text.includes(
        'raw_events -- "raw-events-to-clean-slim<br/>filter: (kind = #quot;a#quot; or kind = #quot;b#quot;) and meta.v > 1 and meta.v <= 3<br/>transform: select id; set src" --> clean_slim',
      ),
      text,
    );
    assert.ok(text.includes('raw_clicks -- "click-stats<br/>aggregate 300 s: count, max ms" --> clean_stats'), text);
    assert.ok(text.includes('clean_slim -. "enhanced fan-out" .-> consumer_clean_slim_fraud_model(["consumer fraud-model"])'), text);
    assert.strictEqual(describeFilter({ age: [{ numeric: [">=", 18] }] }), "age >= 18");
  });

  it("prints the diagram on stdout only, and one line and exit 2 for an unknown stack", async function () {
    this.timeout(60_000);
    const ok = await runApp("apps/diagram/main.ts", ["--stack", "dev"], { PATH: process.env.PATH });
    assert.strictEqual(ok.code, 0, ok.stderr);
    assert.strictEqual(ok.stdout, renderDiagram(loadStackTopology("dev")));
    const bad = await runApp("apps/diagram/main.ts", ["--stack", "nope"], { PATH: process.env.PATH });
    assert.strictEqual(bad.code, 2);
    assert.strictEqual(bad.stdout, "");
    assert.strictEqual(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  });
});
