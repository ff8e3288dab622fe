/**
 * Routes each record to the queue of the shard Kinesis will put it in, so each shard is paced on its own.
 * The shard map comes from ListShards; it is refreshed periodically and at once when Kinesis reports a
 * record in a shard the map did not predict (a reshard). Switching to a new map waits until every queue is
 * idle, so no key ever has records in two queues at once and per-key order survives a reshard.
 *
 * When ListShards is not available (a principal without `kinesis:ListShards`, a stub), the router falls
 * back to `concurrency` unpaced queues chosen by a hash of the partition key.
 */
import { listAllShards } from "../list-shards";
import { ListShardsCommand, ListShardsCommandOutput, Shard } from "@aws-sdk/client-kinesis";
import { errorCode } from "../kinesis-errors";
import { Dispatcher, Entry, laneOf, RunContext, ShardQueue } from "./dispatch";
import { KINESIS_SHARD_WRITE_LIMITS, PacerOptions, ShardPacer, ShardWriteLimits } from "./pacer";
import { FastShardLookup, ShardMap } from "./shard-map";

export interface RouterOptions {
  /** Requests in flight at once (each may carry records of many shards). */
  concurrency: number;
  /** Pace writes per shard. @default true */
  pacing: boolean;
  limits: ShardWriteLimits;
  pacer?: PacerOptions;
  /** Ms between shard-map refreshes. */
  refreshMs: number;
  aggregateMaxBytes?: number;
  log: (line: string) => void;
}

type ListShardsClient = { send(command: ListShardsCommand): Promise<ListShardsCommandOutput> };

export class ShardRouter {
  /** Shard maps installed after the first. */
  refreshes = 0;
  private readonly dispatcher: Dispatcher;
  private senders: Promise<void>[] = [];
  private lookup?: FastShardLookup;
  private byShard = new Map<string, ShardQueue>();
  private fallback: ShardQueue[] = [];
  private pending?: ShardMap;
  private refreshing?: Promise<void>;
  private lastRefresh = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    run: RunContext,
    private readonly client: unknown,
    private readonly streamName: string,
    private readonly options: RouterOptions,
  ) {
    this.dispatcher = new Dispatcher(run, options.concurrency);
  }

  get shardCount(): number {
    return this.lookup?.map.ranges.length ?? 0;
  }

  /** Pacers by shard id (for the summary and tests). */
  get pacers(): Map<string, ShardPacer> {
    const out = new Map<string, ShardPacer>();
    for (const [id, q] of this.byShard) if (q.options.pacer) out.set(id, q.options.pacer);
    return out;
  }

  /** Loads the shard map (or falls back to unpaced queues), starts the senders and the periodic refresh. */
  async start(): Promise<void> {
    if (this.options.pacing) {
      try {
        this.install(new ShardMap(await this.listShards()));
      } catch (err) {
        this.options.log(`shard map unavailable (ListShards: ${errorCode(err)}): publishing without per-shard pacing`);
      }
    }
    for (let i = 0; i < this.options.concurrency; i++) this.senders.push(this.dispatcher.sender());
    if (!this.lookup) {
      for (let i = 0; i < this.options.concurrency; i++) this.fallback.push(this.newQueue({}));
      this.dispatcher.setQueues(this.fallback);
      return;
    }
    this.timer = setInterval(() => this.refresh(), this.options.refreshMs);
    this.timer.unref();
  }

  private async listShards(): Promise<Shard[]> {
    return listAllShards(this.client as ListShardsClient, this.streamName);
  }

  private newQueue(options: ConstructorParameters<typeof ShardQueue>[1]): ShardQueue {
    return this.dispatcher.newQueue({ ...options, aggregateMaxBytes: this.options.aggregateMaxBytes });
  }

  private install(map: ShardMap): void {
    const ids = new Set(map.shardIds);
    for (const id of this.byShard.keys()) if (!ids.has(id)) this.byShard.delete(id);
    for (const id of ids) {
      if (this.byShard.has(id)) continue;
      const pacer = new ShardPacer(this.options.limits ?? KINESIS_SHARD_WRITE_LIMITS, this.options.pacer);
      this.byShard.set(id, this.newQueue({ shardId: id, pacer }));
    }
    this.lookup = new FastShardLookup(map);
    this.dispatcher.setQueues([...this.byShard.values()]);
  }

  /** Fetches the shard map in the background (at most one at a time, at most once a second). */
  refresh(): void {
    if (this.closed || this.refreshing || Date.now() - this.lastRefresh < 1000) return;
    this.lastRefresh = Date.now();
    this.refreshing = this.listShards()
      .then((shards) => {
        const map = new ShardMap(shards);
        if (!map.sameAs(this.lookup?.map) && map.ranges.length > 0) this.pending = map;
      })
      .catch((err) => this.options.log(`shard map refresh failed (ListShards: ${errorCode(err)}); keeping the current one`))
      .finally(() => (this.refreshing = undefined));
  }

  /** A new shard map waits to be installed. */
  get switchPending(): boolean {
    return this.pending !== undefined;
  }

  /** Installs the pending map once every queue is idle (nothing queued, to resend or in flight). */
  async switchMap(): Promise<void> {
    const next = this.pending;
    if (!next) return;
    await this.dispatcher.idle();
    if (this.pending !== next) return;
    this.pending = undefined;
    this.install(next);
    this.refreshes++;
    this.options.log(`shard map refreshed: ${next.ranges.length} open shards`);
  }

  /** The queue for a record. */
  queueFor(entry: Entry): ShardQueue {
    if (!this.lookup) return this.fallback[laneOf(entry.PartitionKey, this.fallback.length)];
    const shardId = this.lookup.shardOfKey(entry.PartitionKey, entry.ExplicitHashKey);
    const queue = shardId === undefined ? undefined : this.byShard.get(shardId);
    if (queue) return queue;
    // A gap in the map (a reshard in progress): a queue chosen by the key delivers it (Kinesis routes it
    // by its hash anyway), and the map is refreshed.
    this.refresh();
    const all = [...this.byShard.values()];
    return all[laneOf(entry.PartitionKey, all.length)];
  }

  /** No more records: wait until every queue is delivered, then stop the senders. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.dispatcher.close();
    await Promise.all(this.senders);
    await this.refreshing;
  }
}
