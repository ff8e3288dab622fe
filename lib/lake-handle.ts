/**
 * What the lake's methods (lake-consume.ts, replay.ts) need of an open lake, apart from lake.ts so that
 * they do not import the class that calls them.
 */
import type { CatalogEntry } from "../runtime/catalog";
import type { DeadlineKinesisClient } from "../runtime/client";
import type { StreamIdentity } from "../runtime/streams";

/** Settings every method of a lake shares. */
export interface LakeContext {
  endpoint?: string;
  region: string;
  callTimeoutMs: number;
  log: (line: string) => void;
}

/** A segment resolved: its catalog entry and its stream's identity. */
export interface ResolvedSegment {
  address: string;
  entry: CatalogEntry;
  streamName: string;
  identity?: StreamIdentity;
}

export interface LakeHandle {
  /** The Kinesis client every method uses. */
  readonly client: DeadlineKinesisClient;
  readonly context: LakeContext;
  /** Resolves a segment address through the catalog (and checks that its stream exists). */
  segment(address: string): Promise<ResolvedSegment>;
}
