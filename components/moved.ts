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

/** `{ parent: self, aliases: [{ parent: <self's parent> }] }` (no alias when self has no parent). */
export function movedChild(self: pulumi.ComponentResource, opts: pulumi.ComponentResourceOptions | undefined): pulumi.CustomResourceOptions {
  const formerParent = opts?.parent;
  return { parent: self, aliases: formerParent ? [{ parent: formerParent }] : [] };
}
