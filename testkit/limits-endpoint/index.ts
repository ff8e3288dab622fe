/**
 * A local Kinesis endpoint that enforces Kinesis Data Streams' per-shard limits (`model/limits.ts`) in
 * front of a backend, for tests and the bench; not a stand-in for an AWS piece, so it lives in testkit/:
 *
 *   writes  1,000 records/s and 1 MiB/s per shard (data + partition key), per record in PutRecords;
 *   reads   5 GetRecords calls/s and 2 MiB/s per shard, a large read throttling the next calls.
 *
 * The backend is either an HTTP Kinesis endpoint (kinesis-local) that every call is forwarded to, or
 * `"null"`: an in-memory endpoint that accepts every valid write at once and keeps nothing (for measuring
 * the client itself). Both speak the protocol @aws-sdk/client-kinesis v3 uses: awsJson1_1 over HTTP/1.1
 * (`X-Amz-Target: Kinesis_20131202.<Operation>`, `Content-Type: application/x-amz-json-1.1`, record data
 * base64 in JSON).
 *
 * The parts: `enforcer.ts` (buckets, shard maps, iterators), `backends.ts`, `put-records-validation.ts`,
 * `token-bucket.ts`, `stats.ts` (counters), `wire.ts` (the JSON protocol), `server.ts` (in this process),
 * `child.ts` (in a child process, and the command line).
 *
 * Not covered: SubscribeToShard (HTTP/2 event streams; enhanced fan-out has its own 2 MiB/s per consumer,
 * so point it at the emulator directly) and the CBOR protocol (answered with an error, never unlimited).
 */
export { evenShards, hashKeyOf, ShardMap } from "../../runtime/producer/shard-map";
export { spawnLimitsEndpoint } from "./child";
export type { ChildLimitsEndpoint } from "./child";
export { LimitsEnforcer } from "./enforcer";
export { SHARD_LIMITS } from "./options";
export type { LimitsEndpointOptions, NullBackendOptions, ShardLimits } from "./options";
export { startLimitsEndpoint } from "./server";
export type { LimitsEndpoint } from "./server";
export type { LimitsStats } from "./stats";
export { TokenBucket } from "./token-bucket";
