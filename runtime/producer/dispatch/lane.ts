/** Which queue a partition key belongs to when the shard map is unknown. */

/** Queue index of a partition key: FNV-1a with a murmur3 finaliser, spread evenly over `queues`. */
export function laneOf(partitionKey: string, queues: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < partitionKey.length; i++) {
    h ^= partitionKey.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % queues;
}
