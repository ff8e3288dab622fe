/**
 * Splitting the segment component by AWS part (stream, bucket, wire-tap) moved resources under new parent
 * components, which changes their URNs. A URN Pulumi cannot match to the deployed state means delete and
 * re-create: a new bucket, a new stream, data gone. These tests hold the URNs of the dev and prod stacks as
 * they were before the split (`fixtures/urns-before-split.json`, recorded under the same mocks; the lake,
 * its layers, keys, segments and everything under them, not the routes, which change on their own) and
 * check that every one of them is still there, either as the resource's URN or as one of its aliases.
 */
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { buildLake, LakeRun, stackTopology, TYPES } from "../../helpers/pulumi-mocks";

const urnsBefore = JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "urns-before-split.json"), "utf8")) as Record<string, string[]>;
/** `urn:pulumi:stack::project::Parent$Type::name` → `Type::name` */
const typeAndName = (urn: string) => {
  const [, , qualified, name] = urn.split("::");
  return `${qualified.split("$").pop()}::${name}`;
};

for (const stack of ["dev", "prod"]) {
  describe(`URNs of the ${stack} stack across the segment split`, function () {
    let run: LakeRun;
    before(async () => {
      run = await buildLake(stackTopology(stack), { stack });
    });

    it("finds every resource deployed before the split, by its URN or an alias, with the same type and name", () => {
      const missing: string[] = [];
      for (const old of urnsBefore[stack]) {
        const matches = run.resources.filter((r) => r.urn === old || r.aliases.includes(old));
        if (matches.length !== 1) {
          missing.push(`${old} (${matches.length} matches)`);
          continue;
        }
        assert.strictEqual(`${matches[0].type}::${matches[0].name}`, typeAndName(old), old);
      }
      assert.deepStrictEqual(missing, []);
    });

    it("aliases every resource that moved into a part component to its old parent, the segment", () => {
      const segments = new Set(run.ofType(TYPES.segment).map((s) => s.urn));
      const parts = run.resources.filter((p) => [TYPES.streamPart, TYPES.bucketPart, TYPES.wireTap].includes(p.type as never));
      const moved = run.resources.filter(
        (r) => parts.some((p) => p.urn === r.parent) && urnsBefore[stack].some((u) => typeAndName(u) === `${r.type}::${r.name}`),
      );
      // Stream 1, bucket and its 6 guards 7, wire-tap 5: 13 per segment that existed before the split.
      const segmentsBefore = urnsBefore[stack].filter((u) => u.split("::")[2].endsWith("$datalake:lake:Segment")).length;
      assert.ok(segmentsBefore >= 3 && moved.length === 13 * segmentsBefore, `${moved.length} moved resources for ${segmentsBefore} segments`);
      for (const r of moved) {
        const part = parts.find((p) => p.urn === r.parent)!;
        assert.ok(part.parent && segments.has(part.parent), `${part.name} is not in a segment`);
        // Some types carry aliases of their own from the provider (aws.s3.Bucket: the old BucketV2 type).
        const formerUrn = r.urn.replace(`${part.type}$`, `${TYPES.segment}$`);
        assert.ok(r.aliases.includes(formerUrn), `${r.name}: no alias ${formerUrn} in ${r.aliases.join(", ")}`);
      }
    });
  });
}
