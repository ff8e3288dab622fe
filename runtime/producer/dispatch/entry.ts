/** A record on its way (`Entry`), the client it goes through, and what the queues of one run share. */
import { PutRecordsCommand, PutRecordsCommandOutput, PutRecordsRequestEntry } from "@aws-sdk/client-kinesis";
import { BackoffOptions } from "../../backoff";

/** The part of a Kinesis client the publisher uses (PutRecords; ListShards when it can, for pacing). */
export interface PutRecordsSender {
  send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput>;
}

/**
 * A record on its way: what Kinesis gets (the PutRecords entry itself, so a request's record list is the
 * entries, not copies of them), plus its bookkeeping. A class with every field set up front, since one is
 * made per record at hundreds of thousands a second.
 */
export class Entry implements PutRecordsRequestEntry {
  /** Set at the first attempt: after this time the record counts as failed. */
  deadline: number | undefined = undefined;
  /** Error code of the last failed attempt. */
  lastError: string | undefined = undefined;
  /** Records the run had delivered at this entry's first attempt (to tell a stalled stream). */
  sentBefore: number | undefined = undefined;
  /** For an aggregated record: the user records inside it. */
  users: Entry[] | undefined = undefined;
  constructor(
    readonly Data: Uint8Array,
    readonly PartitionKey: string,
    readonly ExplicitHashKey: string | undefined,
    /** Data plus partition key bytes, as Kinesis counts them. */
    readonly size: number,
  ) {}
}

/** What the queues of one run share: the client, the settings, and the counters. */
export interface RunContext {
  readonly client: PutRecordsSender;
  readonly streamName: string;
  readonly recordTimeoutMs: number;
  readonly backoff: BackoffOptions;
  /** Aborted when the run must end now (non-retryable error). */
  readonly signal: AbortSignal;
  /** True once any request of the run has succeeded. */
  readonly anyDelivered: boolean;
  /** Records delivered so far. */
  readonly sent: number;
  request(): void;
  /** User records Kinesis accepted. */
  delivered(entries: Entry[]): void;
  failed(entry: Entry, reason: string): void;
  resent(count: number): void;
  throttled(): void;
  /** Entries of a PutRecords response that came back throttled. */
  throttledEntries(count: number): void;
  /** Kinesis records (aggregates count once) and their bytes accepted. */
  kinesisRecords(count: number, bytes: number): void;
  /** Kinesis put a record in a shard other than the one it was queued for: the shard map is stale. */
  shardMismatch(shardId: string): void;
  /** Ends the run with this error. */
  abort(err: unknown): void;
}
