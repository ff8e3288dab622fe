/**
 * Runs the Pulumi program (index.ts) for a stack under Pulumi's mocks and captures every resource it
 * declares with its inputs, its parent and mocked outputs (ARNs derived from the names), the way
 * tests/helpers/pulumi-mocks.ts does for the tests. Nothing reaches the cloud or the Pulumi engine.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { UserError } from "../../runtime/errors";
import { stackFile } from "../../runtime/topology";
import type { CapturedResource } from "./evaluate";
import { MockCloud, mockInvokeResult, mockResourceState, ProviderRegions } from "./mock-provider";

export const MOCK_ACCOUNT_ID = "123456789012";
const PROJECT = "datalake";

/* eslint-disable @typescript-eslint/no-explicit-any */
type Props = Record<string, any>;

const AWS_PARTITION = { partition: "aws", dnsSuffix: "amazonaws.com" };


/** The config of `Pulumi.<stack>.yaml` in `dir`, as Pulumi passes it to the program (objects as JSON). */
export function readStackConfig(dir: string, stack: string): Record<string, string> {
  const file = stackFile(stack, dir);
  let parsed: { config?: Record<string, unknown> };
  try {
    parsed = (parseYaml(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  } catch (err) {
    throw new UserError(`${file} is not valid YAML (${(err as Error).message.split("\n")[0]})`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed.config ?? {})) {
    out[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return out;
}

/**
 * Runs `program` (a module path, default the project's index.ts) for `stack` under mocks and returns
 * every resource it declared. Must run once per process: Pulumi's runtime state is global.
 */
export async function captureStack(opts: { dir: string; stack: string; program?: string }): Promise<CapturedResource[]> {
  const config = readStackConfig(opts.dir, opts.stack);
  const region = config["aws:region"] ?? "us-east-1";
  const cloud: MockCloud = { accountId: MOCK_ACCOUNT_ID, region, partition: AWS_PARTITION };
  const captured = new Map<string, CapturedResource>();
  const pending: { type: string; name: string; inputs: Props; outputs: Props }[] = [];
  const providerRegions = new ProviderRegions();
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = args.inputs as Props;
        const custom = args.custom ?? true;
        const { id, state } = custom ? mockResourceState(args.type, args.name, inputs, providerRegions.cloudFor(args.provider, cloud)) : { id: "", state: inputs };
        if (custom) providerRegions.record(args.type, id, inputs);
        pending.push({ type: args.type, name: args.name, inputs, outputs: { ...state, id } });
        return { id, state };
      },
      call(args) {
        return mockInvokeResult(args.token, cloud, "policy-check") ?? {};
      },
    },
    PROJECT,
    opts.stack,
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: (err: unknown, resp: any) => void) =>
    register(req, (err: unknown, resp: { getUrn(): string } | undefined) => {
      if (!err && resp) {
        const type: string = req.getType();
        const name: string = req.getName();
        const parent: string = req.getParent();
        const found = pending.find((p) => p.type === type && p.name === name);
        captured.set(resp.getUrn(), {
          type,
          name,
          urn: resp.getUrn(),
          parent: parent === "" ? undefined : parent,
          inputs: found?.inputs ?? {},
          outputs: found?.outputs ?? {},
        });
      }
      callback(err, resp);
    });

  const program = opts.program ?? path.join(opts.dir, "index.ts");
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(program);
  } catch (err) {
    if (err instanceof pulumi.RunError) throw new UserError(err.message);
    throw err;
  }
  await settle(() => captured.size);
  // Inputs resolve after registration: attach them now that everything settled.
  for (const r of captured.values()) {
    const found = pending.find((p) => p.type === r.type && p.name === r.name);
    if (found) Object.assign(r, { inputs: found.inputs, outputs: found.outputs });
  }
  return [...captured.values()];
}

/** Waits until no new resource appears between event-loop turns (bounded). */
async function settle(count: () => number): Promise<void> {
  const waitForRPCs = (pulumi.runtime as any).waitForRPCs as (() => Promise<void>) | undefined;
  let last = -1;
  for (let i = 0; i < 200; i++) {
    if (waitForRPCs) await waitForRPCs();
    await new Promise((r) => setImmediate(r));
    if (count() === last) return;
    last = count();
  }
  throw new Error("policy-check: the program kept declaring resources; gave up after 200 rounds");
}
