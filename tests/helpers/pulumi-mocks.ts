/**
 * Pulumi unit-test mocks shared by every infra test: one mock run per lake build, recording every
 * resource the program registers (type, name, inputs, mocked state, URN, parent URN, dependencies).
 *
 *   const run = await buildLake(devTopology());
 *   run.get(TYPES.stream, "ingest-persons-stream").inputs.shardCount
 *
 * Each `startMockRun` calls `pulumi.runtime.setMocks` afresh, so builds in one mocha process (all test
 * files share it) never see each other's resources. Component modules are `require`d lazily, after the
 * mocks are in place.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import type { Catalog } from "../../model/catalog";
import type { LakeConfig } from "../../model/config";
import type { DataLake } from "../../components/lake";
import { MockCloud, mockInvokeResult, mockResourceState, ProviderRegions } from "../../apps/policy-check/mock-provider";

export const ACCOUNT_ID = "123456789012";
export const REGION = "eu-west-1";
export const PROJECT = "datalake";

/** Type tokens of the resources the lake creates. */
export const TYPES = {
  lake: "datalake:lake:Lake",
  layer: "datalake:lake:Layer",
  segment: "datalake:lake:Segment",
  streamPart: "datalake:lake:Stream",
  bucketPart: "datalake:lake:Bucket",
  wireTap: "datalake:lake:WireTap",
  consumerPart: "datalake:lake:Consumer",
  route: "datalake:lake:Route",
  stream: "aws:kinesis/stream:Stream",
  firehose: "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
  bucket: "aws:s3/bucket:Bucket",
  publicAccessBlock: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  ownership: "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  versioning: "aws:s3/bucketVersioning:BucketVersioning",
  lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  logStream: "aws:cloudwatch/logStream:LogStream",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  policy: "aws:iam/policy:Policy",
  key: "aws:kms/key:Key",
  alias: "aws:kms/alias:Alias",
  function: "aws:lambda/function:Function",
  eventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
  queue: "aws:sqs/queue:Queue",
  streamConsumer: "aws:kinesis/streamConsumer:StreamConsumer",
  streamResourcePolicy: "aws:kinesis/resourcePolicy:ResourcePolicy",
} as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Props = Record<string, any>;

export interface RecordedResource {
  type: string;
  /** Pulumi logical name. */
  name: string;
  /** A custom (cloud) resource, as opposed to a component. */
  custom: boolean;
  /** The inputs the program gave, with Outputs resolved. */
  inputs: Props;
  /** What the mock returned as the resource's state (inputs plus arn, id-like fields). */
  state: Props;
  id: string | undefined;
  urn: string;
  /** URN of the parent resource; undefined for resources at the stack root. */
  parent: string | undefined;
  /** URNs of the resources it depends on (`dependsOn` plus the resources its inputs come from). */
  dependencies: string[];
  /** URNs its `aliases` option stands for (computed as the mock monitor computes URNs). */
  aliases: string[];
  /** The `retainOnDelete` resource option. */
  retainOnDelete: boolean;
  /** The `protect` resource option. */
  protect: boolean;
  /** The explicit provider's reference (`<provider URN>::<id>`); undefined for the default provider. */
  provider: string | undefined;
}

/** The partition `getPartition` answers in the current run (`startMockRun({ partition })`). */
let partition: { partition: string; dnsSuffix: string } = { partition: "aws", dnsSuffix: "amazonaws.com" };
/** Partitions a test may ask for, as `aws.getPartition` describes them. */
export const PARTITIONS = {
  aws: { partition: "aws", dnsSuffix: "amazonaws.com" },
  "aws-cn": { partition: "aws-cn", dnsSuffix: "amazonaws.com.cn" },
  "aws-us-gov": { partition: "aws-us-gov", dnsSuffix: "amazonaws.com" },
} as const;

const cloud = (): MockCloud => ({ accountId: ACCOUNT_ID, region: REGION, partition });

/** The regions of the current run's explicit AWS providers (the backup region's). */
let providerRegions = new ProviderRegions();

/** A realistic id and state for a resource, by type (the fake provider policy-check uses too), in its provider's region. */
const mockState = (type: string, name: string, inputs: Props, provider: string | undefined) => {
  const result = mockResourceState(type, name, inputs, providerRegions.cloudFor(provider, cloud()));
  providerRegions.record(type, result.id, inputs);
  return result;
};

/** Results of the data-source invokes the lake makes; any other invoke fails the test. */
function mockCall(token: string): Props {
  const result = mockInvokeResult(token, cloud(), "test");
  if (!result) throw new Error(`pulumi-mocks: unexpected invoke ${token}; add it to mockInvokeResult`);
  return result;
}

/** The resources one program run registered, with lookups for tests. */
export class MockRun {
  readonly resources: RecordedResource[] = [];
  private readonly byKey = new Map<string, RecordedResource>();

  /** @internal called by the mocks */
  recordNew(type: string, name: string, custom: boolean, inputs: Props, id: string | undefined, state: Props, provider?: string): void {
    const key = `${type}::${name}`;
    if (this.byKey.has(key)) throw new Error(`pulumi-mocks: two resources of type ${type} are named ${name}`);
    const r: RecordedResource = {
      ...{ type, name, custom, inputs, state, id, urn: "", parent: undefined, dependencies: [] },
      ...{ aliases: [], retainOnDelete: false, protect: false, provider },
    };
    this.byKey.set(key, r);
    this.resources.push(r);
  }

  /** @internal called by the monitor wrapper once the URN is known */
  recordRegistration(
    type: string,
    name: string,
    urn: string,
    parent: string | undefined,
    dependencies: string[],
    options: { aliases?: string[]; retainOnDelete?: boolean; protect?: boolean } = {},
  ): void {
    const r = this.byKey.get(`${type}::${name}`);
    if (r) Object.assign(r, { urn, parent, dependencies, ...options });
  }

  /** Every resource of a type. */
  ofType(type: string): RecordedResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The resource of that type and logical name; throws when there is none. */
  get(type: string, name: string): RecordedResource {
    const r = this.byKey.get(`${type}::${name}`);
    if (!r) {
      const names = this.ofType(type).map((x) => x.name);
      throw new Error(`no ${type} named ${name}; there are: ${names.join(", ") || "none"}`);
    }
    return r;
  }

  /** Direct children of a resource. */
  childrenOf(parent: RecordedResource): RecordedResource[] {
    return this.resources.filter((r) => r.parent === parent.urn);
  }

  /** Every descendant of a resource (children, their children, ...). */
  descendantsOf(root: RecordedResource): RecordedResource[] {
    const out: RecordedResource[] = [];
    const walk = (r: RecordedResource) =>
      this.childrenOf(r).forEach((c) => {
        out.push(c);
        walk(c);
      });
    walk(root);
    return out;
  }

  /** The resource of `type` among the descendants of `root`; throws unless there is exactly one. */
  only(root: RecordedResource, type: string): RecordedResource {
    const found = this.descendantsOf(root).filter((r) => r.type === type);
    if (found.length !== 1) throw new Error(`expected one ${type} under ${root.name}, found ${found.length}`);
    return found[0];
  }
}

let current: MockRun | undefined;

/**
 * Installs fresh mocks and returns the run that records what the program registers next.
 * The project is "datalake" and the stack "test" unless given.
 */
export async function startMockRun(
  opts: { project?: string; stack?: string; partition?: keyof typeof PARTITIONS } = {},
): Promise<MockRun> {
  const run = new MockRun();
  current = run;
  partition = PARTITIONS[opts.partition ?? "aws"];
  providerRegions = new ProviderRegions();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Props;
        const custom = args.custom ?? true;
        const { id, state } = custom ? mockState(args.type, args.name, inputs, args.provider) : { id: undefined, state: {} };
        // Default providers are passed too (`…::pulumi:providers:aws::default_…`): only explicit ones count.
        const explicit = args.provider && !/::default(_[\w-]+)?::/.test(args.provider) ? args.provider : undefined;
        run.recordNew(args.type, args.name, custom, inputs, id, state, explicit);
        return { id: id ?? "", state };
      },
      call(args) {
        return mockCall(args.token);
      },
    },
    opts.project ?? PROJECT,
    opts.stack ?? "test",
    false,
  );
  // The mocks' newResource does not see the parent; the monitor's request does. Record it from there.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) =>
    register(req, (err: unknown, resp: { getUrn(): string } | undefined) => {
      if (!err && resp) {
        const parent: string = req.getParent(); // "" at the stack root
        const options = {
          aliases: aliasUrns(req, opts.project ?? PROJECT, opts.stack ?? "test"),
          retainOnDelete: req.getRetainondelete() === true,
          protect: req.getProtect() === true,
        };
        run.recordRegistration(req.getType(), req.getName(), resp.getUrn(), parent === "" ? undefined : parent, req.getDependenciesList(), options);
      }
      callback(err, resp);
    });
  return run;
}

/**
 * The URNs a registration's aliases stand for, computed as the mock monitor computes URNs (the parent's
 * own type, then `$`, then the type). A spec that leaves name, type or parent out keeps the resource's own.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function aliasUrns(req: any, project: string, stack: string): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return (req.getAliasesList() as any[]).map((alias) => {
    if (alias.hasUrn()) return alias.getUrn() as string;
    const spec = alias.getSpec();
    const type: string = spec.getType() || req.getType();
    const name: string = spec.getName() || req.getName();
    const parentUrn: string = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
    const qualified = parentUrn ? `${parentUrn.split("::")[2].split("$").pop()}$${type}` : type;
    return `urn:pulumi:${spec.getStack() || stack}::${spec.getProject() || project}::${qualified}::${name}`;
  });
}

/** Waits until every registration and output of the current run has settled. */
export async function settle(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const waitForRPCs = (pulumi.runtime as any).waitForRPCs as (() => Promise<void>) | undefined;
  let last = -1;
  // Pulumi's own "all RPCs done" when available, then until no new resource appears between turns.
  for (let i = 0; i < 100; i++) {
    if (waitForRPCs) await waitForRPCs();
    await new Promise((r) => setImmediate(r));
    const count = current?.resources.length ?? 0;
    if (count === last) return;
    last = count;
  }
}

/** The value inside an Output (mocks are never in preview, so every value is known). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => resolve(v)));
}

export interface LakeRun extends MockRun {
  config: LakeConfig;
  lake: DataLake;
  catalog: Catalog;
  lakeName: string;
}

/**
 * Parses a raw `datalake:lake` value as `index.ts` does, builds the lake under fresh mocks and waits
 * until every resource is registered and the catalog is resolved.
 */
export async function buildLake(
  raw: unknown,
  opts: { project?: string; stack?: string; partition?: keyof typeof PARTITIONS } = {},
): Promise<LakeRun> {
  const project = opts.project ?? PROJECT;
  const stack = opts.stack ?? "test";
  const run = await startMockRun({ project, stack, partition: opts.partition });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadLakeConfig } = require("../../components/stack-config") as typeof import("../../components/stack-config");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DataLake: Lake } = require("../../components/lake") as typeof import("../../components/lake");
  const config = loadLakeConfig(raw, { project, stack, region: REGION });
  const lake = new Lake(config.name, config);
  const catalog = await valueOf(lake.catalog);
  const lakeName = await valueOf(lake.lakeName);
  await settle();
  return Object.assign(run, { config, lake, catalog, lakeName });
}

/** The raw `datalake:lake` value of a stack file at the repository root (`Pulumi.<stack>.yaml`). */
export function stackTopology(stack: string): unknown {
  const file = path.join(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
  const parsed = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> };
  return parsed.config?.["datalake:lake"];
}

/** A deep copy of a raw topology, for tests that change it. */
export function clone<T>(raw: T): T {
  return JSON.parse(JSON.stringify(raw)) as T;
}

/** Parses a policy document a resource carries as a JSON string. */
export function policyOf(r: RecordedResource, field = "policy"): Props {
  const value = r.inputs[field];
  if (typeof value !== "string") throw new Error(`${r.type} ${r.name} has no ${field} string`);
  return JSON.parse(value) as Props;
}
