/** The pack's list of rules. */
import type { Policies } from "@pulumi/policy";
import { bucketsBlockPublicAccess, bucketsEncrypted, bucketsTlsOnly, bucketsVersioned, replicaBucketsLocked, replicationSkipsDeleteMarkers } from "./bucket-rules";
import { layersIsolated } from "./layer-isolation";
import { alarmsNameTheirResource, leastPrivilege, logGroupsEncrypted, queuesEncrypted, retentionWithinBounds, streamsEncrypted, tablesEncrypted, tablesRecoverable, topicsEncrypted, wireTapsLogErrors } from "./resource-rules";

/** Every rule of the pack, in the order the pack reports them. */
export const policies: Policies = [
  streamsEncrypted,
  bucketsEncrypted,
  logGroupsEncrypted,
  queuesEncrypted,
  topicsEncrypted,
  tablesEncrypted,
  tablesRecoverable,
  bucketsBlockPublicAccess,
  bucketsTlsOnly,
  bucketsVersioned,
  replicaBucketsLocked,
  replicationSkipsDeleteMarkers,
  leastPrivilege,
  layersIsolated,
  wireTapsLogErrors,
  retentionWithinBounds,
  alarmsNameTheirResource,
];
