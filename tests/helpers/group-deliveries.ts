/**
 * What a consumer group may deliver twice, checked record by record (pure, for the group tests and their
 * own unit test): a stream record (shard, sequence number, partition key) written by more than one
 * worker, or twice by one, is a duplicate. Each extra copy must be explained by a takeover of its shard
 * (a lease taken from a worker that stopped renewing) whose reader started from a checkpoint before the
 * record, taken from a worker that had written it. So duplicates come only after takeovers, and a
 * shard's duplicates are at most the records its previous owners wrote past the checkpoints the takers
 * started from. A graceful hand-over (the owner checkpoints, then releases) explains nothing.
 */

export interface Delivery {
  worker: string;
  /** The user record's id (the test's partition key). */
  id: string;
  shardId: string;
  sequenceNumber: string;
}

export interface Takeover {
  shardId: string;
  /** The worker that stopped renewing. */
  from: string;
  /** The worker that took the lease. */
  by: string;
  /** Where the taker's reader started: the lease's checkpoint at the take. */
  checkpoint: string;
}

export interface DeliveryReport {
  /** Distinct stream records delivered. */
  records: number;
  /** Copies beyond the first, in all. */
  duplicates: number;
  duplicatesByShard: Record<string, number>;
  /** Per shard: records the takeovers' previous owners wrote past the checkpoint each taker started from (the bound). */
  sinceCheckpointByShard: Record<string, number>;
  /** One line per duplicate no takeover explains (at most 10, then a count). */
  unexplained: string[];
}

/** A checkpoint as a position: sentinels before every record. */
function position(checkpoint: string): bigint {
  return /^\d+$/.test(checkpoint) ? BigInt(checkpoint) : -1n;
}

export function checkDeliveries(deliveries: Iterable<Delivery>, takeovers: readonly Takeover[]): DeliveryReport {
  const copies = new Map<string, { d: Delivery; workers: string[] }>();
  for (const d of deliveries) {
    const key = `${d.shardId}/${d.sequenceNumber}/${d.id}`;
    const c = copies.get(key);
    if (c) c.workers.push(d.worker);
    else copies.set(key, { d, workers: [d.worker] });
  }
  const byShard = new Map<string, Array<Takeover & { at: bigint }>>();
  for (const t of takeovers) {
    const list = byShard.get(t.shardId) ?? [];
    list.push({ ...t, at: position(t.checkpoint) });
    byShard.set(t.shardId, list);
  }
  const report: DeliveryReport = { records: copies.size, duplicates: 0, duplicatesByShard: {}, sinceCheckpointByShard: {}, unexplained: [] };
  let unexplained = 0;
  for (const { d, workers } of copies.values()) {
    const seq = BigInt(d.sequenceNumber);
    const shardTakeovers = byShard.get(d.shardId) ?? [];
    for (const t of shardTakeovers) {
      if (seq > t.at && workers.includes(t.from)) report.sinceCheckpointByShard[d.shardId] = (report.sinceCheckpointByShard[d.shardId] ?? 0) + 1;
    }
    if (workers.length === 1) continue;
    const extra = workers.length - 1;
    report.duplicates += extra;
    report.duplicatesByShard[d.shardId] = (report.duplicatesByShard[d.shardId] ?? 0) + extra;
    const explaining = shardTakeovers.filter((t) => seq > t.at && workers.includes(t.from)).length;
    if (extra > explaining) {
      unexplained++;
      if (report.unexplained.length < 10) {
        const reasons = shardTakeovers.length === 0 ? "no takeover of the shard" : `takeovers of the shard: ${shardTakeovers.map((t) => `${t.from}->${t.by} from ${t.checkpoint}`).join(", ")}`;
        report.unexplained.push(`${d.id} (${d.shardId} ${d.sequenceNumber}) written ${workers.length} times by ${workers.join(", ")}; ${reasons}`);
      }
    }
  }
  if (unexplained > report.unexplained.length) report.unexplained.push(`... ${unexplained - report.unexplained.length} more`);
  return report;
}
