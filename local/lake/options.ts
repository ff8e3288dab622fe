/** What starting the embedded local lake (local/lake.ts) takes and returns, and where a bucket's folder is. */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import * as path from "path";
import { LakeConfig } from "../../model/config";
import type { Catalog } from "../../model/catalog";
import { LocalKinesis } from "../kinesis";
import { LocalFirehose } from "../firehose";
import { LocalReplication } from "../replication";
import { LocalProcessor } from "../processor";
import { LocalDynamoDb } from "../dynamodb";

export interface LocalLakeOptions {
  /** Stack whose topology to use. @default DATALAKE_STACK, then "dev" */
  stack?: string;
  /** The topology itself, instead of reading `Pulumi.<stack>.yaml` (tests, tools). @default read from the stack file */
  config?: LakeConfig;
  /** Folder for the lake's state (streams, wire-tap objects). @default DATALAKE_LOCAL_DIR, then "<project>/.datalake/local/<stack>" */
  dataDir?: string;
  /**
   * Port of the lake's Kinesis endpoint on 127.0.0.1. @default the port this folder's lake used last (kept
   * in `<dataDir>/port`, so pasted exports stay valid across restarts), else a free one
   */
  port?: number;
  /** Region the lake answers as (its streams' ARNs). @default the stack's `aws:region`, else us-east-1 */
  region?: string;
  /** Keep stream contents between runs. @default true */
  persist?: boolean;
  /**
   * Which local services to run: `"all"` (streams, wire-taps, routes: `npm run local-lake` and the demo) or
   * `"streams"` (an app that starts the embedded lake for itself only needs its streams). @default "streams"
   */
  services?: "all" | "streams";
  /**
   * Deliver wire-tap objects at least this often (seconds), whatever a segment's `bufferSeconds` says. Firehose
   * treats buffering hints as hints; this only makes objects appear sooner (tests, a first look). @default the segment's hints
   */
  wireTapMaxSeconds?: number;
  /** Who holds the lake, for the message another process gets. @default "another app" */
  holder?: string;
  /** Receives progress lines. @default discard */
  log?: (line: string) => void;
  /** Receives warnings (state that had to be dropped, a wire-tap or route that stopped). @default a line on stderr */
  warn?: (line: string) => void;
}

/** One running local stand-in for an AWS service. */
export interface LocalService {
  /** The AWS service it stands in for, e.g. "Amazon Data Firehose". */
  readonly aws: string;
  /** What runs, e.g. "3 wire-taps". */
  readonly description: string;
  stop(): Promise<void>;
}

export interface LocalLake {
  endpoint: string;
  /** The region the lake's streams are in (the stack's `aws:region`). */
  region: string;
  client: KinesisClient;
  config: LakeConfig;
  catalog: Catalog;
  /** `Pulumi.<stack>.yaml` the topology came from. */
  stackFile: string;
  dataDir: string;
  /** The running local services, in start order. */
  services: LocalService[];
  /** The wire-taps by segment address (with `services: "all"`). */
  wireTaps: Map<string, LocalFirehose>;
  /** The routes (with `services: "all"`). */
  routes: LocalProcessor[];
  /** The backed-up segments' replication into their replica folders, by segment address (with `services: "all"`). */
  replications: Map<string, LocalReplication>;
  /** The emulator (its ports, its pid). */
  kinesis: LocalKinesis;
  /** The DynamoDB stand-in holding the consumer groups' lease tables; undefined when no group is declared. */
  dynamodb: LocalDynamoDb | undefined;
  /** Records the lake's endpoint, catalog file and export lines in its lock, for the message another process gets. */
  advertise(info: { catalogFile: string; exports: string[] }): void;
  /**
   * Settles with the first error that stopped a wire-tap or a route for good (a refused position, a state it
   * cannot read): whoever runs the lake stops it then, non-zero, rather than run on with a part stalled.
   */
  failed: Promise<Error>;
  /** Stops every service, last started first. Safe to call twice. */
  stop(): Promise<void>;
}

/** Local folder standing in for an S3 bucket (a catalog entry's `bucketName`). */
export function localBucketDir(dataDir: string, bucketName: string): string {
  return path.join(dataDir, "s3", bucketName);
}
