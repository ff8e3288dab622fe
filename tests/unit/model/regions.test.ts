/** The backup region's check knows the regions the AWS provider knows, each in its partition. */
import assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import { AWS_REGIONS, partitionOfRegion } from "../../../model/regions";

describe("model/regions", () => {
  it("lists exactly the AWS provider's regions", () => {
    assert.deepEqual([...AWS_REGIONS].sort(), Object.values(aws.Region).map(String).sort());
  });

  it("puts China and GovCloud regions in their own partitions", () => {
    assert.equal(partitionOfRegion("eu-central-1"), "aws");
    assert.equal(partitionOfRegion("cn-northwest-1"), "aws-cn");
    assert.equal(partitionOfRegion("us-gov-west-1"), "aws-us-gov");
    assert.equal(partitionOfRegion("mars-north-1"), undefined);
  });
});
