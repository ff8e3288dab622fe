/**
 * How often one polling reader calls GetRecords on a shard: the one budget every reader of the runtime
 * keeps (the subscriber, the local wire-tap, the local stand-in for Lambda's event source mapping, lag).
 * A shard serves SHARD_READ_CALLS_PER_SECOND (5) GetRecords calls per second to all its polling readers
 * together, so each takes 2 while behind and 1 at the tip, leaving room for the others.
 */
import { SHARD_READ_CALLS_PER_SECOND } from "../../model/limits";

/** Least time between two GetRecords calls of one reader on one shard while it is behind: 2 of the 5 calls/s. */
export const READ_INTERVAL_BEHIND_MS = Math.ceil(1000 / SHARD_READ_CALLS_PER_SECOND) * 2.5;
/** Least time between two calls at the shard's tip (caught up): 1 call/s. */
export const READ_INTERVAL_AT_TIP_MS = 1000;
