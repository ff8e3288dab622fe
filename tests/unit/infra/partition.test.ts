/**
 * `kms:ViaService` values of the processors' roles and the archive reader policies come from the
 * partition's DNS suffix (`aws.getPartition().dnsSuffix`), like the segment parts' (safety.test.ts): in
 * China they end in `amazonaws.com.cn`, elsewhere in `amazonaws.com`.
 */
import * as assert from "assert";
import { buildLake, LakeRun, policyOf, TYPES } from "../../helpers/pulumi-mocks";

const TOPOLOGY = {
  name: "cn",
  layers: { ingest: { segments: { persons: {} } }, curated: { segments: { adults: {} } } },
  routes: [{ from: "ingest/persons", to: "curated/adults", startAt: "latest" }],
};

/** Every `kms:ViaService` value in a policy document. */
function viaServices(doc: unknown): string[] {
  return [...JSON.stringify(doc).matchAll(/"kms:ViaService":"([^"]+)"/g)].map((m) => m[1]);
}

describe("kms:ViaService from the partition in routes and archive reader policies", function () {
  this.timeout(60_000);
  const runs: Partial<Record<"aws" | "aws-cn", LakeRun>> = {};
  before(async () => {
    runs["aws-cn"] = await buildLake(TOPOLOGY, { partition: "aws-cn" });
    runs.aws = await buildLake(TOPOLOGY, { partition: "aws" });
  });

  const routePolicy = (run: LakeRun) => policyOf(run.get(TYPES.rolePolicy, "route-ingest-persons-to-curated-adults-role-policy"));
  const readerPolicies = (run: LakeRun) => run.ofType(TYPES.policy).filter((p) => p.name.endsWith("-archive-reader-policy"));

  it("the route role's kms:ViaService values end in amazonaws.com.cn under aws-cn", () => {
    const via = viaServices(routePolicy(runs["aws-cn"]!));
    // Source stream (kinesis), target stream (kinesis), dead-letter queue (sqs).
    assert.ok(via.length >= 3, `only ${via.length} kms:ViaService values`);
    for (const v of via) assert.match(v, /^(kinesis|sqs)\.eu-west-1\.amazonaws\.com\.cn$/, v);
    assert.ok(!JSON.stringify(routePolicy(runs["aws-cn"]!)).includes('"arn:aws:'), "an aws-partition ARN in an aws-cn stack");
  });

  it("each archive reader policy's kms:ViaService values end in amazonaws.com.cn under aws-cn", () => {
    const policies = readerPolicies(runs["aws-cn"]!);
    assert.strictEqual(policies.length, 2);
    for (const p of policies) {
      const via = viaServices(policyOf(p));
      assert.strictEqual(via.length, 2, p.name); // the archive's key and the query results' key
      for (const v of via) assert.strictEqual(v, "s3.eu-west-1.amazonaws.com.cn", p.name);
    }
  });

  it("keeps amazonaws.com in the aws partition", () => {
    const via = [...viaServices(routePolicy(runs.aws!)), ...readerPolicies(runs.aws!).flatMap((p) => viaServices(policyOf(p)))];
    assert.ok(via.length >= 7);
    for (const v of via) assert.match(v, /\.eu-west-1\.amazonaws\.com$/, v);
  });
});
