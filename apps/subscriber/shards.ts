/**
 * Shards of a stream: listing them, where a reader starts, and when a child may start (after its parents).
 * Pure except for listShards, so the rules are testable without a stream.
 */
import { GetShardIteratorCommandInput, ListShardsCommand, ListShardsCommandOutput } from "@aws-sdk/client-kinesis";
import { ShardCheckpoint } from "./checkpoint";

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
}

/** Where shards without a checkpoint start reading. */
export type StartFrom = { type: "trim-horizon" } | { type: "latest" } | { type: "at-timestamp"; at: Date };

export type StartPosition =
  | { type: "TRIM_HORIZON" }
  | { type: "LATEST" }
  | { type: "AT_TIMESTAMP"; at: Date }
  | { type: "AFTER_SEQUENCE_NUMBER"; sequenceNumber: string };

/** Every shard of the stream, following NextToken (a call with NextToken must not name the stream). */
export async function listShards(client: KinesisSender, streamName: string, signal?: AbortSignal): Promise<ShardInfo[]> {
  const shards: ShardInfo[] = [];
  let nextToken: string | undefined;
  do {
    const out: ListShardsCommandOutput = await client.send(
      new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }),
      { abortSignal: signal },
    );
    for (const shard of out.Shards ?? []) {
      if (!shard.ShardId) continue;
      shards.push({
        id: shard.ShardId,
        parents: [shard.ParentShardId, shard.AdjacentParentShardId].filter((p): p is string => Boolean(p)),
        closed: Boolean(shard.SequenceNumberRange?.EndingSequenceNumber),
      });
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return shards;
}

/**
 * Where a shard's reader starts, or "skip" when there is nothing to read: a checkpoint wins over `from`;
 * with `latest`, shards closed before the subscriber started are skipped, and shards that appear later
 * (children of a reshard) start at TRIM_HORIZON so no record written after the start is missed.
 */
export function startPosition(
  shard: ShardInfo,
  from: StartFrom,
  checkpoint: ShardCheckpoint | undefined,
  inFirstListing: boolean,
): StartPosition | "skip" {
  if (checkpoint?.ended) return "skip";
  if (checkpoint?.sequenceNumber) return { type: "AFTER_SEQUENCE_NUMBER", sequenceNumber: checkpoint.sequenceNumber };
  switch (from.type) {
    case "trim-horizon":
      return { type: "TRIM_HORIZON" };
    case "at-timestamp":
      return { type: "AT_TIMESTAMP", at: from.at };
    case "latest":
      if (!inFirstListing) return { type: "TRIM_HORIZON" };
      return shard.closed ? "skip" : { type: "LATEST" };
  }
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
      return `at ${position.at.toISOString()}`;
    default:
      return position.type;
  }
}
