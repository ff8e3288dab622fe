/** Config problems: where they are, how they read, and the helpers that phrase them (key suggestions, name checks). */
import { NAME_PATTERN, NAME_RULE, NameCheck } from "../naming";
import { CONFIG_KEY } from "./defaults";

/** One thing wrong with the config: where, what was given, and what is allowed. */
export interface ConfigProblem {
  path: string;
  value: unknown;
  message: string;
}

/** Thrown when the topology is invalid; the message lists every problem, one per line. */
export class LakeConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(formatProblems(problems));
    this.name = "LakeConfigError";
  }
}

/** Where a problem is: `datalake:lake.layers.ingest.segments.orders.shards`, `datalake:lake.routes[0].to`. */
export function configPath(path: ReadonlyArray<PropertyKey>): string {
  let out = CONFIG_KEY;
  for (const part of path) out += typeof part === "number" ? `[${part}]` : `.${String(part)}`;
  return out;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  // Room for a whole over-long physical name or a loop of several addresses; cut only what is unreadable anyway.
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export function formatProblems(problems: ConfigProblem[]): string {
  const head =
    problems.length === 1
      ? `Invalid ${CONFIG_KEY} config: 1 problem.`
      : `Invalid ${CONFIG_KEY} config: ${problems.length} problems.`;
  const lines = problems.map((p) => `  - ${p.path}: ${p.message} (got ${show(p.value)})`);
  return [head, ...lines, `Fix these in Pulumi.<stack>.yaml (or with \`pulumi config set --path\`) and run again.`].join("\n");
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length];
}

/** The allowed key the user most likely meant: the closest within 2 edits, else the only one it abbreviates. */
export function suggestKey(allowed: string[], key: string): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const k of allowed) {
    const d = editDistance(k.toLowerCase(), lower);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  if (best) return best;
  const prefixed = lower.length >= 4 ? allowed.filter((k) => k.toLowerCase().startsWith(lower)) : [];
  return prefixed.length === 1 ? prefixed[0] : undefined;
}

export function nameProblem(path: PropertyKey[], kind: string, name: string): ConfigProblem | undefined {
  return NAME_PATTERN.test(name)
    ? undefined
    : { path: configPath(path), value: name, message: `${kind} name must use ${NAME_RULE}` };
}

export function lengthProblems(path: PropertyKey[], checks: NameCheck[]): ConfigProblem[] {
  return checks
    .filter((c) => c.name.length > c.limit)
    .map((c) => ({
      path: configPath(path),
      value: c.name,
      message: `${c.what} would be ${c.name.length} characters, over AWS's limit of ${c.limit}; shorten the lake, layer or segment name by ${c.name.length - c.limit}`,
    }));
}
