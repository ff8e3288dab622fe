/**
 * `openLake()` and the `Lake` it returns: the lake's segments by address, through its catalog, for an
 * application's own code. Each method is a thin surface over the engine the commands run on:
 * `publish` over the publisher's delivery core (apps/publisher), `consume` over the subscriber's engine
 * (apps/subscriber, see consume.ts), `replay` over apps/replay (see replay.ts).
 */
import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis";
import type { Catalog, CatalogEntry } from "../runtime/catalog";
import { entryRegion, parseCatalog, readCatalogFile } from "../runtime/catalog";
import { createKinesisClient, DEFAULT_CALL_TIMEOUT_MS, DeadlineKinesisClient, endpointFromEnv } from "../runtime/client";
import { newRunId } from "../runtime/producer/records";
import { checkAwsSetup, normalizeEndpoint, StreamIdentity } from "../apps/lib/target";
import { publish as publishRecords, PublishRecord, PublishSummary } from "../runtime/producer/publisher";
import { undeliveredReason } from "../apps/publisher/report";
import { ConfigurationError, DeliveryError, SegmentNotFoundError, StreamNotFoundError, toLibraryError } from "./errors";
import { consumeSegment, LakeConsumeOptions } from "./lake-consume";
import { replaySegment, LakeReplayOptions, LakeReplaySummary } from "./replay";
import type { ConsumeSummary } from "./consume";
import type { LakeContext, LakeHandle, ResolvedSegment } from "./lake-handle";
export type { LakeContext, ResolvedSegment } from "./lake-handle";

export type { Catalog, CatalogEntry } from "../runtime/catalog";
export type { PublishSummary } from "../runtime/producer/publisher";

export interface LakeOptions {
  /**
   * The lake's catalog: a JSON file (`pulumi stack output catalog --json > catalog.json`, or the one
   * `datalake local-lake` writes), or the catalog object itself.
   * @default the file named by DATALAKE_CATALOG (which `datalake local-lake` prints)
   */
  catalog?: string | Catalog;
  /**
   * Kinesis endpoint URL, for an emulator or the local lake (`http://127.0.0.1:4567`).
   * @default AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL, else the region's AWS endpoint
   */
  endpoint?: string;
  /** AWS region. @default AWS_REGION, then AWS_DEFAULT_REGION, then the region the catalog names */
  region?: string;
  /** Deadline of each Kinesis call, the SDK's retries included; a call that runs out is retried within the method's own budget. @default 30000 */
  callTimeoutMs?: number;
  /** Receives progress and warnings, one line each. @default discard */
  log?: (line: string) => void;
  /** Where the defaults above are read from. @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** One record to publish. */
export interface PublishInput {
  /** The record's bytes; a string is sent as UTF-8. Up to 1 MiB with the partition key. */
  data: Uint8Array | string;
  /**
   * Picks the shard; records with the same key keep their order. 1 to 256 characters.
   * @default a key unique to the record (records spread evenly over the shards)
   */
  partitionKey?: string;
  /** A decimal 128-bit hash key that picks the shard instead of the partition key. @default none */
  explicitHashKey?: string;
}

export interface LakePublishOptions {
  /** The segment's address, `layer/segment`. */
  segment: string;
  /** The records, taken lazily (memory stays bounded however many there are). */
  records: Iterable<PublishInput> | AsyncIterable<PublishInput>;
  /** PutRecords requests in flight. @default 8 */
  concurrency?: number;
  /** Pack small records into KPL aggregated records (the lake's readers and `consume` unpack them). @default false */
  aggregate?: boolean;
  /** Pace writes per shard at the shard's write limits (needs `kinesis:ListShards`). @default true */
  pacing?: boolean;
  /** Time a record may take from its first attempt before it counts as undelivered. @default 120000 */
  recordTimeoutMs?: number;
  /** Called after each request that delivered records, with the running count. @default none */
  onProgress?: (sent: number) => void;
  /** Stops taking records; those already taken are still delivered, and the summary says `interrupted`. @default none */
  signal?: AbortSignal;
}


/**
 * Opens the lake: reads and checks the catalog, and makes one Kinesis client (HTTP/1.1 keep-alive, a
 * deadline on every call). No call is made until a method needs a segment.
 * @throws ConfigurationError no catalog, a catalog that is not one, a bad endpoint, no region or no credentials
 */
export async function openLake(options: LakeOptions = {}): Promise<Lake> {
  const env = options.env ?? process.env;
  const { catalog, source } = loadCatalog(options.catalog, env);
  let endpoint: string | undefined;
  try {
    endpoint = normalizeEndpoint(options.endpoint ?? endpointFromEnv(env), options.endpoint !== undefined ? "endpoint" : "AWS_ENDPOINT_URL_KINESIS");
  } catch (err) {
    throw toLibraryError(err);
  }
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? Object.values(catalog).map(entryRegion).find(Boolean);
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  if (!(callTimeoutMs >= 100)) throw new ConfigurationError(`callTimeoutMs must be at least 100 (ms), got ${callTimeoutMs}`);
  const client = createKinesisClient({ endpoint, region, callTimeoutMs }, env);
  try {
    await checkAwsSetup(client);
  } catch (err) {
    client.destroy();
    throw toLibraryError(err);
  }
  return new Lake(catalog, source, client, { endpoint, region: await client.config.region(), callTimeoutMs, log: options.log ?? (() => undefined) });
}

function loadCatalog(catalog: string | Catalog | undefined, env: NodeJS.ProcessEnv): { catalog: Catalog; source: string } {
  try {
    if (typeof catalog === "string") return { catalog: readCatalogFile(catalog), source: `catalog ${catalog}` };
    if (catalog !== undefined) return { catalog: parseCatalog(JSON.stringify(catalog), "object"), source: "the catalog object" };
    if (env.DATALAKE_CATALOG) return { catalog: readCatalogFile(env.DATALAKE_CATALOG), source: `catalog ${env.DATALAKE_CATALOG} (DATALAKE_CATALOG)` };
  } catch (err) {
    throw toLibraryError(err);
  }
  throw new ConfigurationError(
    "no catalog: pass openLake({ catalog }) a file from `pulumi stack output catalog --json` or the object, or set DATALAKE_CATALOG (`datalake local-lake` prints it)",
  );
}


/** The lake, opened by `openLake()`. Close it when done. */
export class Lake implements LakeHandle {
  private readonly resolved = new Map<string, Promise<ResolvedSegment>>();
  private closed = false;

  /** @internal use openLake() */
  constructor(
    private readonly catalog: Catalog,
    private readonly source: string,
    /** The Kinesis client every method uses. */
    readonly client: DeadlineKinesisClient,
    /** @internal */
    readonly context: LakeContext,
  ) {}

  /** The segment addresses the catalog lists, sorted. */
  segments(): string[] {
    return Object.keys(this.catalog).sort();
  }

  /**
   * The segment's catalog entry and stream, checked once (DescribeStreamSummary) and then remembered.
   * @throws SegmentNotFoundError the catalog has no such segment
   * @throws StreamNotFoundError its stream is not there (not deployed, another region)
   */
  segment(address: string): Promise<ResolvedSegment> {
    if (this.closed) return Promise.reject(new ConfigurationError("the lake is closed; open it again with openLake()"));
    let resolved = this.resolved.get(address);
    if (!resolved) {
      resolved = this.resolve(address);
      resolved.catch(() => this.resolved.delete(address));
      this.resolved.set(address, resolved);
    }
    return resolved;
  }

  private async resolve(address: string): Promise<ResolvedSegment> {
    const entry = this.catalog[address];
    if (!entry) throw new SegmentNotFoundError(address, this.segments(), this.source);
    try {
      const out = await this.client.send(new DescribeStreamSummaryCommand({ StreamName: entry.streamName }));
      const summary = out.StreamDescriptionSummary;
      const identity =
        summary?.StreamARN && summary.StreamCreationTimestamp ? { streamArn: summary.StreamARN, createdAt: new Date(summary.StreamCreationTimestamp) } : undefined;
      return { address, entry, streamName: entry.streamName, identity };
    } catch (err) {
      if ((err as Error).name === "ResourceNotFoundException") {
        const where = this.context.endpoint ?? `AWS region ${this.context.region}`;
        throw new StreamNotFoundError(
          `stream "${entry.streamName}" of segment ${address} (${this.source}) not found at ${where}; check the region and the endpoint, and that the stack is deployed`,
          err,
        );
      }
      throw toLibraryError(err);
    }
  }

  /**
   * Publishes records to a segment with the publisher's guarantees: batches of up to 500 records / 5 MiB,
   * each shard paced at its write limits (adapting to throttling), exactly the failed entries resent with
   * capped backoff, every record given `recordTimeoutMs`. Resolves with the summary once every record taken
   * was delivered (or the signal stopped the run: `interrupted`).
   * @throws DeliveryError some records could not be delivered in their budget (`error.summary` counts them)
   * @throws UnavailableError the stream accepted nothing for a whole record budget
   */
  async publish(options: LakePublishOptions): Promise<PublishSummary> {
    const segment = await this.segment(options.segment);
    let summary: PublishSummary;
    try {
      summary = await publishRecords(this.client, segment.streamName, toPublishRecords(options.records), {
        concurrency: options.concurrency,
        aggregate: options.aggregate,
        pacing: options.pacing,
        recordTimeoutMs: options.recordTimeoutMs,
        onProgress: options.onProgress && ((sent) => options.onProgress!(sent)),
        signal: options.signal,
        log: this.context.log,
      });
    } catch (err) {
      throw err instanceof RangeError ? new ConfigurationError(err.message) : toLibraryError(err);
    }
    const reason = undeliveredReason(summary, summary.records);
    if (reason) throw new DeliveryError(`${reason} to segment ${options.segment}; records may be sent again (consumers de-duplicate)`, summary);
    return summary;
  }

  /**
   * Reads a segment and hands its records, a batch per shard read, to `eachBatch` with a checkpointer;
   * runs until `signal` aborts (or `idleTimeoutMs`, or every shard is closed and read). See consume.ts.
   * @throws CheckpointError the checkpoint file belongs to another stream, is in use, or cannot be saved
   */
  consume(options: LakeConsumeOptions): Promise<ConsumeSummary> {
    return consumeSegment(this, options);
  }

  /**
   * Republishes what a segment's archive holds for a time window (`from` inclusive, `to` exclusive) into
   * `into`, through the publisher's core, resuming after an interruption when given a checkpoint file.
   * @throws DeliveryError a batch could not be delivered (the checkpoint stays before it)
   * @throws ArchiveError a corrupt object, with `onCorrupt: "fail"` (the default)
   */
  replay(options: LakeReplayOptions): Promise<LakeReplaySummary> {
    return replaySegment(this, options);
  }

  /** Releases the clients. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    this.client.destroy();
  }
}

/** The caller's records as the publisher's core takes them (a plain iterable stays one: no await per record). */
function toPublishRecords(records: Iterable<PublishInput> | AsyncIterable<PublishInput>): Iterable<PublishRecord> | AsyncIterable<PublishRecord> {
  const prefix = newRunId();
  let n = 0;
  const convert = (input: PublishInput): PublishRecord => {
    n += 1;
    const data = typeof input?.data === "string" ? Buffer.from(input.data, "utf8") : input?.data;
    if (!(data instanceof Uint8Array)) throw new ConfigurationError(`record ${n}: data must be a string or a Uint8Array`);
    return { data, partitionKey: input.partitionKey ?? `${prefix}-${n}`, explicitHashKey: input.explicitHashKey };
  };
  if (Symbol.asyncIterator in records) {
    return (async function* () {
      for await (const input of records as AsyncIterable<PublishInput>) yield convert(input);
    })();
  }
  return (function* () {
    for (const input of records as Iterable<PublishInput>) yield convert(input);
  })();
}
