/** What starting the local Kinesis emulator (local/kinesis.ts) takes and returns, and the files it keeps under `persistDir`. */

export interface LocalKinesisOptions {
  /** Folder where the emulator persists its streams between runs. @default none: in memory only */
  persistDir?: string;
  /** How long to wait for the emulator to answer, in ms. @default 60000 */
  startTimeoutMs?: number;
  /** Receives the emulator's own output lines. @default discard */
  log?: (line: string) => void;
  /** Receives the one line saying what a start had to drop to recover. @default a line on stderr */
  warn?: (line: string) => void;
  /** Least time between two snapshots of the state, in ms (what a snapshot lacks is in the write-ahead log). @default 1000 */
  snapshotMinIntervalMs?: number;
  /** Port of the front door on 127.0.0.1 (the address clients use). @default 0: a free port */
  port?: number;
  /** Receives progress lines (what a start put back or dropped). @default discard */
  info?: (line: string) => void;
}

export interface LocalKinesis {
  /** `http://127.0.0.1:<port>` (plain HTTP/1.1): the front door. */
  readonly endpoint: string;
  /** The front door's port. */
  readonly port: number;
  /** The TCP ports listened on (the front door, the emulator's plain HTTP and TLS), all on 127.0.0.1 only. */
  readonly ports: number[];
  /** The emulator's process id (it leads its own process group). */
  readonly pid: number;
  /** Writes a last snapshot (when persisting), stops the emulator and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** The state file kinesis-local writes under `persistDir` (its PERSIST_FILE_NAME default). */
export const STATE_FILE_NAME = "kinesis-data.json";
/** Records the running emulator's pid under `persistDir`, so a later start can end an orphan. */
export const PID_FILE_NAME = "emulator.pid";
/** How often the emulator's persist loop looks whether a snapshot is due. */
export const PERSIST_POLL = "200ms";
/** Longest wait for the last snapshot at stop. */
export const FLUSH_TIMEOUT_MS = 60_000;
/** How often the write-ahead log moves to a new file, so that the files a snapshot holds can be deleted. */
export const WAL_ROTATE_MS = 10_000;
/** The write-ahead log's folder under `persistDir`. */
export const WAL_DIR_NAME = "wal";
