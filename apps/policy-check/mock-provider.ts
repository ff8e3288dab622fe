/**
 * What the AWS provider would answer, derived from names alone: the ids, ARNs and invoke results the
 * lake's program reads back. Shared by `npm run policy-check` (capture.ts) and the tests' Pulumi mocks
 * (tests/helpers/pulumi-mocks.ts), so both evaluate the program against the same fake cloud.
 */

/* eslint-disable @typescript-eslint/no-explicit-any */
type Props = Record<string, any>;

/** Where the fake resources live. */
export interface MockCloud {
  accountId: string;
  region: string;
  /** `aws.getPartition()`'s answer. */
  partition: { partition: string; dnsSuffix: string };
}

/** A realistic id and state (inputs included) for a resource, by type; physical names come from `name`/`bucket`. */
export function mockResourceState(type: string, name: string, inputs: Props, cloud: MockCloud): { id: string; state: Props } {
  const { accountId, region } = cloud;
  const p = cloud.partition.partition;
  const arn = (service: string, resource: string) => `arn:${p}:${service}:${region}:${accountId}:${resource}`;
  const physical: string = inputs.name ?? name;
  switch (type) {
    case "aws:kinesis/stream:Stream":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("kinesis", `stream/${physical}`) } };
    case "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
      return { id: arn("firehose", `deliverystream/${physical}`), state: { ...inputs, name: physical, arn: arn("firehose", `deliverystream/${physical}`) } };
    case "aws:s3/bucket:Bucket":
    case "aws:s3/bucketV2:BucketV2": {
      const bucket: string = inputs.bucket ?? name;
      return { id: bucket, state: { ...inputs, bucket, arn: `arn:${p}:s3:::${bucket}` } };
    }
    case "aws:iam/role:Role":
      return { id: physical, state: { ...inputs, name: physical, arn: `arn:${p}:iam::${accountId}:role/${physical}` } };
    case "aws:iam/policy:Policy":
      return { id: `arn:${p}:iam::${accountId}:policy/${physical}`, state: { ...inputs, arn: `arn:${p}:iam::${accountId}:policy/${physical}` } };
    case "aws:iam/rolePolicy:RolePolicy":
      return { id: `${inputs.role}:${physical}`, state: { ...inputs } };
    case "aws:kms/key:Key": {
      const keyId = `${name}-id`;
      return { id: keyId, state: { ...inputs, keyId, arn: arn("kms", `key/${keyId}`) } };
    }
    case "aws:kms/alias:Alias":
      return { id: physical, state: { ...inputs, arn: arn("kms", physical) } };
    case "aws:cloudwatch/logGroup:LogGroup":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("logs", `log-group:${physical}`) } };
    case "aws:cloudwatch/logStream:LogStream":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("logs", `log-group:${inputs.logGroupName}:log-stream:${physical}`) } };
    case "aws:lambda/function:Function":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("lambda", `function:${physical}`) } };
    case "aws:sqs/queue:Queue": {
      const url = `https://sqs.${region}.${cloud.partition.dnsSuffix}/${accountId}/${physical}`;
      return { id: url, state: { ...inputs, name: physical, arn: arn("sqs", physical), url } };
    }
    case "aws:lambda/eventSourceMapping:EventSourceMapping":
      return { id: `${name}-uuid`, state: { ...inputs, uuid: `${name}-uuid` } };
    case "aws:dynamodb/table:Table":
      return { id: physical, state: { ...inputs, name: physical, arn: arn("dynamodb", `table/${physical}`) } };
    case "aws:kinesis/streamConsumer:StreamConsumer": {
      const consumerArn = `${inputs.streamArn}/consumer/${physical}:1700000000`;
      return { id: consumerArn, state: { ...inputs, name: physical, arn: consumerArn } };
    }
    default: {
      const service = type.split(":")[1]?.split("/")[0] ?? "unknown";
      return { id: `${name}-id`, state: { ...inputs, arn: arn(service, name) } };
    }
  }
}

/**
 * The regions of the explicit AWS providers a program declares (the lake's backup region), so that a
 * resource one of them manages gets ARNs of that region, as it would on AWS.
 */
export class ProviderRegions {
  private readonly byId = new Map<string, string>();

  /** The cloud a new resource lives in: its explicit provider's region, else the stack's. */
  cloudFor(provider: string | undefined, cloud: MockCloud): MockCloud {
    // A provider reference is "<provider URN>::<provider id>".
    const region = provider ? this.byId.get(provider.slice(provider.lastIndexOf("::") + 2)) : undefined;
    return region ? { ...cloud, region } : cloud;
  }

  /** Remembers an AWS provider's region under the id the mocks gave it. */
  record(type: string, id: string, inputs: Props): void {
    if (type === "pulumi:providers:aws" && typeof inputs.region === "string") this.byId.set(id, inputs.region);
  }
}

/** Results of the data-source invokes the lake makes; undefined for any other invoke. */
export function mockInvokeResult(token: string, cloud: MockCloud, caller = "mock"): Props | undefined {
  const { accountId, region, partition } = cloud;
  switch (token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId, arn: `arn:${partition.partition}:iam::${accountId}:user/${caller}`, userId: "AIDAMOCK", id: accountId };
    case "aws:index/getRegion:getRegion":
      return { name: region, region, id: region, endpoint: `ec2.${region}.${partition.dnsSuffix}` };
    case "aws:index/getPartition:getPartition":
      return { ...partition, reverseDnsPrefix: partition.dnsSuffix.split(".").reverse().join("."), id: partition.partition };
    default:
      return undefined;
  }
}
