/**
 * What a start of the local lake does to the emulator's saved state before kinesis-local loads it:
 *
 * 1. Puts back every acknowledged record the last snapshot lacks, from the write-ahead log
 *    (`local/write-ahead-log.ts`), under its original shard and sequence number: no acknowledged write is
 *    lost and no sequence number is ever handed out twice, so a reader's checkpoint stays valid.
 * 2. Drops records older than their stream's retention period, as Kinesis does (24 hours by default), so
 *    the state stays bounded by retention x rate however long the lake is used.
 * 3. Records, per shard, the highest sequence index it ever handed out (`seq-floors.json`), which the shim
 *    reads so that new sequence numbers continue above it even when retention emptied the shard.
 *
 * The state file is kinesis-local's own JSON (`{"streams": {<arn>: {..., "shards": {<shard JSON>: [records]}}}}`).
 */
import * as fs from "fs";
import * as path from "path";
import { fsyncDir, writeFileAtomic } from "../runtime/files";
import { logFiles, LoggedRecord, readLog } from "./write-ahead-log";

/** Highest sequence index handed out, per shard (keyed by the shard's starting sequence number). */
export const FLOORS_FILE_NAME = "seq-floors.json";

const POW_2_124 = 2n ** 124n;

/**
 * The sequence index inside a kinesis-local sequence number (hex digits 11-26, the layout kinesalite
 * worked out from the live service): the position of the record in its shard.
 */
export function sequenceIndex(sequenceNumber: string): number {
  let n = BigInt(sequenceNumber);
  if (n < POW_2_124) n += POW_2_124;
  return Number(BigInt(`0x${n.toString(16).slice(11, 27)}`));
}

interface StateRecord {
  ApproximateArrivalTimestamp: number;
  Data: string;
  EncryptionType: string;
  PartitionKey: string;
  SequenceNumber: string;
}

interface StateStream {
  streamName: string;
  streamArn: string;
  encryptionType?: string;
  retentionPeriod?: { length: number; unit: string };
  shards: Record<string, StateRecord[]>;
}

interface State {
  streams: Record<string, StateStream>;
}

export interface StateRepair {
  /** Acknowledged records put back from the log. */
  restored: number;
  /** Records dropped because they were older than their stream's retention. */
  expired: number;
  /** Streams and consumers a kill left CREATING, UPDATING or DELETING, finished as AWS would. */
  finished: number;
  /** Logged records whose stream or shard the snapshot does not have (kept aside, named in `warnings`). */
  unplaced: number;
  /** Lines of the log a kill cut short (never acknowledged). */
  torn: number;
  /** Lines for the user: what could not be recovered. */
  warnings: string[];
  /** The shards the state file now holds, as `<stream arn> <shard id>` (the front door flushes before acknowledging a write to any other). */
  durableShards: Set<string>;
  /** Per stream name: its retention and its oldest record's arrival after the repair (the front door's view of retention). */
  streams: Map<string, { retentionHours: number; oldestMs?: number }>;
}

function retentionMs(stream: StateStream): number {
  const p = stream.retentionPeriod;
  if (!p || typeof p.length !== "number") return 24 * 3600_000;
  const unit = String(p.unit).toUpperCase();
  const factor = unit.startsWith("DAY") ? 86_400_000 : unit.startsWith("MINUTE") ? 60_000 : unit.startsWith("SECOND") ? 1000 : 3_600_000;
  return p.length * factor;
}

function shardIdOfKey(key: string): { shardId: string; start: string } | undefined {
  try {
    const shard = JSON.parse(key) as { ShardId?: string; SequenceNumberRange?: { StartingSequenceNumber?: string } };
    if (!shard.ShardId || !shard.SequenceNumberRange?.StartingSequenceNumber) return undefined;
    return { shardId: shard.ShardId, start: shard.SequenceNumberRange.StartingSequenceNumber };
  } catch {
    return undefined;
  }
}

function readFloors(file: string): Record<string, number> {
  try {
    const floors = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, number>;
    return floors && typeof floors === "object" ? floors : {};
  } catch {
    return {};
  }
}


/**
 * Repairs the state in `persistDir` (the snapshot `stateFile` and the log in `walDir`) before a start.
 * Afterwards the state file holds every acknowledged record within retention and the log is empty.
 */
export function repairState(stateFile: string, walDir: string, now: number = Date.now()): StateRepair {
  const persistDir = path.dirname(stateFile);
  const files = logFiles(walDir);
  const { records, torn } = readLog(files.map((f) => f.file));
  const repair: StateRepair = { restored: 0, expired: 0, finished: 0, unplaced: 0, torn, warnings: [], durableShards: new Set(), streams: new Map() };
  let text: string | undefined;
  try {
    text = fs.readFileSync(stateFile, "utf8");
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    if (records.length > 0) setAsideLog(walDir, files, records.length, "there is no saved state to put them into", repair);
    return repair;
  }
  const state = JSON.parse(text) as State;
  const floorsFile = path.join(persistDir, FLOORS_FILE_NAME);
  const floors = readFloors(floorsFile);
  let changed = false;

  // Where each logged record goes: its stream (by ARN, else by name) and shard.
  const byArn = new Map<string, StateStream>();
  const byName = new Map<string, StateStream[]>();
  for (const stream of Object.values(state.streams ?? {})) {
    byArn.set(stream.streamArn, stream);
    byName.set(stream.streamName, [...(byName.get(stream.streamName) ?? []), stream]);
  }
  const shardKeys = new Map<StateStream, Map<string, string>>();
  const keysOf = (stream: StateStream) => {
    let keys = shardKeys.get(stream);
    if (!keys) {
      keys = new Map();
      for (const key of Object.keys(stream.shards ?? {})) {
        const id = shardIdOfKey(key);
        if (id) keys.set(id.shardId, key);
      }
      shardKeys.set(stream, keys);
    }
    return keys;
  };
  const missing = new Map<string, LoggedRecord[]>();
  const unplaced: LoggedRecord[] = [];
  for (const r of records) {
    const stream = byArn.get(r.stream) ?? (byName.get(r.stream.slice(r.stream.lastIndexOf("/") + 1))?.length === 1 ? byName.get(r.stream.slice(r.stream.lastIndexOf("/") + 1))![0] : undefined);
    const key = stream && keysOf(stream).get(r.shardId);
    if (!stream || !key) {
      unplaced.push(r);
      continue;
    }
    const list = stream.shards[key];
    const last = list.length ? BigInt(list[list.length - 1].SequenceNumber) : -1n;
    if (BigInt(r.sequenceNumber) <= last) continue; // the snapshot has it (a snapshot holds every record before its newest)
    const id = `${stream.streamArn}\n${key}`;
    missing.set(id, [...(missing.get(id) ?? []), r]);
  }
  for (const [id, list] of missing) {
    const [arn, key] = id.split("\n");
    const stream = byArn.get(arn)!;
    const seen = new Set<string>();
    const sorted = list
      .filter((r) => (seen.has(r.sequenceNumber) ? false : (seen.add(r.sequenceNumber), true)))
      .sort((a, b) => (BigInt(a.sequenceNumber) < BigInt(b.sequenceNumber) ? -1 : 1));
    for (const r of sorted) {
      stream.shards[key].push({
        ApproximateArrivalTimestamp: r.arrivalMs / 1000,
        Data: r.data,
        EncryptionType: stream.encryptionType ?? "NONE",
        PartitionKey: r.partitionKey,
        SequenceNumber: r.sequenceNumber,
      });
      repair.restored += 1;
    }
    changed = true;
  }

  // A kill between a stream's or consumer's creation and kinesis-local's timer that makes it ACTIVE leaves it
  // CREATING in the snapshot, and nothing moves it on after a start: every later start would wait for it
  // in vain. AWS finishes what it accepted, so a start does: CREATING or UPDATING becomes ACTIVE, and what
  // was DELETING is gone.
  for (const [arn, stream] of Object.entries(state.streams ?? {})) {
    const status = (stream as { streamStatus?: string }).streamStatus;
    if (status === "DELETING") {
      delete state.streams[arn];
      repair.finished += 1;
      changed = true;
      continue;
    }
    if (status === "CREATING" || status === "UPDATING") {
      (stream as { streamStatus?: string }).streamStatus = "ACTIVE";
      repair.finished += 1;
      changed = true;
    }
    const consumers = (stream as { consumers?: Record<string, { ConsumerStatus?: string }> }).consumers ?? {};
    for (const [name, consumer] of Object.entries(consumers)) {
      if (consumer.ConsumerStatus === "DELETING") {
        delete consumers[name];
        repair.finished += 1;
        changed = true;
      } else if (consumer.ConsumerStatus === "CREATING") {
        consumer.ConsumerStatus = "ACTIVE";
        repair.finished += 1;
        changed = true;
      }
    }
  }

  // Retention, and the floors that keep sequence numbers rising past what it drops.
  for (const stream of Object.values(state.streams ?? {})) {
    const cutoff = (now - retentionMs(stream)) / 1000;
    let oldest = Infinity;
    for (const [key, list] of Object.entries(stream.shards ?? {})) {
      const id = shardIdOfKey(key);
      if (id) repair.durableShards.add(`${stream.streamArn} ${id.shardId}`);
      if (list.length === 0) continue;
      if (id) {
        const top = sequenceIndex(list[list.length - 1].SequenceNumber);
        if (!(floors[id.start] >= top)) {
          floors[id.start] = top;
          changed = true;
        }
      }
      if (list[0].ApproximateArrivalTimestamp >= cutoff) continue;
      const keep = list.findIndex((r) => r.ApproximateArrivalTimestamp >= cutoff);
      const dropped = keep < 0 ? list.length : keep;
      stream.shards[key] = keep < 0 ? [] : list.slice(keep);
      repair.expired += dropped;
      changed = true;
    }
    for (const list of Object.values(stream.shards ?? {})) if (list.length) oldest = Math.min(oldest, list[0].ApproximateArrivalTimestamp * 1000);
    repair.streams.set(stream.streamName, { retentionHours: retentionMs(stream) / 3600_000, oldestMs: Number.isFinite(oldest) ? oldest : undefined });
  }

  if (unplaced.length > 0) setAsideLog(walDir, [], unplaced.length, "the saved state has no such stream or shard", repair, unplaced);
  if (changed) {
    writeFileAtomic(floorsFile, JSON.stringify(floors));
    // The snapshot before this repair stays as .prev, like the emulator's own snapshots.
    const prev = `${stateFile}.prev`;
    fs.rmSync(`${prev}.tmp-${process.pid}`, { force: true });
    fs.linkSync(stateFile, `${prev}.tmp-${process.pid}`);
    fs.renameSync(`${prev}.tmp-${process.pid}`, prev);
    writeFileAtomic(stateFile, JSON.stringify(state));
  }
  for (const { file } of files) fs.rmSync(file, { force: true });
  fsyncDir(walDir);
  return repair;
}

/** Keeps records that cannot be put back in a file of their own, and says so. */
function setAsideLog(walDir: string, files: { file: string }[], count: number, why: string, repair: StateRepair, records?: LoggedRecord[]): void {
  const aside = path.join(walDir, `unplaced-${new Date().toISOString().replace(/[:.]/g, "-")}.ndjson`);
  if (records) fs.writeFileSync(aside, records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  else fs.writeFileSync(aside, files.map((f) => fs.readFileSync(f.file, "utf8")).join(""));
  for (const { file } of files) fs.rmSync(file, { force: true });
  repair.unplaced += count;
  repair.warnings.push(`local lake: ${count} acknowledged records in the write-ahead log could not be put back (${why}); they are kept in ${aside}`);
}
