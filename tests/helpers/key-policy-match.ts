/**
 * Evaluates the CloudWatch Logs statements of a KMS key policy the way KMS does for one log group, so
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
