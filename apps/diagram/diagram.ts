/**
 * A Mermaid flowchart of a lake's topology: layers as subgraphs, segments as nodes (with capacity),
 * enhanced fan-out consumers, and one edge per processor (route) labelled with its filter, transform or
 * aggregate. Pure: the same config always gives the same text (README embeds the dev stack's).
 */
import { LakeConfig, RouteConfig, SegmentConfig } from "../../model/config";

const id = (text: string) => text.replace(/[^A-Za-z0-9]/g, "_");
/** Mermaid label text: quotes become an entity so they cannot end the label. */
const label = (text: string) => text.replace(/"/g, "#quot;");

function describeMatcher(field: string, matcher: unknown): string {
  if (matcher !== null && typeof matcher === "object" && !Array.isArray(matcher)) {
    const [op, arg] = Object.entries(matcher as Record<string, unknown>)[0] ?? [];
    if (op === "numeric" && Array.isArray(arg)) {
      const parts: string[] = [];
      for (let i = 0; i + 1 < arg.length; i += 2) parts.push(`${field} ${String(arg[i])} ${String(arg[i + 1])}`);
      return parts.join(" and ");
    }
    if (op === "exists") return arg ? `${field} exists` : `no ${field}`;
    return `${field} ${op} ${JSON.stringify(arg)}`;
  }
  return `${field} = ${JSON.stringify(matcher)}`;
}

/** A filter pattern in words: `age >= 18`, `kind = "a" or kind = "b"`, nested fields dotted. */
export function describeFilter(pattern: Record<string, unknown>, prefix = ""): string {
  return Object.entries(pattern)
    .map(([key, value]) => {
      const field = `${prefix}${key}`;
      if (Array.isArray(value)) {
        const parts = value.map((m) => describeMatcher(field, m));
        return parts.length === 1 ? parts[0] : `(${parts.join(" or ")})`;
      }
      return describeFilter(value as Record<string, unknown>, `${field}.`);
    })
    .join(" and ");
}

/** What a processor does, for its edge: filter, then transform or aggregate. */
export function describeRoute(route: RouteConfig): string {
  const parts: string[] = [];
  if (route.filter) parts.push(`filter: ${describeFilter(route.filter)}`);
  if (route.transform) {
    const t = route.transform;
    const steps: string[] = [];
    if (t.select) steps.push(`select ${t.select.join(", ")}`);
    if (t.rename) steps.push(`rename ${Object.entries(t.rename).map(([a, b]) => `${a}→${b}`).join(", ")}`);
    if (t.set) steps.push(`set ${Object.keys(t.set).join(", ")}`);
    parts.push(`transform: ${steps.join("; ")}`);
  }
  if (route.aggregate) {
    const a = route.aggregate;
    const totals = [
      ...(a.count ? ["count"] : []),
      ...a.sum.map((f) => `sum ${f}`),
      ...a.min.map((f) => `min ${f}`),
      ...a.max.map((f) => `max ${f}`),
    ];
    const by = a.groupBy.length > 0 ? ` by ${a.groupBy.join(", ")}` : "";
    parts.push(`aggregate ${a.windowSeconds} s${by}: ${totals.join(", ")}`);
  }
  return parts.length > 0 ? parts.join("<br/>") : "every record";
}

function segmentNode(s: SegmentConfig): string {
  const capacity = s.mode === "on-demand" ? "on-demand" : `${s.shards} shard${s.shards === 1 ? "" : "s"}`;
  return `${id(s.address)}[("${label(`${s.address}<br/>${capacity}`)}")]`;
}

/** The Mermaid text (no code fence), ending in a newline. */
export function renderDiagram(config: LakeConfig): string {
  const lines = ["flowchart LR"];
  for (const layer of config.layers) {
    lines.push(`  subgraph ${id(`layer ${layer.name}`)}["layer ${label(layer.name)}"]`);
    for (const s of layer.segments) lines.push(`    ${segmentNode(s)}`);
    lines.push("  end");
  }
  for (const route of config.routes) {
    lines.push(`  ${id(route.from)} -- "${label(`${route.name}<br/>${describeRoute(route)}`)}" --> ${id(route.to)}`);
  }
  for (const s of config.segments) {
    for (const consumer of s.consumers ?? []) {
      const node = id(`consumer ${s.address} ${consumer}`);
      lines.push(`  ${id(s.address)} -. "enhanced fan-out" .-> ${node}(["${label(`consumer ${consumer}`)}"])`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** The diagram between `<!-- diagram:<stack> -->` and `<!-- /diagram:<stack> -->` in a README, without its fence. */
export function embeddedDiagram(readme: string, stack: string): string | undefined {
  const m = new RegExp(`<!-- diagram:${stack} -->\\n\`\`\`mermaid\\n([\\s\\S]*?)\`\`\`\\n<!-- /diagram:${stack} -->`).exec(readme);
  return m?.[1];
}
