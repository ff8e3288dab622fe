/**
 * The lake's guardrails as a Pulumi policy pack:
 *
 *   pulumi preview --policy-pack policy
 *
 * The rules live in rules.ts (also run without the cloud by `npm run -s policy-check -- --stack dev`).
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("datalake-guardrails", {
  description: "Data lake invariants: customer-managed keys everywhere, locked-down buckets, least privilege, isolated layers, logged wire-taps, bounded retention.",
  enforcementLevel: "mandatory",
  policies,
});
