/** What a local processor (local/processor.ts) is given, what it counts, and the checkpoint it keeps per shard. */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { RouteConfig } from "../../model/config";

/*
 * Lambda's limits, not Kinesis's (those are model/limits.ts): they stay with the local stand-in for the
 * function, the only code that enforces them.
 */

/**
 * Lambda's payload limit for a synchronous invocation (an event source mapping invokes synchronously): a
 * batch never exceeds it. "For synchronous invocations, the maximum payload size is 6 MB."
 * https://docs.aws.amazon.com/lambda/latest/dg/API_Invoke.html
 */
export const INVOKE_PAYLOAD_LIMIT = 6 * 1024 * 1024;
/**
 * The most state a tumbling window may carry per shard before Lambda ends the window early ("Your state can
 * be a maximum of 1 MB per shard"). https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html
 */
export const WINDOW_STATE_LIMIT = 1024 * 1024;

export interface LocalProcessorOptions {
  route: RouteConfig;
  client: KinesisClient;
  sourceStream: string;
  targetStream: string;
  /** The source stream's ARN, as events carry it. */
  sourceStreamArn: string;
  /** The lake's folder: state goes to `<dataDir>/processors/<route>/`. */
  dataDir: string;
  /** Region put in events. @default "us-east-1" */
  region?: string;
  /** Account of the role ARN put in events. @default "000000000000" */
  accountId?: string;
  /** Pause after an empty read, as Lambda's base rate of one poll per second per shard. @default 1000 */
  idlePollMs?: number;
  /** Receives one line per notable event. @default discard */
  log?: (line: string) => void;
  /** The clock (for windows and record age). @default Date.now */
  now?: () => number;
}

export interface ProcessorStats {
  /** Records read from the source. */
  seen: number;
  /** Records handed to the handler (after the filter). */
  invoked: number;
  /** Records written to the target (window results for aggregating routes). */
  forwarded: number;
  /** Records given up on (in the dead-letter file). */
  failed: number;
}

export interface ShardCheckpoint {
  /** Last source record whose processing is done (delivered, filtered out or dead-lettered). */
  sequenceNumber?: string;
  /** Where a shard without a sequence number starts (set at the first start, so a restart keeps it). */
  start?: { type: "TRIM_HORIZON" } | { type: "AT_TIMESTAMP"; timestamp: string };
  closed?: boolean;
  /** The open tumbling window and the state the handler returned for it. */
  window?: { startMs: number; state: Record<string, unknown> };
}

export interface Checkpoint {
  shards: Record<string, ShardCheckpoint>;
}
