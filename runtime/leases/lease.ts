/**
 * One row of a consumer group's lease table: one shard, who holds it, and how far it has been read.
 * Attribute names and types are KCL's (software.amazon.kinesis.leases.dynamodb.DynamoDBLeaseSerializer),
 * so a team reads the table with the tools they know: `leaseKey` (S, the shard id, the partition key),
 * `leaseOwner` (S, absent when nobody holds it), `leaseCounter` (N), `checkpoint` (S: a sequence number or
 * one of the sentinels below), `checkpointSubSequenceNumber` (N), `ownerSwitchesSinceCheckpoint` (N) and
 * `parentShardId` (SS, absent for a shard without parents). docs/consumer-groups.md lists where the
 * table differs from KCL's (`checkpointTimestamp` and `handoverRequestedBy` are not KCL's).
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { LEASE_KEY } from "../../model/groups";

/** The checkpoint of a shard read to its end: its children may be leased. */
export const SHARD_END = "SHARD_END";
/** The checkpoint of a shard nobody has read yet, to be read from its oldest record. */
export const TRIM_HORIZON = "TRIM_HORIZON";
/** The checkpoint of a shard nobody has read yet, to be read from records arriving after the first read. */
export const LATEST = "LATEST";

/**
 * The checkpoint of a shard whose first reader started at LATEST and has written no record yet: read from
 * records that arrived at or after `checkpointTimestamp`. KCL's sentinel; KCL takes the time from the
 * worker's configuration, this table keeps it in the row, so that any later owner starts where the first did.
 */
export const AT_TIMESTAMP = "AT_TIMESTAMP";

export type InitialPosition = typeof TRIM_HORIZON | typeof LATEST;

export const ATTRIBUTES = {
  key: LEASE_KEY,
  owner: "leaseOwner",
  counter: "leaseCounter",
  checkpoint: "checkpoint",
  subSequence: "checkpointSubSequenceNumber",
  ownerSwitches: "ownerSwitchesSinceCheckpoint",
  parents: "parentShardId",
  /** Not KCL's: with checkpoint AT_TIMESTAMP, the time (N, milliseconds since the epoch). */
  timestamp: "checkpointTimestamp",
  /** Not KCL's: a worker below its share asks the owner to hand the lease over (balance.ts). */
  handover: "handoverRequestedBy",
} as const;

export interface Lease {
  /** The shard id. */
  leaseKey: string;
  /** The worker holding the lease; undefined when nobody does. */
  leaseOwner: string | undefined;
  /** Raised by every write: a writer that expects an older value has lost the lease (fencing). */
  leaseCounter: number;
  /**
   * The last checkpointed sequence number, or `TRIM_HORIZON` / `LATEST` before the first (`AT_TIMESTAMP` once
   * a reader started at LATEST: the start pinned), or `SHARD_END`.
   */
  checkpoint: string;
  /** With checkpoint `AT_TIMESTAMP`: milliseconds since the epoch; undefined otherwise. */
  checkpointTimestamp?: number;
  /** Position inside a KPL aggregate at `checkpoint` (0 for a plain record). */
  checkpointSubSequenceNumber: number;
  /** Owner changes since the last checkpoint: each one may replay the records after `checkpoint`. */
  ownerSwitchesSinceCheckpoint: number;
  /** The shard's parents (one, or two after a merge); empty for a shard the stream started with. */
  parentShardIds: string[];
  /** The worker that asked the owner to hand this lease over gracefully (a steal); undefined when none did. */
  handoverRequestedBy?: string;
}

const s = (v: string): AttributeValue => ({ S: v });
const n = (v: number): AttributeValue => ({ N: String(v) });

/** The lease as a DynamoDB item. */
export function toItem(lease: Lease): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {
    [ATTRIBUTES.key]: s(lease.leaseKey),
    [ATTRIBUTES.counter]: n(lease.leaseCounter),
    [ATTRIBUTES.checkpoint]: s(lease.checkpoint),
    [ATTRIBUTES.subSequence]: n(lease.checkpointSubSequenceNumber),
    [ATTRIBUTES.ownerSwitches]: n(lease.ownerSwitchesSinceCheckpoint),
  };
  if (lease.leaseOwner !== undefined) item[ATTRIBUTES.owner] = s(lease.leaseOwner);
  // A string set may not be empty: a shard without parents has no parentShardId, as in KCL.
  if (lease.parentShardIds.length > 0) item[ATTRIBUTES.parents] = { SS: [...lease.parentShardIds] };
  if (lease.handoverRequestedBy !== undefined) item[ATTRIBUTES.handover] = s(lease.handoverRequestedBy);
  if (lease.checkpointTimestamp !== undefined) item[ATTRIBUTES.timestamp] = n(lease.checkpointTimestamp);
  return item;
}

const num = (v: AttributeValue | undefined): number => (v && "N" in v && v.N !== undefined ? Number(v.N) : 0);

/** A DynamoDB item as a lease; throws when it has no `leaseKey` (not a lease row). */
export function fromItem(item: Record<string, AttributeValue>): Lease {
  const key = item[ATTRIBUTES.key]?.S;
  if (key === undefined) throw new Error(`a row of the lease table has no ${ATTRIBUTES.key} string`);
  return {
    leaseKey: key,
    leaseOwner: item[ATTRIBUTES.owner]?.S,
    leaseCounter: num(item[ATTRIBUTES.counter]),
    checkpoint: item[ATTRIBUTES.checkpoint]?.S ?? TRIM_HORIZON,
    checkpointSubSequenceNumber: num(item[ATTRIBUTES.subSequence]),
    ownerSwitchesSinceCheckpoint: num(item[ATTRIBUTES.ownerSwitches]),
    parentShardIds: [...(item[ATTRIBUTES.parents]?.SS ?? [])].sort(),
    ...(item[ATTRIBUTES.handover]?.S !== undefined ? { handoverRequestedBy: item[ATTRIBUTES.handover].S } : {}),
    ...(item[ATTRIBUTES.timestamp]?.N !== undefined ? { checkpointTimestamp: num(item[ATTRIBUTES.timestamp]) } : {}),
  };
}

/** A new, unheld lease for a shard, read from `initial` (children start at their beginning). */
export function newLease(shardId: string, parentShardIds: string[], initial: InitialPosition): Lease {
  return {
    leaseKey: shardId,
    leaseOwner: undefined,
    leaseCounter: 0,
    checkpoint: initial,
    checkpointSubSequenceNumber: 0,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds: [...parentShardIds].sort(),
  };
}
