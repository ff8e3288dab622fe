/**
 * The local lake's stand-in for a route's EventBridge Pipe: reads the source segment's stream, keeps the
 * records whose JSON matches the route filter, and publishes them unchanged (same partition key) to the
 * target segment's stream.
 */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { RouteConfig } from "../model/config";
import { matchesPattern } from "../model/event-pattern";
import { publish, PublishRecord } from "../apps/publisher/publisher";
import { subscribe, SubscribeSummary } from "../apps/subscriber/subscriber";

export interface RouterStats {
  /** Records read from the source. */
  seen: number;
  /** Records that matched the filter and were delivered to the target. */
  forwarded: number;
  /** Records that matched but could not be delivered. */
  failed: number;
}

function parseJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(data).toString("utf8"));
  } catch {
    return undefined;
  }
}

export class LocalRouter {
  readonly stats: RouterStats = { seen: 0, forwarded: 0, failed: 0 };
  private pending: PublishRecord[] = [];
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly route: RouteConfig,
    private readonly client: KinesisClient,
    private readonly sourceStream: string,
    private readonly targetStream: string,
  ) {}

  /** True when the record would be forwarded by the deployed pipe. */
  accepts(data: Uint8Array): boolean {
    if (!this.route.filter) return true;
    const value = parseJson(data);
    return value !== undefined && matchesPattern(this.route.filter, value);
  }

  /** Runs until the signal aborts, then forwards what is still pending. */
  async run(signal: AbortSignal, flushIntervalMs = 200): Promise<SubscribeSummary> {
    const timer = setInterval(() => void this.flush(), flushIntervalMs);
    const summary = await subscribe(this.client, this.sourceStream, {
      from: { type: "trim-horizon" },
      signal,
      emptyReadPauseMs: 200,
      write: (record) => {
        this.stats.seen++;
        const data = record.Data ?? new Uint8Array();
        if (!this.accepts(data)) return;
        this.pending.push({ data, partitionKey: record.PartitionKey ?? "0" });
        // Forward in batches, one batch at a time so order per key is kept.
        if (this.pending.length >= 500) return this.flush();
        return undefined;
      },
    }).finally(() => clearInterval(timer));
    await this.flush();
    return summary;
  }

  /** Forwards what has been collected so far. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      this.pending = [];
      if (batch.length === 0) return;
      const result = await publish(this.client, this.targetStream, batch, { concurrency: 4 });
      this.stats.forwarded += result.sent;
      this.stats.failed += result.failed.count;
    });
    return this.flushing;
  }
}
