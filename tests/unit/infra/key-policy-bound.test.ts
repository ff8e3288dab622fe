/**
 * A layer key's policy stays bounded whatever the layer's size (issue 7 item 5): it does not grow with
 * the routes that write into the layer, whose processors' log groups it encrypts. Each processor's log
 * group may use its target layer's key and no other.
 */
import * as assert from "assert";
import { KEY_POLICY_MAX_BYTES } from "../../../model/policies";
import { logsMayUseKey } from "../../helpers/key-policy-match";
import { buildLake, LakeRun, policyOf, TYPES } from "../../helpers/pulumi-mocks";

/** A lake whose layer `curated` receives `n` routes (one per source segment of `ingest`). */
function lakeWithRoutes(n: number) {
  const sources = Array.from({ length: n }, (_, i) => `s${i}`);
  return {
    name: "many",
    layers: {
      ingest: { segments: Object.fromEntries(sources.map((s) => [s, {}])) },
      curated: { segments: { all: {} } },
      "curated-x": { segments: { other: {} } },
    },
    routes: [
      ...sources.map((s) => ({ from: `ingest/${s}`, to: "curated/all", startAt: "latest" })),
      { from: "curated/all", to: "curated-x/other", startAt: "latest" },
    ],
  };
}

describe("layer key policy with many routes into the layer", function () {
  this.timeout(180_000);
  let one: LakeRun;
  let many: LakeRun;
  const ROUTES = 16;
  before(async () => {
    one = await buildLake(lakeWithRoutes(1));
    many = await buildLake(lakeWithRoutes(ROUTES));
  });

  const keyPolicy = (run: LakeRun, layer: string) => run.only(run.get(TYPES.layer, layer), TYPES.key).inputs.policy as string;

  it("is the same for 16 routes into the layer as for one", () => {
    assert.strictEqual(many.ofType(TYPES.route).length, ROUTES + 1);
    assert.strictEqual(keyPolicy(many, "curated"), keyPolicy(one, "curated"));
    assert.ok(keyPolicy(many, "curated").length < KEY_POLICY_MAX_BYTES / 8, `${keyPolicy(many, "curated").length} bytes`);
  });

  it("lets each processor's log group use its target layer's key and no other layer's", () => {
    // Each layer's key and policy looked up once: the checks below are routes x layers.
    const keys = many.ofType(TYPES.layer).map((l) => {
      const key = many.only(l, TYPES.key);
      return { layer: l.name, arn: key.state.arn, doc: policyOf(key) };
    });
    for (const route of many.ofType(TYPES.route)) {
      const group = many.only(route, TYPES.logGroup);
      const target = keys.find((k) => k.arn === group.inputs.kmsKeyId)!.layer;
      for (const { layer, doc } of keys) {
        assert.strictEqual(logsMayUseKey(doc as never, group.state.arn), layer === target, `${layer} key, ${group.state.arn}`);
      }
    }
  });
});
