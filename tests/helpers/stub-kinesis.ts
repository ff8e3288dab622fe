/**
 * A Kinesis stream in memory for unit tests of the consumer engine's batch mode: ListShards,
 * GetShardIterator (refusing a sequence number the shard does not hold, as Kinesis does) and GetRecords,
 * whose answers hold at most `batch` records and name a closed shard's children at its end.
 */
import { _Record } from "@aws-sdk/client-kinesis";

export interface StubShard {
  id: string;
  parents?: string[];
  closed?: boolean;
  records: _Record[];
}

/** A stream in memory: iterators are "shard|index"; GetRecords answers at most `batch` records. */
export class StubKinesis {
  batch = 100;
  /** Ms the n-th GetRecords call (1-based) takes to answer. @default none */
  slowRead: (n: number) => number = () => 0;
  /** GetRecords answers that held no record. */
  emptyAnswers = 0;
  private reads = 0;
  constructor(readonly shards: StubShard[]) {}

  async send(command: { constructor: { name: string }; input: any }): Promise<any> {
    await new Promise((r) => setImmediate(r));
    if (command.constructor.name === "GetRecordsCommand") await new Promise((r) => setTimeout(r, this.slowRead(++this.reads)));
    const input = command.input;
    switch (command.constructor.name) {
      case "ListShardsCommand":
        return {
          Shards: this.shards.map((s) => ({
            ShardId: s.id,
            ParentShardId: s.parents?.[0],
            SequenceNumberRange: { StartingSequenceNumber: "0", EndingSequenceNumber: s.closed ? "9".repeat(40) : undefined },
          })),
        };
      case "GetShardIteratorCommand": {
        const shard = this.shard(input.ShardId);
        const after = input.ShardIteratorType === "AFTER_SEQUENCE_NUMBER" ? shard.records.findIndex((r) => r.SequenceNumber === input.StartingSequenceNumber) : -1;
        // Kinesis refuses a sequence number the shard does not hold.
        if (input.ShardIteratorType === "AFTER_SEQUENCE_NUMBER" && after < 0) {
          throw Object.assign(new Error(`StartingSequenceNumber ${input.StartingSequenceNumber} is not in shard ${shard.id}`), { name: "InvalidArgumentException" });
        }
        const index = input.ShardIteratorType === "AFTER_SEQUENCE_NUMBER" ? after + 1 : input.ShardIteratorType === "LATEST" ? shard.records.length : 0;
        return { ShardIterator: `${shard.id}|${index}` };
      }
      case "GetRecordsCommand": {
        const [id, at] = String(input.ShardIterator).split("|");
        const shard = this.shard(id);
        const records = shard.records.slice(Number(at), Number(at) + this.batch);
        const next = Number(at) + records.length;
        const ended = shard.closed && next >= shard.records.length;
        if (records.length === 0) this.emptyAnswers += 1;
        const children = this.shards.filter((s) => s.parents?.includes(id));
        return {
          Records: records,
          NextShardIterator: ended ? undefined : `${id}|${next}`,
          MillisBehindLatest: 0,
          ChildShards: ended ? children.map((c) => ({ ShardId: c.id, ParentShards: c.parents })) : undefined,
        };
      }
      default:
        throw new Error(`stub: unexpected ${command.constructor.name}`);
    }
  }

  private shard(id: string): StubShard {
    const shard = this.shards.find((s) => s.id === id);
    if (!shard) throw Object.assign(new Error("no such shard"), { name: "ResourceNotFoundException" });
    return shard;
  }
}

export const shardId = (n: number) => `shardId-${String(n).padStart(12, "0")}`;

/** `count` records of shard `n` with increasing sequence numbers; data `n:i`. */
export function records(n: number, count: number, from = 1): _Record[] {
  return Array.from({ length: count }, (_, k) => ({
    SequenceNumber: `49${String(n).padStart(4, "0")}${String(from + k).padStart(10, "0")}`,
    PartitionKey: `key-${n}`,
    Data: Buffer.from(`${n}:${from + k}`),
  }));
}
