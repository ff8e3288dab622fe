/**
 * A process that takes a local lake folder's lock (the lock `npm run local-lake` takes) and holds it until
 * killed: prints "locked <pid>" or "busy <pid of the holder>". Used by the lock's fault tests.
 */
import { takeLock } from "../../local/lake-lock";

const dir = process.argv[2];
try {
  takeLock(dir, "lock-holder", (owner) => `busy ${owner.pid}`);
  process.stdout.write(`locked ${process.pid}\n`);
  setInterval(() => undefined, 60_000);
} catch (err) {
  process.stdout.write(`${(err as Error).message}\n`);
  process.exit(3);
}
