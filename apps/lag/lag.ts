/**
 * How far a consumer is behind, per shard, from its checkpoint: for each shard, read from the checkpointed
 * position to the tip of the shard and count what is there (bounded), and take the age of the oldest
 * unread record as the time behind. Reads never write anything and never take the checkpoint's lock, so
 * they can run beside the subscriber that owns it.
 *
 * Every call has a deadline (the client's) and every loop a bound: at most `maxRecords` counted and
 * `maxCalls` GetRecords calls per shard, paced at the runtime's read budget (2 of the shard's 5 calls per
 * second, runtime/consumer/read-budget.ts), leaving the rest to the consumer being measured.
 */
import { GetRecordsCommand, GetRecordsCommandOutput, GetShardIteratorCommand, ShardIteratorType } from "@aws-sdk/client-kinesis";
import { ShardCheckpoint, ShardCheckpoints } from "../../runtime/consumer/checkpoint";
import { KinesisSender, listShards } from "../../runtime/consumer/shards";
import { sleep } from "../../runtime/backoff";
import { READ_INTERVAL_BEHIND_MS } from "../../runtime/consumer/read-budget";
import { GET_RECORDS_MAX_RECORDS } from "../../model/limits";

export type ShardLagStatus = "behind" | "caught-up" | "ended" | "not-started" | "gone";

export interface ShardLag {
  shardId: string;
  status: ShardLagStatus;
  /** Records between the consumer's position and the tip; undefined when not known. */
  recordsBehind: number | undefined;
  /** False when counting stopped at a bound (`recordsBehind` is then a lower bound). */
  exact: boolean;
  /** Age of the oldest record the consumer has not read yet, in ms (0 when caught up). */
  millisBehind: number | undefined;
  /** Arrival time of the oldest unread record, ISO-8601. */
  oldestUnreadAt?: string;
  /** Where the consumer stands, in words. */
  position: string;
}

export interface LagOptions {
  /** Stop counting a shard's backlog after this many records. @default 100000 */
  maxRecords?: number;
  /** Stop reading a shard after this many GetRecords calls. @default 500 */
  maxCalls?: number;
  /**
   * Pause between two GetRecords calls on one shard, ms: the runtime's read budget while behind (2 of the
   * shard's 5 calls/s), so counting a backlog never throttles the consumer being measured.
   * @default READ_INTERVAL_BEHIND_MS (500)
   */
  pauseMs?: number;
  /** "Now", for the age of records. @default Date.now */
  now?: () => number;
  signal?: AbortSignal;
}


type Position =
  | { type: typeof ShardIteratorType.AFTER_SEQUENCE_NUMBER; sequenceNumber: string }
  | { type: typeof ShardIteratorType.TRIM_HORIZON }
  | { type: typeof ShardIteratorType.AT_TIMESTAMP; at: Date };

function positionOf(entry: ShardCheckpoint | undefined): Position | undefined {
  if (!entry) return undefined;
  if (entry.sequenceNumber !== undefined) return { type: ShardIteratorType.AFTER_SEQUENCE_NUMBER, sequenceNumber: entry.sequenceNumber };
  if (entry.start === "trim-horizon") return { type: ShardIteratorType.TRIM_HORIZON };
  if (entry.start && typeof entry.start === "object") return { type: ShardIteratorType.AT_TIMESTAMP, at: new Date(entry.start.atTimestamp) };
  return undefined;
}

function describe(p: Position): string {
  if (p.type === ShardIteratorType.AFTER_SEQUENCE_NUMBER) return `after ${p.sequenceNumber}`;
  if (p.type === ShardIteratorType.TRIM_HORIZON) return "nothing read yet, from trim-horizon";
  return `nothing read yet, from ${p.at.toISOString()}`;
}

/** Counts the records from `position` to the tip of one shard (bounded) and the age of the first one. */
export async function backlog(
  client: KinesisSender,
  streamName: string,
  shardId: string,
  position: Position,
  opts: LagOptions = {},
): Promise<{ records: number; exact: boolean; firstArrival: Date | undefined }> {
  const maxRecords = opts.maxRecords ?? 100_000;
  const maxCalls = opts.maxCalls ?? 500;
  const pauseMs = opts.pauseMs ?? READ_INTERVAL_BEHIND_MS;
  const iterator = await client.send(
    new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ShardIteratorType: position.type,
      StartingSequenceNumber: position.type === ShardIteratorType.AFTER_SEQUENCE_NUMBER ? position.sequenceNumber : undefined,
      Timestamp: position.type === ShardIteratorType.AT_TIMESTAMP ? position.at : undefined,
    }),
    { abortSignal: opts.signal },
  );
  let next: string | undefined = iterator.ShardIterator;
  let records = 0;
  let firstArrival: Date | undefined;
  for (let calls = 0; next; calls++) {
    if (calls >= maxCalls || records >= maxRecords || opts.signal?.aborted) return { records, exact: false, firstArrival };
    if (calls > 0) await sleep(pauseMs, opts.signal);
    // Never more than the bound: a full answer at the bound means there may be more (count not exact).
    const limit = Math.min(GET_RECORDS_MAX_RECORDS, maxRecords - records);
    const out: GetRecordsCommandOutput = await client.send(new GetRecordsCommand({ ShardIterator: next, Limit: limit }), {
      abortSignal: opts.signal,
    });
    const got = out.Records ?? [];
    if (got.length > 0 && firstArrival === undefined) firstArrival = got[0].ApproximateArrivalTimestamp;
    records += got.length;
    // At the tip: an empty read that is 0 ms behind. Not MillisBehindLatest 0 alone: kinesis-local answers 0
    // on every read, even with records left; on AWS the extra call only confirms the tip.
    if (got.length === 0 && (out.MillisBehindLatest === 0 || out.MillisBehindLatest === undefined)) break;
    next = out.NextShardIterator; // absent: a closed shard read to its end
  }
  return { records, exact: true, firstArrival };
}

/**
 * Lag of every shard of the stream behind a checkpoint (`shards` as the subscriber saved them), plus the
 * checkpoint's shards that the stream no longer has (expired after a reshard).
 */
export async function checkpointLag(client: KinesisSender, streamName: string, shards: ShardCheckpoints, opts: LagOptions = {}): Promise<ShardLag[]> {
  const now = opts.now ?? Date.now;
  const listed = await listShards(client, streamName, opts.signal);
  const out: ShardLag[] = [];
  const measure = async (shardId: string): Promise<ShardLag> => {
    const entry = shards[shardId];
    if (entry?.ended) return { shardId, status: "ended", recordsBehind: 0, exact: true, millisBehind: 0, position: "read to its end" };
    const position = positionOf(entry) ?? { type: ShardIteratorType.TRIM_HORIZON };
    const b = await backlog(client, streamName, shardId, position, opts);
    const millisBehind = b.firstArrival ? Math.max(0, now() - b.firstArrival.getTime()) : 0;
    const status: ShardLagStatus = !entry || !positionOf(entry) ? "not-started" : b.records > 0 ? "behind" : "caught-up";
    return {
      shardId,
      status,
      recordsBehind: b.records,
      exact: b.exact,
      millisBehind,
      oldestUnreadAt: b.firstArrival?.toISOString(),
      position: status === "not-started" ? "not in the checkpoint (counted from trim-horizon)" : describe(position),
    };
  };
  // A few shards at a time: each is paced on its own, and the client bounds every call.
  const queue = listed.map((s) => s.id);
  const results = new Map<string, ShardLag>();
  const workers = Array.from({ length: Math.min(8, queue.length) }, async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) results.set(id, await measure(id));
  });
  await Promise.all(workers);
  for (const s of listed) out.push(results.get(s.id)!);
  const known = new Set(listed.map((s) => s.id));
  for (const id of Object.keys(shards).filter((id) => !known.has(id)).sort()) {
    out.push({ shardId: id, status: "gone", recordsBehind: undefined, exact: false, millisBehind: undefined, position: "the stream no longer has this shard (expired after a reshard)" });
  }
  return out;
}

/** `3 h 2 min`, `41 s`, `0 s`. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return "unknown";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** The human table: one line per shard. */
export function formatTable(lags: ShardLag[]): string {
  const rows = lags.map((l) => [
    l.shardId,
    l.status,
    l.recordsBehind === undefined ? "unknown" : `${l.exact ? "" : ">="}${l.recordsBehind}`,
    formatDuration(l.millisBehind),
    l.oldestUnreadAt ?? "-",
    l.position,
  ]);
  const head = ["shard", "status", "records behind", "time behind", "oldest unread record", "position"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}
