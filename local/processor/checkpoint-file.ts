/**
 * Where a local processor keeps its place in the source stream: `<dataDir>/processors/<route>/checkpoint.json`,
 * in the subscriber's checkpoint format (runtime/consumer/checkpoint.ts, so `datalake lag --checkpoint` reads
 * it too), each shard's open tumbling window in the shard's `state` beside its position, replaced atomically
 * (runtime/files.ts) on every save.
 *
 * Files of the processor's own earlier format (`{"shards":{id:{sequenceNumber,start:{type},closed,window}}}`,
 * no `version`) load as the same positions and windows; the next save writes the new format. A file that is
 * unreadable, not a checkpoint, or of another stream is set aside for a fresh start from the route's
 * `startAt`, as before: the local lake's state is the user's to reset, and a route must not stop over it.
 */
import * as fs from "fs";
import { writeFileAtomic } from "../../runtime/files";
import { CheckpointStore, parseCheckpoint, SavedStart, ShardCheckpoint, ShardCheckpoints } from "../../runtime/consumer/checkpoint";

/** One shard in the processor's earlier checkpoint format. */
interface LegacyShard {
  sequenceNumber?: string;
  start?: { type: "TRIM_HORIZON" } | { type: "AT_TIMESTAMP"; timestamp: string };
  closed?: boolean;
  window?: { startMs: number; state: Record<string, unknown> };
}

/** The positions of a checkpoint in the processor's earlier format, or undefined when `data` is not one. */
export function fromLegacyCheckpoint(data: unknown): ShardCheckpoints | undefined {
  if (typeof data !== "object" || data === null || "version" in data) return undefined;
  const shards = (data as { shards?: unknown }).shards;
  if (typeof shards !== "object" || shards === null || Array.isArray(shards)) return undefined;
  const out: ShardCheckpoints = {};
  for (const [id, value] of Object.entries(shards as Record<string, LegacyShard>)) {
    if (typeof value !== "object" || value === null) return undefined;
    const entry: ShardCheckpoint = {};
    if (typeof value.sequenceNumber === "string") entry.sequenceNumber = value.sequenceNumber;
    else if (value.start?.type === "TRIM_HORIZON") entry.start = "trim-horizon";
    else if (value.start?.type === "AT_TIMESTAMP") entry.start = { atTimestamp: value.start.timestamp } satisfies SavedStart;
    if (value.closed === true) entry.ended = true;
    if (value.window && !entry.ended) entry.state = { window: value.window };
    out[id] = entry;
  }
  return out;
}

export class ProcessorCheckpointFile implements CheckpointStore {
  readonly description: string;

  constructor(
    private readonly file: string,
    private readonly log: (line: string) => void,
  ) {
    this.description = `processor checkpoint ${file}`;
  }

  async load(stream: string): Promise<ShardCheckpoints> {
    let text: string;
    try {
      text = fs.readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.log(`${this.description} is unreadable (${(err as Error).message}); reading from the route's startAt`);
      return {};
    }
    const current = parseCheckpoint(text);
    if (current) {
      if (current.stream === stream) return current.shards;
      this.log(`${this.description} belongs to stream ${current.stream}, not ${stream}; reading from the route's startAt`);
      return {};
    }
    let legacy: ShardCheckpoints | undefined;
    try {
      legacy = fromLegacyCheckpoint(JSON.parse(text));
    } catch {
      legacy = undefined;
    }
    if (!legacy) this.log(`${this.description} is not a checkpoint; reading from the route's startAt`);
    return legacy ?? {};
  }

  async save(stream: string, shards: ShardCheckpoints): Promise<void> {
    writeFileAtomic(this.file, `${JSON.stringify({ version: 1, stream, shards })}\n`);
  }
}
