/**
 * The alias of a moved child names its former parent by URN. Pulumi turns every alias into an Output and
 * walks its value for unknowns; a resource object in that value is walked whole, through its parent to the
 * lake and every segment, so each of a segment's thirteen aliased resources cost time proportional to the
 * lake's size and program time grew with the square of the segment count (bench section 6). What the
 * alias stands for is checked by urns.test.ts; this checks its form.
 */
import * as assert from "assert";
import * as pulumi from "@pulumi/pulumi";
import { movedChild } from "../../../components/moved";
import { settle, startMockRun, valueOf } from "../../helpers/pulumi-mocks";

describe("movedChild", () => {
  it("aliases the former parent by its URN, not by the resource object", async () => {
    await startMockRun();
    const segment = new pulumi.ComponentResource("datalake:lake:Segment", "seg");
    const part = new pulumi.ComponentResource("datalake:lake:Bucket", "seg-bucket", {}, { parent: segment });
    const opts = movedChild(part, { parent: segment });
    assert.strictEqual(opts.parent, part);
    assert.strictEqual(opts.aliases?.length, 1);
    const alias = opts.aliases![0] as pulumi.Alias;
    assert.ok(!pulumi.Resource.isInstance(alias.parent), "the alias holds the parent resource itself");
    assert.ok(pulumi.Output.isInstance(alias.parent), "the alias's parent is not the parent's URN");
    assert.strictEqual(await valueOf(alias.parent as pulumi.Output<string>), await valueOf(segment.urn));
    await settle();
  });

  it("gives no alias to a part without a parent", async () => {
    await startMockRun();
    const part = new pulumi.ComponentResource("datalake:lake:Bucket", "lone-bucket");
    assert.deepStrictEqual(movedChild(part, undefined).aliases, []);
    await settle();
  });
});
