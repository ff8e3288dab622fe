/**
 * `subscribe --group NAME`: the subscriber as one worker of a segment's consumer group (README "Consumer
 * groups"). The group's lease table (from the segment's catalog entry) decides which shards this process
 * reads; each leased shard gets its own consumer engine (runtime/leases/engine-reader.ts), whose records go
 * to the same `write` as a plain subscriber's. Runs until `signal` aborts, then stops every shard (each
 * checkpoints into its lease) and releases the leases, so the other workers take over at once.
 */
import { hostname } from "os";
import { UserError } from "../../runtime/errors";
import { createLeaseClient, LeaseCoordinator, LeaseTable, LeaseTableMissingError, runGroup, type InitialPosition } from "../../runtime/leases";
import { engineShardReader, EngineReaderOptions } from "../../runtime/leases/engine-reader";
import { listShards } from "../../runtime/consumer/shards";
import type { StartFrom } from "../../runtime/consumer/shards";
import type { Target } from "../lib/target";
import { groupEntry } from "../lib/group";

export { groupEntry } from "../lib/group";

export interface GroupWorkerOptions {
  group: string;
  /** The segment address the group was asked for, for messages. */
  segment: string | undefined;
  /** leaseOwner in the table. @default "<hostname>:<pid>" */
  workerId?: string;
  /** Where shards nobody has read yet start (only when their lease row is created). */
  from: StartFrom;
  /** Seconds a lease lives without renewal. @default 10 */
  leaseSeconds?: number;
  engine: EngineReaderOptions;
  signal: AbortSignal;
  log: (line: string) => void;
}

/** The lease's initial position for `--from`: a lease row holds a sentinel, so no time. */
export function initialPosition(from: StartFrom): InitialPosition {
  if (from.type === "at-timestamp") {
    throw new UserError("--from with a time cannot be used with --group (a lease starts at TRIM_HORIZON or LATEST); use --from trim-horizon or --from latest");
  }
  return from.type === "trim-horizon" ? "TRIM_HORIZON" : "LATEST";
}

export async function runGroupWorker(target: Target, options: GroupWorkerOptions): Promise<{ workerId: string; shardsRead: number }> {
  const { log } = options;
  const entry = groupEntry(target, options.group, options.segment);
  const initial = initialPosition(options.from);
  const workerId = options.workerId ?? `${hostname()}:${process.pid}`;
  const endpoint = entry.endpoint ?? undefined;
  const client = createLeaseClient({ endpoint, region: endpoint ? undefined : await target.client.config.region() });
  const table = new LeaseTable({ client, tableName: entry.tableName });
  const leaseDurationMs = Math.round((options.leaseSeconds ?? 10) * 1000);
  const coordinator = new LeaseCoordinator({ table, workerId, leaseDurationMs, initialPosition: initial, log });
  let shardsRead = 0;
  const reader = engineShardReader(target.client, target.streamName, options.engine);
  try {
    log(`group ${options.group}: worker ${workerId} on lease table ${entry.tableName}${endpoint ? ` at ${endpoint}` : ""} (lease ${leaseDurationMs / 1000} s)`);
    const group = await runGroup({
      coordinator,
      read: (lease, context) => {
        shardsRead += 1;
        log(`group ${options.group}: reading ${lease.leaseKey} from ${lease.checkpoint}`);
        return reader(lease, context);
      },
      listShards: async () =>
        (await listShards(target.client, target.streamName, AbortSignal.timeout(30_000))).map((s) => ({
          shardId: s.id,
          parentShardId: s.parents[0],
          adjacentParentShardId: s.parents[1],
        })),
      syncIntervalMs: 10_000,
      log: (line) => log(`group ${options.group}: ${line}`),
    });
    if (!options.signal.aborted) await new Promise<void>((resolve) => options.signal.addEventListener("abort", () => resolve(), { once: true }));
    log(`group ${options.group}: stopping (shards checkpoint, then leases are released); held ${group.reading().join(", ") || "none"}`);
    await group.stop();
    return { workerId, shardsRead };
  } catch (err) {
    // The catalog names a table the lake does not have (not deployed, or the local lake was not restarted).
    if (err instanceof LeaseTableMissingError) throw new UserError(`--group ${options.group}: ${err.message}`);
    throw err;
  } finally {
    client.destroy();
  }
}
