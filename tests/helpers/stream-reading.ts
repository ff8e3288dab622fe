/**
 * Reading a whole stream and waiting for a condition, for integration tests against kinesis-local.
 */
import { _Record, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from "@aws-sdk/client-kinesis";

/** Every record of every shard of a stream, with its shard (at most 50 pages per shard). */
export async function readAll(client: KinesisClient, stream: string): Promise<(_Record & { shardId: string })[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  const out: (_Record & { shardId: string })[] = [];
  for (const s of shards) {
    let it = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: s.ShardId!, ShardIteratorType: "TRIM_HORIZON" }))).ShardIterator;
    for (let i = 0; it && i < 50; i++) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: it }));
      out.push(...(page.Records ?? []).map((r) => ({ ...r, shardId: s.ShardId! })));
      if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
      it = page.NextShardIterator;
    }
  }
  return out;
}

/** Polls until `check` holds; fails (rather than hangs) after `ms`. */
export async function until(what: string, ms: number, check: () => Promise<boolean>, everyMs = 250): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
