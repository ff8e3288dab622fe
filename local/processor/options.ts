/** What a local processor (local/processor.ts) is given, what it counts, and what it keeps per shard. */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { RouteConfig } from "../../model/config";
import type { Position, ShardCheckpointer } from "../../runtime/consumer/batches";

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
  /**
   * Pause after an empty read, as Lambda's base rate of one poll per second per shard; also the least time
   * between two reads at the tip (never under the engine's 500 ms while behind: 2 of the shard's 5 calls/s).
   * @default the engine's (1000)
   */
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

/** The tumbling window a shard has open, and the state the handler returned for it. */
export interface OpenWindow {
  startMs: number;
  state: Record<string, unknown>;
}

/** What the processor knows of one shard; its checkpoint is `done` with `{ window }` as the shard's state. */
export interface ShardProgress {
  /** The last source record whose processing is done (delivered, filtered out or dead-lettered). */
  done?: Position;
  window?: OpenWindow;
  checkpoint: ShardCheckpointer;
  /** Each record of the batch being processed: its place in the order the shard is read. */
  orders: Map<string, number>;
}
