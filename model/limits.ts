/**
 * Kinesis Data Streams' service limits, in one place: what a shard takes and serves, and what one call
 * may carry. Pure constants (no SDK, fs or env), so every floor may import them.
 *
 * Sizes are in bytes (MiB = 1,048,576: the API reference writes MiB, the developer guide MB for the same
 * limits), rates per second. Where the documentation is not settled the constant takes the safe reading
 * (the one a client that keeps to it cannot break) and says so.
 *
 * Sources:
 *   QUOTAS      https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html
 *   PUT_RECORDS https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html
 *   ENTRY       https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecordsRequestEntry.html
 *   LARGE       https://docs.aws.amazon.com/streams/latest/dev/large-records.html
 *   SUBSCRIBE   https://docs.aws.amazon.com/kinesis/latest/APIReference/API_SubscribeToShard.html
 *   LIST_SHARDS https://docs.aws.amazon.com/kinesis/latest/APIReference/API_ListShards.html
 *   CONSUMERS   https://docs.aws.amazon.com/kinesis/latest/APIReference/API_RegisterStreamConsumer.html
 */

const MiB = 1024 * 1024;

/** Records one shard accepts per second (PutRecord and PutRecords together), in both capacity modes. QUOTAS, PUT_RECORDS */
export const SHARD_WRITE_RECORDS_PER_SECOND = 1000;

/** Bytes (data blob plus partition key) one shard accepts per second. QUOTAS, PUT_RECORDS */
export const SHARD_WRITE_BYTES_PER_SECOND = 1 * MiB;

/** `GetRecords` calls one shard serves per second, shared by every polling reader of the shard. QUOTAS */
export const SHARD_READ_CALLS_PER_SECOND = 5;

/**
 * Bytes one shard serves per second to its polling readers together; a `GetRecords` call that returns more
 * makes the shard's next calls fail until the budget has refilled. QUOTAS
 */
export const SHARD_READ_BYTES_PER_SECOND = 2 * MiB;

/** Records in one `PutRecords` request (at least 1). PUT_RECORDS */
export const PUT_RECORDS_MAX_RECORDS = 500;

/**
 * Bytes (data blobs plus partition keys) in one `PutRecords` request. The API reference's copies disagree
 * (5 MiB in most, 10 MiB in the newest, written with large records); 5 MiB is the safe reading. PUT_RECORDS
 */
export const PUT_RECORDS_MAX_BYTES = 5 * MiB;

/**
 * Bytes of one record, data blob (before base64) plus partition key: a stream's default maximum record
 * size, for new and existing streams. `UpdateMaxRecordSize` can raise it to 10 MiB; the lake never does.
 * ENTRY, LARGE
 */
export const RECORD_MAX_BYTES = 1 * MiB;

/** Characters of a partition key (Unicode, at least 1). ENTRY */
export const PARTITION_KEY_MAX_LENGTH = 256;

/** Records one `GetRecords` call returns at most (its `Limit` ranges 1 to this). QUOTAS */
export const GET_RECORDS_MAX_RECORDS = 10_000;

/** Bytes one `GetRecords` call returns at most from one shard. QUOTAS */
export const GET_RECORDS_MAX_BYTES = 10 * MiB;

/** `SubscribeToShard` calls per second for each pair of registered consumer and shard. SUBSCRIBE */
export const SUBSCRIBE_TO_SHARD_CALLS_PER_SECOND = 1;

/**
 * `ListShards` calls per second per stream. The API reference says 1,000 today (older copies said 100); a
 * client that relists often should keep to 100, which is safe under both. LIST_SHARDS
 */
export const LIST_SHARDS_CALLS_PER_SECOND = 1000;

/** Bytes per second that one enhanced fan-out consumer receives from one shard, its own (not shared). CONSUMERS */
export const FAN_OUT_BYTES_PER_SECOND = 2 * MiB;

/** Enhanced fan-out consumers registered on one stream (provisioned and on-demand standard streams). CONSUMERS */
export const MAX_CONSUMERS_PER_STREAM = 20;
