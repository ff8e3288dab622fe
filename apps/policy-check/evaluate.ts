/**
 * Runs every rule of the policy pack (policy/rules.ts) on captured resources, calling each rule's
 * `validateResource` / `validateStack` with the argument objects @pulumi/policy would pass, reduced to
 * what the rules read. Pure: no engine, no cloud.
 */
import type { Policies, PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface CapturedResource {
  type: string;
  name: string;
  urn: string;
  /** URN of the parent resource; undefined at the stack root. */
  parent: string | undefined;
  /** What the program passed (what `validateResource` sees as props). */
  inputs: Record<string, any>;
  /** Inputs plus what the provider returned (ARNs, ids): what `validateStack` sees as props. */
  outputs: Record<string, any>;
}

export interface Violation {
  rule: string;
  /** Logical name and type of the resource in violation; undefined for the stack as a whole. */
  resource: { name: string; type: string; urn: string } | undefined;
  message: string;
}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};
class NotApplicable extends Error {}

const unsupported = (what: string) => () => {
  throw new Error(`policy-check: the rules may not use ${what} (only plain props)`);
};

export async function evaluatePolicies(policies: Policies, resources: CapturedResource[]): Promise<Violation[]> {
  const violations: Violation[] = [];
  const byUrn = new Map(resources.map((r) => [r.urn, r]));
  const opts = { protect: false, ignoreChanges: [], aliases: [], customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 }, additionalSecretOutputs: [] };
  const stackTags = new Map<string, string>();

  // Stack resources with parents linked, as the engine gives them to validateStack.
  const stackResources = new Map<string, PolicyResource>();
  for (const r of resources) {
    stackResources.set(r.urn, {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props: r.outputs,
      opts,
      dependencies: [],
      propertyDependencies: {},
      isType: unsupported("isType"),
      asType: unsupported("asType"),
    } as unknown as PolicyResource);
  }
  for (const r of resources) {
    const parent = r.parent ? stackResources.get(r.parent) : undefined;
    if (parent) (stackResources.get(r.urn) as { parent?: PolicyResource }).parent = parent;
  }

  for (const policy of policies) {
    const rule = policy.name;
    if ("validateResource" in policy && policy.validateResource) {
      const validators = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource];
      for (const r of resources) {
        const args: ResourceValidationArgs = {
          type: r.type,
          name: r.name,
          urn: r.urn,
          props: r.inputs,
          opts,
          stackTags,
          isType: unsupported("isType"),
          asType: unsupported("asType"),
          getConfig: <T extends object>() => ({}) as T,
          notApplicable,
        } as unknown as ResourceValidationArgs;
        for (const validate of validators) {
          try {
            await validate(args, (message) => violations.push({ rule, resource: { name: r.name, type: r.type, urn: r.urn }, message }));
          } catch (err) {
            if (!(err instanceof NotApplicable)) throw err;
          }
        }
      }
    }
    if ("validateStack" in policy && policy.validateStack) {
      const args: StackValidationArgs = {
        resources: [...stackResources.values()],
        stackTags,
        getConfig: <T extends object>() => ({}) as T,
        notApplicable,
      } as unknown as StackValidationArgs;
      try {
        await policy.validateStack(args, (message, urn) => {
          const r = urn ? byUrn.get(urn) : undefined;
          violations.push({ rule, resource: r ? { name: r.name, type: r.type, urn: r.urn } : undefined, message });
        });
      } catch (err) {
        if (!(err instanceof NotApplicable)) throw err;
      }
    }
  }
  return violations;
}

/** One line per violation: `[rule] type name: message`. */
export function formatViolation(v: Violation): string {
  const where = v.resource ? `${v.resource.type} ${v.resource.name}` : "stack";
  return `[${v.rule}] ${where}: ${v.message}`;
}
