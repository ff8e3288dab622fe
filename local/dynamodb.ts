/**
 * The local lake's DynamoDB stand-in: dynalite (a DynamoDB implementation on LevelDB) on loopback, in
 * memory or persisted in a folder, for consumer groups' lease tables. What the coordinator depends on
 * behaves as on DynamoDB (tests/integration/leases.test.ts): conditional writes are checked under a
 * per-item lock (of concurrent writes expecting one counter, exactly one succeeds) and a failed condition
 * answers ConditionalCheckFailedException; reads are always strongly consistent, which is what
 * `ConsistentRead: true` (the only reads the coordinator makes) promises on DynamoDB. It does not return
 * the item of a failed condition (ReturnValuesOnConditionCheckFailure), encrypt, or bill.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as fs from "node:fs";

// dynalite ships no types: it is a function from options to a node http.Server.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const dynalite = require("dynalite") as (options: {
  path?: string;
  createTableMs?: number;
  deleteTableMs?: number;
  updateTableMs?: number;
}) => Server;

export interface LocalDynamoDbOptions {
  /** Folder the tables persist in (LevelDB); none keeps them in memory. @default none */
  dir?: string;
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number;
}

export interface LocalDynamoDb {
  /** `http://127.0.0.1:<port>`: AWS_ENDPOINT_URL_DYNAMODB for the SDK. */
  endpoint: string;
  port: number;
  /** Closes the server and its store (a persisted folder can then be opened again). */
  stop(): Promise<void>;
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  if (options.dir) fs.mkdirSync(options.dir, { recursive: true });
  // Tables are ACTIVE at once: nothing here waits for CREATING as a deploy would.
  const server = dynalite({ path: options.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      })),
  };
}
