/**
 * EventBridge content filtering, the language of route filters: deployed routes hand the pattern to
 * EventBridge Pipes; the local lake matches records with `matchesPattern` so `npm run demo` routes the
 * same records. Supported matchers: exact values (string, number, boolean, null), `prefix`, `suffix`,
 * `equals-ignore-case`, `wildcard`, `anything-but` (value, list, or `{prefix}`/`{suffix}`), `numeric`
 * and `exists`. Documentation: "Content filtering in Amazon EventBridge event patterns".
 */

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const NUMERIC_OPS = ["<", "<=", "=", ">", ">="] as const;
const MATCHER_KEYS = ["prefix", "suffix", "equals-ignore-case", "wildcard", "anything-but", "numeric", "exists"];

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Problems with a pattern's matchers, as [path below the pattern, message]; empty when valid. */
export function patternMatcherProblems(pattern: unknown, path: string[] = []): Array<[string[], string]> {
  if (!isObject(pattern)) return [[path, "must be an object of field names"]];
  const problems: Array<[string[], string]> = [];
  for (const [key, value] of Object.entries(pattern)) {
    const here = [...path, key];
    if (isObject(value)) {
      problems.push(...patternMatcherProblems(value, here));
    } else if (Array.isArray(value)) {
      value.forEach((matcher) => {
        if (!isObject(matcher)) return; // exact values are always valid
        const keys = Object.keys(matcher);
        const op = keys[0];
        if (keys.length !== 1 || !MATCHER_KEYS.includes(op)) {
          problems.push([here, `unknown matcher ${JSON.stringify(matcher)}; use one of ${MATCHER_KEYS.join(", ")}`]);
        } else if (op === "numeric" && !validNumeric(matcher.numeric)) {
          problems.push([here, `numeric matcher needs [op, number] or [op, number, op, number] with op one of ${NUMERIC_OPS.join(" ")}`]);
        } else if (op === "exists" && typeof matcher.exists !== "boolean") {
          problems.push([here, "exists matcher takes true or false"]);
        }
      });
    } else {
      problems.push([here, "each field must map to a list of values or matchers, or to a nested object"]);
    }
  }
  return problems;
}

function validNumeric(spec: unknown): boolean {
  if (!Array.isArray(spec) || (spec.length !== 2 && spec.length !== 4)) return false;
  for (let i = 0; i < spec.length; i += 2) {
    if (!NUMERIC_OPS.includes(spec[i]) || typeof spec[i + 1] !== "number") return false;
  }
  return true;
}

function compare(op: string, a: number, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case "=":
      return a === b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    default:
      return false;
  }
}

function wildcardMatch(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return regex.test(value);
}

/** Does one present (non-array) value satisfy one matcher? */
function matchValue(matcher: unknown, value: Json): boolean {
  if (!isObject(matcher)) {
    if (typeof matcher === "number" && typeof value === "number") return matcher === value;
    return matcher === value;
  }
  const [op, arg] = Object.entries(matcher)[0] ?? [];
  switch (op) {
    case "prefix":
      return typeof value === "string" && typeof arg === "string" && value.startsWith(arg);
    case "suffix":
      return typeof value === "string" && typeof arg === "string" && value.endsWith(arg);
    case "equals-ignore-case":
      return typeof value === "string" && typeof arg === "string" && value.toLowerCase() === arg.toLowerCase();
    case "wildcard":
      return typeof value === "string" && typeof arg === "string" && wildcardMatch(arg, value);
    case "numeric": {
      if (typeof value !== "number" || !Array.isArray(arg)) return false;
      for (let i = 0; i < arg.length; i += 2) if (!compare(arg[i], value, arg[i + 1])) return false;
      return true;
    }
    case "anything-but": {
      if (isObject(arg)) return !matchValue(arg, value);
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.some((x) => x === value);
    }
    case "exists":
      return arg === true;
    default:
      return false;
  }
}

/** Does the field (possibly absent, possibly an array) satisfy any matcher of the list? */
function matchField(matchers: unknown[], value: Json | undefined): boolean {
  return matchers.some((matcher) => {
    if (isObject(matcher) && "exists" in matcher) return (value !== undefined) === (matcher.exists === true);
    if (value === undefined) return false;
    if (Array.isArray(value)) return value.some((v) => matchValue(matcher, v));
    return matchValue(matcher, value);
  });
}

/** True when the JSON value satisfies every field of the pattern. */
export function matchesPattern(pattern: Record<string, unknown>, event: unknown): boolean {
  const record = isObject(event) ? (event as Record<string, Json>) : {};
  return Object.entries(pattern).every(([key, spec]) => {
    const value = record[key];
    if (Array.isArray(spec)) return matchField(spec, value);
    if (isObject(spec)) return isObject(value) && matchesPattern(spec, value);
    return false;
  });
}
