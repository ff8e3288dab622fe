/**
 * An application that consumes a segment with a checkpoint: each record's data is written to stdout as one
 * line, and a restart resumes after the last batch it finished.
 *
 *   node scripts/run-ts.js examples/consume.ts [segment] [checkpoint-file] [idle-seconds]
 *
 * Runs until Ctrl-C, or until no record arrived for idle-seconds (when given). The lake comes from the
 * environment as in examples/publish.ts.
 */
import { CheckpointError, ConfigurationError, openLake, SegmentNotFoundError } from "datalake";

async function main(): Promise<void> {
  const [segment = "ingest/persons", checkpoint = "consume-example.checkpoint.json", idleSeconds] = process.argv.slice(2);
  const lake = await openLake();
  const stop = new AbortController();
  process.once("SIGINT", () => stop.abort());
  process.once("SIGTERM", () => stop.abort());
  try {
    const summary = await lake.consume({
      segment,
      checkpoint,
      // Shards the checkpoint does not know yet: from the oldest record the stream retains.
      from: "trim-horizon",
      idleTimeoutMs: idleSeconds !== undefined ? Number(idleSeconds) * 1000 : undefined,
      signal: stop.signal,
      // One shard's batch at a time; once this resolves the batch is checkpointed (autoCheckpoint).
      eachBatch: async ({ records }) => {
        const lines = records.map((record) => `${record.data.toString("utf8")}\n`).join("");
        await new Promise<void>((resolve, reject) => process.stdout.write(lines, (err) => (err ? reject(err) : resolve())));
      },
    });
    console.error(`consumed ${summary.records} records in ${summary.batches} batches from ${summary.shards} shards (${summary.stopReason})`);
  } finally {
    await lake.close();
  }
}

main().catch((err: unknown) => {
  // The library's errors say what to fix in one line; 2 for what the caller can fix, as the commands do.
  console.error(`error: ${(err as Error).message}`);
  process.exitCode = err instanceof ConfigurationError || err instanceof SegmentNotFoundError || err instanceof CheckpointError ? 2 : 1;
});
