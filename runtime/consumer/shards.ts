/**
 * Shards of a stream: listing them, where a reader starts, and when a child may start (after its parents).
 * Pure except for listShards, so the rules are testable without a stream.
 */
import { listAllShards, ListShardsSender } from "../list-shards";
import { GetShardIteratorCommandInput } from "@aws-sdk/client-kinesis";
import { SavedStart, ShardCheckpoint } from "./checkpoint";

/** Anything with the KinesisClient's `send` (the real client, or a stub in tests). */
export interface KinesisSender {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

export interface ShardInfo {
  id: string;
  /** ParentShardId and AdjacentParentShardId, when present (after a split or merge). */
  parents: string[];
  /** The shard has an EndingSequenceNumber: no new records arrive; reading it ends. */
  closed: boolean;
  /** Its SequenceNumberRange, when listed: every record of the shard has a sequence number within it. */
  startingSequenceNumber?: string;
  endingSequenceNumber?: string;
}

/** Where shards without a checkpoint start reading. */
export type StartFrom = { type: "trim-horizon" } | { type: "latest" } | { type: "at-timestamp"; at: Date };

/** A position that means the same whenever it is used again: LATEST is not one (it moves with the stream). */
export type FixedPosition =
  | { type: "TRIM_HORIZON" }
  | { type: "AT_TIMESTAMP"; at: Date }
  | { type: "AFTER_SEQUENCE_NUMBER"; sequenceNumber: string };

export type StartPosition = FixedPosition | { type: "LATEST" };

/** Where a shard's reader starts. */
export interface ShardStart {
  /** Where the first iterator points: LATEST for `--from latest` (exact by the stream's clock, not ours). */
  first: StartPosition;
  /**
   * Where reading starts over while no record of the shard has been written: after an expired iterator, and
   * on a restart (saved in the checkpoint as the shard's `start`). `first`, with LATEST pinned to
   * AT_TIMESTAMP of the moment the run began, so starting over never skips a record written since then.
   */
  origin: FixedPosition;
}

/** Facts about the run that decide where a shard without a saved position starts. */
export interface StartContext {
  /** When the run began: `latest` is pinned to it. */
  startedAt: Date;
  /** The shard was listed by the run's first ListShards. */
  inFirstListing: boolean;
  /**
   * A parent of the shard is read by this subscriber, in this run or before a restart (it has a position):
   * the shard continues a lineage being read, so it is read from its beginning, like a child found mid-run.
   */
  parentRead: boolean;
}

/** Every shard of the stream, following NextToken (a call with NextToken must not name the stream). */
export async function listShards(client: KinesisSender, streamName: string, signal?: AbortSignal): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  for (const shard of await listAllShards(client as ListShardsSender, streamName, signal)) {
    if (!shard.ShardId) continue;
    shards.push({
      id: shard.ShardId,
      parents: [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => Boolean(p)),
      closed: Boolean(shard.SequenceNumberRange?.EndingSequenceNumber),
      startingSequenceNumber: shard.SequenceNumberRange?.StartingSequenceNumber,
      endingSequenceNumber: shard.SequenceNumberRange?.EndingSequenceNumber,
    });
  }
  return shards;
}

/** A sequence number as Kinesis writes them (API pattern `0|([1-9]\d{0,128})`). */
const SEQUENCE_NUMBER = /^(0|[1-9]\d{0,128})$/;

/**
 * Why a saved position cannot be this listed shard's, in words that follow the checkpoint's name; undefined
 * when it fits. A shard saved as read to its end must be closed (an open one would be skipped for good,
 * with every record still to come), and a saved sequence number must lie in the shard's SequenceNumberRange.
 */
export function checkpointMisfit(saved: ShardCheckpoint, shard: ShardInfo): string | undefined {
  if (saved.ended && !shard.closed) {
    return `says shard ${shard.id} was read to its end, but the stream lists it open (no ending sequence number), so its records would be skipped`;
  }
  const seq = saved.sequenceNumber;
  if (seq === undefined) return undefined;
  if (!SEQUENCE_NUMBER.test(seq)) return `gives shard ${shard.id} the sequence number "${seq}", which is not one`;
  if (shard.startingSequenceNumber && SEQUENCE_NUMBER.test(shard.startingSequenceNumber) && BigInt(seq) < BigInt(shard.startingSequenceNumber)) {
    return `gives shard ${shard.id} sequence number ${seq}, before the shard's first (${shard.startingSequenceNumber})`;
  }
  // An end below the shard's start says nothing about the range (kinesis-local reports a closed shard's
  // end as 9223372036854775807, Long.MAX_VALUE, below every sequence number it hands out): no upper check then.
  const rangeKnown =
    shard.endingSequenceNumber !== undefined &&
    SEQUENCE_NUMBER.test(shard.endingSequenceNumber) &&
    !(shard.startingSequenceNumber && SEQUENCE_NUMBER.test(shard.startingSequenceNumber) && BigInt(shard.endingSequenceNumber) < BigInt(shard.startingSequenceNumber));
  if (rangeKnown && BigInt(seq) > BigInt(shard.endingSequenceNumber!)) {
    return `gives shard ${shard.id} sequence number ${seq}, after the shard's last (${shard.endingSequenceNumber})`;
  }
  return undefined;
}

/**
 * Where a shard's reader starts, or "skip" when there is nothing to read. A saved position wins over `from`:
 * after the last record written (AFTER_SEQUENCE_NUMBER), else the saved start of a shard of which no record
 * was written yet; `from` applies only to shards the checkpoint does not name. With `latest`, shards closed
 * before the subscriber started are skipped, and shards that appeared later (children of a reshard, also
 * those found at a restart under a parent that was read) start at TRIM_HORIZON, so no record written after
 * the start is missed.
 */
export function startPosition(
  shard: ShardInfo,
  from: StartFrom,
  checkpoint: ShardCheckpoint | undefined,
  context: StartContext,
): ShardStart | "skip" {
  const fixed = (position: FixedPosition): ShardStart => ({ first: position, origin: position });
  if (checkpoint?.ended) return "skip";
  if (checkpoint?.sequenceNumber) return fixed({ type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: checkpoint.sequenceNumber });
  if (checkpoint?.start) return fixed(fromSavedStart(checkpoint.start));
  switch (from.type) {
    case "trim-horizon":
      return fixed({ type: "TRIM_HORIZON" });
    case "at-timestamp":
      return fixed({ type: "AT_TIMESTAMP", at: from.at });
    case "latest":
      if (!context.inFirstListing || context.parentRead) return fixed({ type: "TRIM_HORIZON" });
      if (shard.closed) return "skip";
      return { first: { type: "LATEST" }, origin: { type: "AT_TIMESTAMP", at: context.startedAt } };
  }
}

/** The checkpoint's form of a start position. */
export function toSavedStart(position: Exclude<FixedPosition, { type: "AFTER_SEQUENCE_NUMBER" }>): SavedStart {
  return position.type === "TRIM_HORIZON" ? "trim-horizon" : { atTimestamp: position.at.toISOString() };
}

export function fromSavedStart(start: SavedStart): FixedPosition {
  return start === "trim-horizon" ? { type: "TRIM_HORIZON" } : { type: "AT_TIMESTAMP", at: new Date(start.atTimestamp) };
}

/**
 * A shard may start once none of its parents is still to be read: a parent blocks while it is listed
 * (or being read) and not finished; parents trimmed from the stream no longer block.
 */
export function parentsFinished(shard: ShardInfo, isPending: (shardId: string) => boolean): boolean {
  return shard.parents.every((parent) => !isPending(parent));
}

export function iteratorInput(streamName: string, shardId: string, position: StartPosition): GetShardIteratorCommandInput {
  const input: GetShardIteratorCommandInput = { StreamName: streamName, ShardId: shardId, ShardIteratorType: position.type };
  if (position.type === "AFTER_SEQUENCE_NUMBER") input.StartingSequenceNumber = position.sequenceNumber;
  if (position.type === "AT_TIMESTAMP") input.Timestamp = position.at;
  return input;
}

export function describePosition(position: StartPosition): string {
  switch (position.type) {
    case "AFTER_SEQUENCE_NUMBER":
      return `after sequence number ${position.sequenceNumber}`;
    case "AT_TIMESTAMP":
      return `AT_TIMESTAMP ${position.at.toISOString()}`;
    default:
      return position.type;
  }
}
