/**
 * Resource options for the children of the segment's part components (stream, bucket, wire-tap).
 *
 * Until the segment was split by AWS part, these resources were direct children of the segment
 * component. A resource's URN encodes its parent, so moving it under a part component changes its URN,
 * and without an alias Pulumi would delete the deployed resource and create a new one (a new bucket, a
 * new stream: data gone). The alias names the old parent, the part component's own parent (the segment),
 * so stacks deployed before the split see the same resources under a new URN, and nothing is replaced.
 * Logical names did not change in the split, so only the parent differs.
 */
import * as pulumi from "@pulumi/pulumi";

/**
 * `{ parent: self, aliases: [{ parent: <URN of self's parent> }] }` (no alias when self has no parent).
 *
 * The alias names the former parent by its URN, not by the resource object: Pulumi turns each alias into an
 * Output and walks its value looking for unknowns, and a resource object in it is walked whole, through
 * its parent and every component it can reach, i.e. the entire lake. That made each of a segment's
 * thirteen aliased resources cost time proportional to the lake's size (program time grew with the square
 * of the segment count). Pulumi resolves a resource `parent` to that resource's URN anyway, so the alias
 * sent to the engine is the same.
 */
export function movedChild(self: pulumi.ComponentResource, opts: pulumi.ComponentResourceOptions | undefined): pulumi.CustomResourceOptions {
  const formerParent = opts?.parent;
  return { parent: self, aliases: formerParent ? [{ parent: formerParent.urn }] : [] };
}
