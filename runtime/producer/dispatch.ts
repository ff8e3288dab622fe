/**
 * The publisher's delivery core: one queue per shard (or, without a shard map, per hash bucket of the
 * partition key), and `concurrency` senders that each build a PutRecords request from the queues that
 * are ready and send it.
 *
 * - Pacing: a shard's records leave its queue only when its pacer has the tokens (records and bytes).
 * - Batching across shards: one request carries records of many shards (up to 500 records / 5 MiB), so
 *   a stream of many shards costs few requests.
 * - Per-key order: a queue is in at most one request in flight at a time, so a key (which belongs to one
 *   queue) is never in two requests at once; entries that fail are resent alone, before any later record
 *   of their queue, so a resend is never overtaken by a later record of the same key.
 * - Aggregation: a queue packs its user records into KPL aggregated records (model/kpl.ts).
 */

export { Entry } from "./dispatch/entry";
export type { PutRecordsSender, RunContext } from "./dispatch/entry";
export { laneOf } from "./dispatch/lane";
export { ShardQueue } from "./dispatch/shard-queue";
export type { QueueOptions } from "./dispatch/shard-queue";
export { Dispatcher } from "./dispatch/dispatcher";
