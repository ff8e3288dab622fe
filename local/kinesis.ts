/**
 * Starts `kinesis-local` (the npm build of kinesis-mock) as a child process on free loopback ports, behind
 * the front door (`local/front-door.ts`) that clients use, and stops both again. Used by the local lake, by
 * the apps when no AWS target is configured, and by the tests.
 *
 * When persisting, every acknowledged write is durable: the front door logs accepted records (fsynced)
 * before it answers, and a start puts the records the last snapshot lacks back into it and drops records
 * past their stream's retention (`local/kinesis-state.ts`) before the emulator loads it.
 *
 * The emulator runs with `local/kinesis-shim.js` preloaded (loopback-only sockets, atomic snapshots that
 * skip unchanged state and cost at most about a tenth of its time, PutRecords that does not slow down as
 * shards fill, exit when its parent is gone), in its own process group so a terminal's Ctrl-C reaches only
 * the app, which stops the emulator itself after a last snapshot. A start recovers from a state file that
 * cannot be loaded: it falls back to the previous snapshot, then to empty streams, and says so in one line.
 */
import * as fs from "fs";
import * as path from "path";
import { UserError } from "../runtime/errors";
import { repairState, StateRepair } from "./kinesis-state";
import { EmulatorExited, freePort, launch, Launched, waitUntilAnswering } from "./kinesis/emulator";
import { handle } from "./kinesis/handle";
import { LocalKinesis, LocalKinesisOptions, PID_FILE_NAME, STATE_FILE_NAME, WAL_DIR_NAME } from "./kinesis/options";
import { endOrphan, prepareState } from "./kinesis/recovery";

export { freePort } from "./kinesis/emulator";
export { STATE_FILE_NAME, WAL_DIR_NAME } from "./kinesis/options";
export type { LocalKinesis, LocalKinesisOptions } from "./kinesis/options";

export async function startLocalKinesis(options: LocalKinesisOptions = {}): Promise<LocalKinesis> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const info = options.info ?? (() => undefined);
  const timeoutMs = options.startTimeoutMs ?? 60_000;
  const persistDir = options.persistDir ? path.resolve(options.persistDir) : undefined;
  let repair: StateRepair | undefined;
  if (persistDir) {
    fs.mkdirSync(persistDir, { recursive: true });
    if (fs.existsSync(path.join(persistDir, PID_FILE_NAME))) await endOrphan(persistDir);
    const recovered = prepareState(persistDir);
    if (recovered) warn(recovered);
    repair = repairState(path.join(persistDir, STATE_FILE_NAME), path.join(persistDir, WAL_DIR_NAME));
    for (const line of repair.warnings) warn(line);
    if (repair.restored > 0) info(`local lake: put back ${repair.restored} acknowledged records the last snapshot did not hold yet (from the write-ahead log)`);
    if (repair.finished > 0) info(`local lake: finished ${repair.finished} stream or consumer registrations (or deletions) a stop interrupted`);
    if (repair.expired > 0) info(`local lake: dropped ${repair.expired} records older than their stream's retention, as Kinesis does`);
  }
  let launched: Launched;
  let plainPort: number;
  // A state file that parses but that the emulator refuses: fall back twice (previous snapshot, empty).
  for (let attempt = 0; ; attempt++) {
    plainPort = await freePort();
    const tlsPort = await freePort();
    launched = launch(options, plainPort, tlsPort);
    if (persistDir) fs.writeFileSync(path.join(persistDir, PID_FILE_NAME), String(launched.child.pid));
    try {
      await waitUntilAnswering(launched, `http://127.0.0.1:${plainPort}`, timeoutMs);
      return await handle(launched, `http://127.0.0.1:${plainPort}`, [plainPort, tlsPort], persistDir, repair, options, warn);
    } catch (err) {
      launched.child.kill("SIGKILL");
      await launched.exitPromise;
      const stateExists = persistDir && fs.existsSync(path.join(persistDir, STATE_FILE_NAME));
      if (!(err instanceof EmulatorExited) || !stateExists || attempt >= 2) throw err;
      // Out of memory is not a refusal of the state: setting it aside would lose what it holds.
      if (/heap out of memory|Allocation failed|ENOMEM/i.test(err.output)) {
        const mb = (fs.statSync(path.join(persistDir!, STATE_FILE_NAME)).size / 1e6).toFixed(0);
        throw new UserError(
          `the local lake's emulator ran out of memory loading ${mb} MB of saved streams (${path.join(persistDir!, STATE_FILE_NAME)}); nothing was discarded: free memory and start it again, or shorten the segments' retentionHours`,
        );
      }
      const recovered = prepareState(persistDir!, `kinesis-local refused it: ${err.output.slice(0, 200)}`);
      if (recovered) warn(recovered);
    }
  }
}
