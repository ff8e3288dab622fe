/**
 * A segment's consumer group as the apps find it: its catalog entry (lease table, endpoint), and the
 * group's positions read from its lease table (for `lag --group`).
 */
import type { GroupEntry } from "../../model/catalog";
import type { ShardCheckpoints } from "../../runtime/consumer/checkpoint";
import { UserError } from "../../runtime/errors";
import { createLeaseClient, LeaseTable, LeaseTableMissingError } from "../../runtime/leases";
import { leasePosition } from "../../runtime/leases/engine-reader";
import type { Target } from "./target";

/** The group's catalog entry, or one line saying what to declare. */
export function groupEntry(target: Pick<Target, "entry">, group: string, segment: string | undefined): GroupEntry {
  if (!segment || !target.entry) {
    throw new UserError(`--group ${group} needs --segment layer/segment (the group's lease table is found in the segment's catalog entry), not --stream`);
  }
  const groups = target.entry.groups ?? {};
  const entry = groups[group];
  if (!entry) {
    const known = Object.keys(groups).sort();
    throw new UserError(
      `--group ${group}: segment ${segment} declares no such consumer group (${known.length ? `its groups: ${known.join(", ")}` : "it declares none"}); ` +
        `add it to the segment's groups in Pulumi.<stack>.yaml and deploy (pulumi up) or restart the local lake`,
    );
  }
  return entry;
}

/** The group's checkpoint per shard (as the engine saves positions) and each shard's lease owner. */
export async function groupPositions(target: Pick<Target, "entry" | "client">, group: string, segment: string | undefined): Promise<{ shards: ShardCheckpoints; owners: Record<string, string | undefined>; tableName: string }> {
  const entry = groupEntry(target, group, segment);
  const client = createLeaseClient({ endpoint: entry.endpoint, region: entry.endpoint ? undefined : await target.client.config.region() });
  try {
    const table = new LeaseTable({ client, tableName: entry.tableName });
    await table.describe();
    const leases = await table.list();
    const shards: ShardCheckpoints = {};
    const owners: Record<string, string | undefined> = {};
    for (const lease of leases) {
      Object.assign(shards, leasePosition(lease));
      owners[lease.leaseKey] = lease.leaseOwner;
    }
    return { shards, owners, tableName: entry.tableName };
  } catch (err) {
    if (err instanceof LeaseTableMissingError) throw new UserError(`--group ${group}: ${err.message}`);
    throw err;
  } finally {
    client.destroy();
  }
}
