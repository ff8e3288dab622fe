/**
 * The lake's guardrails as Pulumi policies. `index.ts` in this folder puts them into a policy pack for
 * `pulumi preview --policy-pack policy`; `npm run -s policy-check` (apps/policy-check) calls the same
 * `validateResource` / `validateStack` functions on a stack captured under mocks, without the cloud.
 *
 * Only plain property reads here (no `@pulumi/aws` classes): the checks work the same on the engine's
 * resource inputs and on the inputs the mocks record.
 *
 * In a real preview, values that are not known yet (ARNs of resources still to be created) are unknown;
 * @pulumi/policy then skips the check that reads them and says so. `pulumi up` runs every check again
 * with the real values before it changes anything.
 */

export { isAwsManagedKey, POLICY_DOCUMENTS, policyDocuments, TYPES } from "./rules/resources";
export { alarmsNameTheirResource, leastPrivilege, LOG_RETENTION_DAYS, logGroupsEncrypted, queuesEncrypted, retentionWithinBounds, streamsEncrypted, tablesEncrypted, tablesRecoverable, topicsEncrypted, wireTapsLogErrors } from "./rules/resource-rules";
export { bucketsBlockPublicAccess, bucketsEncrypted, bucketsTlsOnly, bucketsVersioned, deniesInsecureTransport, isScratchBucket, replicaBucketNames, replicaBucketsLocked, replicationSkipsDeleteMarkers, SCRATCH_EXPIRY_MAX_DAYS } from "./rules/bucket-rules";
export { layersIsolated, ownerOf } from "./rules/layer-isolation";
export { policies } from "./rules/pack";
