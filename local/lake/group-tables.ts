/** The local lake's Amazon DynamoDB stand-in (local/lake.ts): the consumer groups' lease tables. */
import { LakeConfig } from "../../model/config";
import type { Catalog } from "../../model/catalog";
import { createLeaseClient, LeaseTable } from "../../runtime/leases";
import { LocalDynamoDb, startLocalDynamoDb } from "../dynamodb";
import { LocalService } from "./options";

/** Starts the DynamoDB stand-in and creates every declared group's lease table; nothing when none is declared. */
export async function startGroupTables(config: LakeConfig, catalog: Catalog, dir: string | undefined): Promise<{ db: LocalDynamoDb; service: LocalService } | undefined> {
  const groups = config.segments.flatMap((s) => Object.values(catalog[s.address].groups ?? {}));
  if (groups.length === 0) return undefined;
  const db = await startLocalDynamoDb({ dir });
  const client = createLeaseClient({ endpoint: db.endpoint });
  try {
    for (const group of groups) {
      await new LeaseTable({ client, tableName: group.tableName }).create();
      group.endpoint = db.endpoint;
    }
  } catch (err) {
    client.destroy();
    await db.stop();
    throw err;
  }
  return {
    db,
    service: {
      aws: "Amazon DynamoDB",
      description: `dynalite at ${db.endpoint} with ${groups.length} consumer group lease table${groups.length === 1 ? "" : "s"}`,
      stop: async () => {
        client.destroy();
        await db.stop();
      },
    },
  };
}
