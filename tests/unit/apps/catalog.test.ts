import * as assert from "assert";
import { catalogFromConfig, entryRegion, lookupSegment, parseCatalog } from "../../../runtime/catalog";
import { UserError } from "../../../runtime/errors";
import { loadStackTopology } from "../../../runtime/topology";
import { CATALOG_REQUIRED_FIELDS } from "../../../model/catalog";

describe("catalog (apps/lib/catalog.ts)", () => {
  it("the local lake's catalog has every field of the stack output, under the deployed physical names", () => {
    const config = loadStackTopology("dev");
    const catalog = catalogFromConfig(config);
    assert.deepStrictEqual(Object.keys(catalog), config.segments.map((s) => s.address));
    for (const [address, entry] of Object.entries(catalog)) {
      for (const field of CATALOG_REQUIRED_FIELDS) assert.ok(entry[field], `${address} lacks ${field}`);
      const [layer, segment] = address.split("/");
      assert.strictEqual(entry.streamName, `${config.name}-${layer}-${segment}`);
      assert.strictEqual(entry.bucketName, `${config.name}-${layer}-${segment}-000000000000`);
    }
  });

  it("reads the catalog output itself or the whole `pulumi stack output --json` object", () => {
    const entry = { streamName: "s", streamArn: "arn:aws:kinesis:eu-west-1:123456789012:stream/s" };
    assert.deepStrictEqual(parseCatalog(JSON.stringify({ "a/b": entry }), "f"), { "a/b": entry });
    assert.deepStrictEqual(parseCatalog(JSON.stringify({ lakeName: "x", catalog: { "a/b": entry } }), "f"), { "a/b": entry });
    assert.strictEqual(entryRegion(entry), "eu-west-1");
  });

  it("rejects what is not a catalog, and unknown segments, with the way out", () => {
    assert.throws(() => parseCatalog("[1,2]", "f"), (e: Error) => e instanceof UserError && /not a data lake catalog.*pulumi stack output catalog --json/.test(e.message));
    assert.throws(() => parseCatalog("{}", "f"), /lists no segments/);
    assert.throws(() => parseCatalog(JSON.stringify({ "a/b": { bucketName: "x" } }), "f"), /a\/b\.streamName/);
    assert.throws(
      () => lookupSegment({ "a/b": { streamName: "s" }, "a/c": { streamName: "t" } }, "a/x", "catalog f"),
      /unknown segment "a\/x" in catalog f; known segments: a\/b, a\/c/,
    );
  });
});
