/**
 * Every shard of a stream, every ListShards page followed: the one copy of the paging the consumer
 * engine, the producer's shard map, the local processor and the limits endpoint all use.
 */
import { ListShardsCommand, ListShardsCommandOutput, Shard } from "@aws-sdk/client-kinesis";

/** The part of a Kinesis client ListShards needs (a real client, a deadline wrapper or a test stub). */
export interface ListShardsSender {
  send(command: ListShardsCommand, options?: { abortSignal?: AbortSignal }): Promise<ListShardsCommandOutput>;
}

/** Lists all shards of `streamName` (open and closed, as ListShards returns them), page by page. */
export async function listAllShards(client: ListShardsSender, streamName: string, signal?: AbortSignal): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // A NextToken request must not name the stream (the API refuses both together).
    const out = await client.send(new ListShardsCommand(nextToken ? { NextToken: nextToken } : { StreamName: streamName }), { abortSignal: signal });
    shards.push(...(out.Shards ?? []));
    nextToken = out.NextToken;
  } while (nextToken);
  return shards;
}
