/** Stack rule: no policy of one layer names another layer's resources. */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { policyDocuments, type Props, str } from "./resources";

/** Component types whose descendants belong to a layer / to a processor (which may name two layers). */
const LAYER_COMPONENT = "datalake:lake:Layer";
const PROCESSOR_COMPONENT = /^datalake:lake:(Route|Processor)$/;

type Owner = { kind: "layer"; layer: string } | { kind: "processor"; name: string } | undefined;

/** The layer or processor a resource belongs to, by its ancestors (`datalake:layer` tag as a fallback). */
export function ownerOf(r: PolicyResource): Owner {
  for (let p: PolicyResource | undefined = r; p; p = p.parent) {
    if (PROCESSOR_COMPONENT.test(p.type)) return { kind: "processor", name: p.name };
    if (p.type === LAYER_COMPONENT) return { kind: "layer", layer: p.name };
  }
  const tag = r.props.tags?.["datalake:layer"];
  return str(tag) ? { kind: "layer", layer: tag } : undefined;
}

/** Every ARN a document names in a Resource or a Condition value. */
function namedArns(doc: Props): string[] {
  const statements: Props[] = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const out: string[] = [];
  const collect = (v: unknown) => {
    if (typeof v === "string" && v.startsWith("arn:")) out.push(v);
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === "object") Object.values(v).forEach(collect);
  };
  for (const s of statements) {
    collect(s.Resource);
    collect(s.Condition);
  }
  return out;
}

export const layersIsolated: StackValidationPolicy = {
  name: "layers-isolated",
  description: "No policy of one layer names another layer's resources; only a processor names two layers (its two ends).",
  enforcementLevel: "mandatory",
  validateStack: (args, report) => {
    // Who owns each ARN of the stack.
    const arns: { arn: string; layer: string }[] = [];
    for (const r of args.resources) {
      const owner = ownerOf(r);
      if (owner?.kind === "layer" && str(r.props.arn)) arns.push({ arn: r.props.arn, layer: owner.layer });
    }
    const layerOfArn = (named: string): string | undefined => {
      // "arn:...:stream/x/consumer/*" or "bucket/*" fall under the resource they start with.
      const hit = arns.find(({ arn }) => named === arn || named.startsWith(`${arn}/`) || named.startsWith(`${arn}:`));
      return hit?.layer;
    };
    for (const r of args.resources) {
      const owner = ownerOf(r);
      if (!owner) continue;
      let docs;
      try {
        docs = policyDocuments(r.type, r.props);
      } catch {
        continue; // iam-least-privilege reports unreadable documents
      }
      const layers = new Set<string>();
      for (const { doc } of docs) for (const arn of namedArns(doc)) {
        const layer = layerOfArn(arn);
        if (layer) layers.add(layer);
      }
      if (owner.kind === "layer") {
        const others = [...layers].filter((l) => l !== owner.layer);
        if (others.length) report(`${r.name} belongs to layer ${owner.layer} but names resources of layer ${others.join(", ")}`, r.urn);
      } else if (layers.size > 2) {
        report(`processor ${owner.name}: ${r.name} names resources of ${layers.size} layers (${[...layers].join(", ")}); a processor may name only its two ends`, r.urn);
      }
    }
  },
};
