/**
 * Preloaded into kinesis-local (`node -r local/kinesis-shim.js main.js`) by local/kinesis.ts. Plain
 * JavaScript because it runs inside the emulator's own Node process, before its code. It fixes what
 * kinesis-local 0.6.x cannot be configured to do:
 *
 * 1. Loopback only: the emulator calls `server.listen(port)` without a host (every interface). Every
 *    listen without a host, or on a wildcard address, is bound to 127.0.0.1 instead.
 * 2. Crash-safe state: the emulator rewrites its whole state file by truncating it and writing it again
 *    (a kill at the wrong moment leaves 0 bytes, and every later start fails). Writes to the state file
 *    go to a temp file instead, which is fsynced and renamed over the state file (atomic on POSIX); the
 *    previous snapshot is kept beside it as `<file>.prev` (a hard link, no copy).
 * 3. Persistence that does not cost more as the state grows: the emulator serialises its whole state on
 *    every interval, even when nothing changed. A snapshot is skipped when the state object is the one
 *    last written (the emulator's state is immutable, so identity means unchanged), and the next one
 *    waits at least DATALAKE_PERSIST_MIN_MS and at least 10x the time the last one took to serialise, so
 *    snapshots never take more than about a tenth of the emulator's time however large the state is;
 *    except that a state which stopped changing for a second is written at once (the emulator is idle).
 * 4. PutRecords that does not slow down as a shard fills: it grouped a request's records by a key that
 *    holds the shard's entire record list, hashing every stored record of the shard once per record put.
 *    The key is hashed by the shard alone (equality is unchanged).
 * 5. Lifetime: the emulator runs in its own process group (Ctrl-C in the terminal does not reach it) and
 *    exits as soon as the process that started it is gone (its IPC channel closes, or it is re-parented),
 *    so a killed app never
 *    leaves an orphan writing the state. `{type:"mark", id, force}` on the IPC channel asks to hear
 *    (`{type:"covered", id}`) when a snapshot holding everything acknowledged before it is on disk.
 * 6. Sequence numbers that never go back: the emulator numbers a shard's records by the length of its
 *    record list, so records dropped (retention) or never snapshotted would make it hand out a number
 *    twice. It numbers them after the highest index the shard ever had instead: the last record's, or the
 *    floor that local/kinesis-state.ts recorded in DATALAKE_SEQ_FLOORS when retention emptied the shard.
 *
 * Source patches are exact string replacements; if kinesis-local changes and one no longer matches, the
 * emulator exits at once with a message naming it (instead of running unfixed).
 */
"use strict";
const fs = require("fs");
const net = require("net");
const path = require("path");
const Module = require("module");

const MAIN = process.env.DATALAKE_KINESIS_MAIN;
const STATE_FILE = process.env.DATALAKE_STATE_FILE ? path.resolve(process.env.DATALAKE_STATE_FILE) : undefined;
const MIN_INTERVAL_MS = Number(process.env.DATALAKE_PERSIST_MIN_MS || 1000);
/** Snapshots may take at most 1/COST_FACTOR of the emulator's time while the state keeps changing. */
const COST_FACTOR = 10;
/** A state unchanged this long is written at once, whatever the cost rule says. */
const QUIET_MS = Number(process.env.DATALAKE_PERSIST_QUIET_MS || 1000);

function fatal(message) {
  process.stderr.write(`datalake kinesis shim: ${message}\n`);
  process.exit(70);
}

// 1. Loopback only.
const WILDCARDS = new Set(["0.0.0.0", "::", "", "[::]", "0:0:0:0:0:0:0:0"]);
const LOOPBACK = "127.0.0.1";
const originalListen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenOnLoopback(...args) {
  const first = args[0];
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (args.length === 1 || typeof args[1] === "function" || args[1] === undefined || args[1] === null) {
      args.splice(1, args[1] === undefined || args[1] === null ? 1 : 0, LOOPBACK);
    } else if (typeof args[1] === "string" && WILDCARDS.has(args[1])) {
      args[1] = LOOPBACK;
    } else if (typeof args[1] === "number") {
      args.splice(1, 0, LOOPBACK); // listen(port, backlog, cb)
    }
  } else if (first && typeof first === "object" && first.port !== undefined && first.path === undefined && first.fd === undefined) {
    if (first.host === undefined || WILDCARDS.has(String(first.host))) args[0] = { ...first, host: LOOPBACK };
  }
  return originalListen.apply(this, args);
};

// 3. Snapshot scheduling, driven from the patched persist function. The parent asks, by id, to hear when
// a snapshot holds everything acknowledged before its request: `{type:"mark", id, force}` (force: write one
// now). A snapshot begun after a request answers `{type:"covered", id}` with the newest id it covers once
// it is on disk (or `{type:"snapshot-failed", id, error}`); an unchanged state answers at once.
const persist = {
  lastWritten: undefined,
  lastSeen: undefined,
  lastChangeAt: 0,
  pending: undefined,
  startedAt: 0,
  serializeMs: 0,
  nextAllowed: 0,
  /** Newest mark requested, and whether one asked for a snapshot now. */
  requested: 0,
  force: false,
  /** Newest mark the snapshot being written covers. */
  pendingCovers: 0,
  /** Called with the state about to be serialised; false skips this round. */
  begin(streams) {
    if (streams === this.lastWritten) {
      this.force = false;
      this.answer("covered", this.requested);
      return false;
    }
    const now = Date.now();
    if (streams !== this.lastSeen) {
      this.lastSeen = streams;
      this.lastChangeAt = now;
    }
    // Due by the cost rule, or the state has been still for a moment (a burst ended: the emulator is idle,
    // so a snapshot now costs nobody anything and shortens what a crash could lose).
    const quiet = now - this.lastChangeAt >= QUIET_MS;
    if (!this.force && now < this.nextAllowed && !quiet) return false;
    this.pending = streams;
    // Only a snapshot begun after a request holds everything acknowledged before it.
    this.pendingCovers = this.requested;
    this.force = false;
    this.startedAt = Date.now();
    return true;
  },
  serialized() {
    this.serializeMs = Date.now() - this.startedAt;
  },
  written(bytes) {
    this.lastWritten = this.pending;
    this.nextAllowed = Date.now() + Math.max(MIN_INTERVAL_MS, COST_FACTOR * this.serializeMs);
    if (process.env.DATALAKE_PERSIST_LOG) {
      process.stderr.write(`datalake snapshot: ${bytes} bytes, serialised in ${this.serializeMs} ms, next one in ${this.nextAllowed - Date.now()} ms at the earliest\n`);
    }
    this.answer("covered", this.pendingCovers);
    if (this.force) this.nextAllowed = 0; // a forced request came while this one was written: write again now
  },
  failed(err) {
    this.nextAllowed = Date.now() + MIN_INTERVAL_MS;
    this.answer("snapshot-failed", this.pendingCovers, String((err && err.message) || err));
  },
  answer(type, id, error) {
    if (id > 0 && process.connected) process.send({ type, id, error });
  },
};
globalThis.__datalakePersist = persist;

// 2. Atomic state writes: fs2 opens the state file with createWriteStream(path, {flags: "w"}).
const { Writable } = require("stream");
const originalCreateWriteStream = fs.createWriteStream;
fs.createWriteStream = function createWriteStream(file, options) {
  if (!STATE_FILE || typeof file !== "string" || path.resolve(file) !== STATE_FILE) {
    return originalCreateWriteStream.apply(this, arguments);
  }
  const chunks = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      callback();
    },
    final(callback) {
      const body = Buffer.concat(chunks);
      writeAtomically(STATE_FILE, body).then(
        () => {
          persist.written(body.length);
          callback();
        },
        (err) => {
          persist.failed(err);
          callback(err);
        },
      );
    },
  });
  // fs2 waits for "ready" (an fs.WriteStream's open) before writing.
  process.nextTick(() => stream.emit("ready"));
  return stream;
};

async function writeAtomically(file, body) {
  const tmp = `${file}.tmp-${process.pid}`;
  const handle = await fs.promises.open(tmp, "w");
  try {
    await handle.writeFile(body);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    const prevTmp = `${file}.prev.tmp-${process.pid}`;
    await fs.promises.rm(prevTmp, { force: true });
    await fs.promises.link(file, prevTmp);
    await fs.promises.rename(prevTmp, `${file}.prev`);
  } catch (err) {
    if (err.code !== "ENOENT") throw err; // first snapshot: nothing to keep
  }
  await fs.promises.rename(tmp, file);
  const dir = await fs.promises.open(path.dirname(file), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

// 6. Sequence numbers that never go back.
const FLOORS = (() => {
  try {
    return JSON.parse(fs.readFileSync(process.env.DATALAKE_SEQ_FLOORS, "utf8")) || {};
  } catch {
    return {};
  }
})();
const POW_2_124 = 2n ** 124n;
function sequenceIndex(sequenceNumber) {
  let n = BigInt(sequenceNumber);
  if (n < POW_2_124) n += POW_2_124;
  return Number(BigInt(`0x${n.toString(16).slice(11, 27)}`));
}
/** The sequence index the next record of a shard continues after (the emulator adds 1 + its place in the request). */
globalThis.__datalakeSeqBase = function seqBase(shardStart, length, lastSequenceNumber) {
  let base = length;
  if (lastSequenceNumber) base = Math.max(base, sequenceIndex(lastSequenceNumber));
  const floor = FLOORS[shardStart];
  return typeof floor === "number" && floor > base ? floor : base;
};

// 3, 4 and 6: source patches of kinesis-local's main.js.
const PATCHES = [
  {
    name: "skip unchanged or too frequent snapshots",
    find: "      var streams$1 = x$1.m();\n      var ctx$1 = x$1.n();\n      return $m_Lfs2_io_file_Files$()",
    replace:
      "      var streams$1 = x$1.m();\n      var ctx$1 = x$1.n();\n      if (!globalThis.__datalakePersist.begin(streams$1)) return $m_Lcats_effect_IO$().zG;\n      return $m_Lfs2_io_file_Files$()",
  },
  {
    name: "time the snapshot's serialisation",
    find: "var buf = $m_Lio_circe_Printer$().HJ.bdE($m_Lkinesis_mock_models_Streams$().bvO().a7(streams$1), $m_Ljava_nio_charset_UTF\\uff3f8$());",
    replace:
      "var buf = $m_Lio_circe_Printer$().HJ.bdE($m_Lkinesis_mock_models_Streams$().bvO().a7(streams$1), $m_Ljava_nio_charset_UTF\\uff3f8$()); globalThis.__datalakePersist.serialized();",
  },
  {
    name: "hash PutRecords' grouping key by shard only",
    find: "var key = $ct_T2__O__O__(new $c_T2(), elem.ev, elem.e2);",
    replace:
      "var key = $ct_T2__O__O__(new $c_T2(), elem.ev, elem.e2); key.g = (function() { return $m_sr_Statics$().E(this.m()); });",
  },
  {
    name: "PutRecords numbers records after the shard's highest sequence index",
    find: "($f_sc_SeqOps__isEmpty__Z(records) ? new $c_s_Some(((1 + i) | 0)) : new $c_s_Some(((((1 + records.y()) | 0) + i) | 0)))",
    replace:
      "new $c_s_Some(((((1 + globalThis.__datalakeSeqBase(shard.iZ.jo.rd, records.y(), $f_sc_SeqOps__isEmpty__Z(records) ? null : $f_sc_IndexedSeqOps__last__O(records).lh.rd)) | 0) + i) | 0))",
  },
  {
    name: "PutRecord numbers its record after the shard's highest sequence index",
    find: "($f_sc_SeqOps__isEmpty__Z(records$2) ? new $c_s_Some(1) : new $c_s_Some(((1 + records$2.y()) | 0)))",
    replace:
      "new $c_s_Some(((1 + globalThis.__datalakeSeqBase(shard$2.iZ.jo.rd, records$2.y(), $f_sc_SeqOps__isEmpty__Z(records$2) ? null : $f_sc_IndexedSeqOps__last__O(records$2).lh.rd)) | 0))",
  },
];

if (MAIN) {
  const mainFile = path.resolve(MAIN);
  const originalCompile = Module.prototype._compile;
  Module.prototype._compile = function compile(content, filename) {
    if (filename === mainFile) {
      for (const patch of PATCHES) {
        const at = content.indexOf(patch.find);
        if (at < 0 || content.indexOf(patch.find, at + 1) >= 0) {
          fatal(`this kinesis-local version does not match the patch "${patch.name}"; install the version in package-lock.json (npm ci)`);
        }
        content = content.slice(0, at) + patch.replace + content.slice(at + patch.find.length);
      }
    }
    return originalCompile.call(this, content, filename);
  };
}

// 5. Lifetime and snapshot requests.
// Ends at once, as a crash would (no last snapshot: the next start may already be loading the state).
const orphaned = () => process.kill(process.pid, "SIGKILL");
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) orphaned(); // re-parented: whoever started us is gone
}, 500).unref();
if (process.connected) {
  process.on("disconnect", orphaned);
  process.on("message", (message) => {
    if (message && message.type === "mark" && message.id > persist.requested) {
      persist.requested = message.id;
      if (message.force) persist.force = true;
    }
  });
}
