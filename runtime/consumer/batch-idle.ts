/**
 * `idleTimeoutMs` for the batch mode (batches.ts): time without a record counts only while nothing is under way: no
 * batch running or waiting, no Kinesis call in flight (a slow read may still bring records). The engine's
 * own idle timeout cannot see that a batch holds a shard's reads back.
 */
import type { KinesisSender } from "./shards";

export function idleWatch(idleTimeoutMs: number | undefined) {
  let lastActive = Date.now();
  let calls = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const watch = {
    fired: false,
    active(): void {
      lastActive = Date.now();
    },
    /** The client, with the calls under way counted. */
    counting(client: KinesisSender): KinesisSender {
      if (idleTimeoutMs === undefined) return client;
      return {
        send: (command: unknown, options?: { abortSignal?: AbortSignal }) => {
          calls += 1;
          return client.send(command, options).finally(() => {
            calls -= 1;
          });
        },
      };
    },
    async watch(busy: () => boolean, onIdle: () => void): Promise<void> {
      if (idleTimeoutMs === undefined) return;
      while (!stopped) {
        if (busy()) lastActive = Date.now();
        const left = lastActive + idleTimeoutMs - Date.now();
        // Time is up, but a call is under way: its records (if any) would count as arrivals. Wait for a
        // moment with none in flight (a reader at the tip pauses between its calls).
        if (left <= 0 && calls === 0) {
          watch.fired = true;
          onIdle();
          return;
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left > 0 ? Math.min(left, 100) : 10).unref();
        });
      }
    },
    stop(): void {
      stopped = true;
      wake?.();
    },
  };
  return watch;
}
