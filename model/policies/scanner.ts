/** Scanner: the least-privilege rules at the top of model/policies.ts, checked over any document. */
import { POLICY_VERSION, type PolicyDocument, type PolicyStatement, type Principal } from "./document";

export interface PolicyViolation {
  /** Index of the statement in `Statement`, or -1 for the document itself. */
  statement: number;
  sid: string | undefined;
  rule:
    | "version"
    | "no-statements"
    | "wildcard-action"
    | "wildcard-resource"
    | "wildcard-arn"
    | "not-action-or-resource"
    | "public-principal"
    | "key-admin-not-root";
  message: string;
}

export interface ScanOptions {
  /** A KMS key policy: `Resource: "*"` means the key itself, and `kms:*` is allowed for the account root. @default false */
  isKeyPolicy?: boolean;
}

const list = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

const ROOT_ARN = /^arn:[a-z-]+:iam::\d{12}:root$/;

function principalValues(p: Principal | undefined): string[] {
  if (p === undefined) return [];
  if (p === "*") return ["*"];
  return [...list(p.AWS), ...list(p.Service), ...list(p.Federated)];
}

/** `arn:aws:kinesis:*:123...:stream/x` hides a wildcard in the partition, service, region or account. */
function wildcardInArnHead(resource: string): boolean {
  if (!resource.startsWith("arn:")) return false;
  return resource.split(":").slice(1, 5).some((part) => part.includes("*"));
}

/**
 * Every way a policy document breaks the rules at the top of model/policies.ts; empty when it follows them.
 * Accepts the document as an object or as the JSON string a resource carries.
 */
export function findPolicyViolations(input: PolicyDocument | string, options: ScanOptions = {}): PolicyViolation[] {
  const isKeyPolicy = options.isKeyPolicy ?? false;
  const document = (typeof input === "string" ? JSON.parse(input) : input) as PolicyDocument;
  const out: PolicyViolation[] = [];
  if (document.Version !== POLICY_VERSION) {
    out.push({ statement: -1, sid: undefined, rule: "version", message: `Version must be "${POLICY_VERSION}"` });
  }
  const statements: PolicyStatement[] = Array.isArray(document.Statement)
    ? document.Statement
    : document.Statement
      ? [document.Statement as PolicyStatement]
      : [];
  if (statements.length === 0) {
    out.push({ statement: -1, sid: undefined, rule: "no-statements", message: "the document has no statements" });
  }
  statements.forEach((s, i) => {
    const add = (rule: PolicyViolation["rule"], message: string) => out.push({ statement: i, sid: s.Sid, rule, message });
    if (s.Effect !== "Allow") return; // a Deny can only narrow access
    const principals = principalValues(s.Principal);
    const rootOnly = principals.length > 0 && principals.every((p) => ROOT_ARN.test(p));
    if (s.NotAction !== undefined || s.NotResource !== undefined || s.NotPrincipal !== undefined) {
      add("not-action-or-resource", "Allow with NotAction, NotResource or NotPrincipal grants more than it names");
    }
    if (principals.includes("*")) add("public-principal", "Allow to the public principal \"*\"");
    for (const action of list(s.Action)) {
      if (!action.includes("*")) continue;
      if (isKeyPolicy && action.toLowerCase() === "kms:*") {
        if (!rootOnly) add("key-admin-not-root", `"${action}" may only be granted to the account root in a key policy`);
        continue;
      }
      add("wildcard-action", `Allow with wildcard action "${action}"`);
    }
    for (const resource of list(s.Resource)) {
      if (resource === "*") {
        if (!isKeyPolicy) add("wildcard-resource", 'Allow on Resource "*"');
      } else if (wildcardInArnHead(resource)) {
        add("wildcard-arn", `Allow on "${resource}", which has a wildcard in its partition, service, region or account`);
      }
    }
  });
  return out;
}
