/**
 * A consumer group worker as a child process, for the lease tests' faults (kill -9, SIGSTOP): a lease
 * coordinator and runGroup with a reader that pretends to process a record every 50 ms and checkpoints
 * after each, a careless reader that keeps checkpointing until a checkpoint is refused (so a frozen worker
 * that wakes up does try a late checkpoint). One JSON line per event on stdout.
 *
 *   node -r tests/helpers/ts-cache/register.js tests/helpers/lease-worker.ts <endpoint> <table> <workerId> <leaseMs> <renewMs>
 */
import { createLeaseClient, LeaseCoordinator, LeaseLostError, LeaseTable, runGroup } from "../../runtime/leases";

const [endpoint, tableName, workerId, leaseMs, renewMs] = process.argv.slice(2);
const say = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ t: Date.now(), worker: workerId, ...event })}\n`);

async function main(): Promise<void> {
  const table = new LeaseTable({ client: createLeaseClient({ endpoint }), tableName, callTimeoutMs: 1_000, attempts: 2 });
  const coordinator = new LeaseCoordinator({ table, workerId, leaseDurationMs: Number(leaseMs), renewIntervalMs: Number(renewMs),
    log: process.env.LEASE_LOG ? (line) => process.stderr.write(`${Date.now()} ${line}\n`) : undefined,
  });
  coordinator.on("acquired", (lease) => say({ event: "acquired", key: lease.leaseKey, checkpoint: lease.checkpoint }));
  coordinator.on("lost", (key, reason) => say({ event: "lost", key, reason }));
  let n = 0;
  const group = await runGroup({
    coordinator,
    read: async (lease, ctx) => {
      for (;;) {
        await new Promise((r) => setTimeout(r, 50));
        const value = `${workerId}:${++n}`;
        const sent = Date.now();
        try {
          await ctx.checkpoint(value);
          say({ event: "checkpoint", key: lease.leaseKey, value, sent });
        } catch (err) {
          say({ event: "refused", key: lease.leaseKey, value, sent, lost: err instanceof LeaseLostError, reason: (err as Error).message });
          return;
        }
        if (ctx.signal.aborted) return;
      }
    },
  });
  say({ event: "started" });
  process.on("SIGTERM", () => void group.stop().then(() => process.exit(0)));
}

main().catch((err) => {
  say({ event: "failed", message: (err as Error).message });
  process.exit(1);
});
