/**
 * Consumer groups' lease coordination on DynamoDB (README "Consumer groups"): the lease row (lease.ts),
 * the table's conditional writes (table.ts), the balancing rule (balance.ts), one worker's coordinator
 * (coordinator.ts), a worker loop over shard readers (group.ts) and the client (client.ts).
 */
export * from "./lease";
export * from "./table";
export * from "./balance";
export * from "./coordinator";
export * from "./group";
export * from "./client";
