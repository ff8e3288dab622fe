/**
 * Evaluates the CloudWatch Logs statements of a KMS key policy the way KMS does for one log group, and
 * the statements for other accounts' principals, so
 * tests check what a policy allows rather than how it is written.
 */

/** IAM's ArnLike: `*` matches any run of characters, `?` one character. */
export const arnLike = (pattern: string, value: string): boolean =>
  new RegExp(`^${pattern.split("").map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&"))).join("")}$`).test(value);

type KeyPolicy = { Statement: { Principal?: { Service?: string }; Condition?: Record<string, Record<string, string | string[]>> }[] };

/** Whether a key policy lets CloudWatch Logs use the key for a log group (ArnLike/ArnNotLike/ArnEquals). */
export function logsMayUseKey(doc: KeyPolicy, logGroupArn: string): boolean {
  const key = "kms:EncryptionContext:aws:logs:arn";
  const values = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
  return doc.Statement.some((s) => {
    if (!s.Principal?.Service?.startsWith("logs.")) return false;
    const like = values(s.Condition?.ArnLike?.[key]);
    const notLike = values(s.Condition?.ArnNotLike?.[key]);
    const equals = values(s.Condition?.ArnEquals?.[key]);
    if (like && !like.some((p) => arnLike(p, logGroupArn))) return false;
    if (notLike && notLike.some((p) => arnLike(p, logGroupArn))) return false;
    if (equals && !equals.includes(logGroupArn)) return false;
    return Boolean(like || equals);
  });
}

type Statement = {
  Effect: string;
  Principal?: { AWS?: string | string[] } | string;
  Action?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
};
const asList = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** `arn:aws:iam::444455556666:root` for any IAM ARN of that account. */
const accountOf = (arn: string): string => arn.replace(/^(arn:[^:]+:iam::\d{12}):.*$/, "$1:root");

/** IAM's condition operators used in this lake's policies; a key missing from the request never matches. */
const OPERATORS: Record<string, (pattern: string, value: string) => boolean> = {
  StringEquals: (p, v) => p === v,
  StringLike: arnLike,
  ArnEquals: (p, v) => p === v,
  ArnLike: arnLike,
};

/**
 * Whether an Allow statement of a resource or key policy lets the IAM principal `caller` (a role ARN) do
 * `action` in a request whose context holds `context` (plus `aws:PrincipalArn` = `caller`), as IAM
 * evaluates the Principal element (an account principal stands for every principal of that account) and
 * the operators above. Only the resource side: the caller's own identity policy is not looked at.
 */
export function principalMayDo(doc: { Statement: Statement[] }, caller: string, action: string, context: Record<string, string> = {}): boolean {
  const request: Record<string, string> = { ...context, "aws:PrincipalArn": caller };
  return doc.Statement.some((s) => {
    if (s.Effect !== "Allow" || typeof s.Principal !== "object") return false;
    const principals = asList(s.Principal.AWS);
    if (!principals.includes(caller) && !principals.includes(accountOf(caller))) return false;
    if (!asList(s.Action).includes(action)) return false;
    return Object.entries(s.Condition ?? {}).every(([operator, keys]) => {
      const test = OPERATORS[operator];
      if (!test) throw new Error(`principalMayDo: no evaluator for ${operator}`);
      return Object.entries(keys).every(([key, patterns]) => key in request && asList(patterns).some((p) => test(p, request[key])));
    });
  });
}
