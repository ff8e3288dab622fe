/**
 * The bench's lease meter tells the lease table's requests apart (testkit/dynamodb-meter.ts,
 * classifyLeaseRequest) from what runtime/leases/table.ts really sends: each kind of write through a
 * stub client, classified from the request as it would go on the wire.
 */
import assert from "node:assert/strict";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { LeaseTable, newLease, toItem } from "../../../runtime/leases";
import { classifyLeaseRequest } from "../../../testkit/dynamodb-meter";

describe("the bench's DynamoDB meter: lease requests by kind", () => {
  it("classifies every request the lease table sends as what it does", async () => {
    const sent: string[] = [];
    const lease = { ...newLease("shardId-000000000000", [], "TRIM_HORIZON"), leaseOwner: "a", leaseCounter: 3 };
    const client = {
      send: async (command: { input: Record<string, unknown>; constructor: { name: string } }) => {
        const operation = command.constructor.name.replace(/Command$/, "");
        sent.push(classifyLeaseRequest(operation, command.input));
        if (operation === "Scan") return { Items: [toItem(lease)] };
        if (operation === "UpdateItem") return { Attributes: toItem({ ...lease, leaseCounter: lease.leaseCounter + 1 }) };
        return {};
      },
    } as unknown as DynamoDBClient;
    const table = new LeaseTable({ client, tableName: "t" });
    await table.list();
    await table.createIfAbsent(newLease("shardId-000000000001", [], "TRIM_HORIZON"));
    await table.renew(lease, "a");
    await table.checkpoint(lease, "a", "123");
    await table.take({ ...lease, leaseOwner: undefined }, "b");
    await table.release(lease, "a");
    await table.requestHandover(lease, "b");
    assert.deepEqual(sent, ["Scan", "CreateLease", "RenewLease", "Checkpoint", "TakeLease", "ReleaseLease", "RequestHandover"]);
  });
});
