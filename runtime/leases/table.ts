/**
 * A consumer group's lease table in DynamoDB: every read strongly consistent, every change a conditional
 * write on `leaseCounter` (and on `leaseOwner` for the owner's own writes), every call with a deadline
 * and bounded retries (retry.ts). A write whose condition fails throws `LeaseLostError`: somebody else
 * changed the lease since this worker last saw it.
 *
 * A retried write whose first attempt got no answer may have been applied; its retry then fails the
 * condition on its own success. Such a failure is resolved with a consistent read: when the row shows
 * exactly what the write meant to leave (this owner, the next counter, the written checkpoint), the write
 * counts as done. Nobody but this worker writes its own name as owner, so that state proves it.
 */
import {
  AttributeValue,
  CreateTableCommand,
  waitUntilTableExists,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { ATTRIBUTES, fromItem, Lease, toItem } from "./lease";
import { RetryOptions, withRetries } from "./retry";

/** The lease was changed by someone else: this worker does not hold it (any more). */
export class LeaseLostError extends Error {
  constructor(
    readonly leaseKey: string,
    /** The row as it is now, when it was read; undefined when it was not. */
    readonly current: Lease | undefined,
  ) {
    super(`lease ${leaseKey} was changed by another worker${current ? ` (now held by ${current.leaseOwner ?? "nobody"}, counter ${current.leaseCounter})` : ""}`);
    this.name = "LeaseLostError";
  }
}

/** The group's table does not exist: the group is not declared (or not deployed) in this lake. */
export class LeaseTableMissingError extends Error {
  constructor(readonly tableName: string) {
    super(`lease table ${tableName} does not exist; declare the group under the segment's groups and deploy (pulumi up), or start the local lake`);
    this.name = "LeaseTableMissingError";
  }
}

/** What one worker read and wrote, for the cost figures (DynamoDB bills on-demand tables per request). */
export interface TableUsage {
  /** Calls by operation, conditional failures included (they are billed as writes). */
  calls: Record<string, number>;
  /** Read request units DynamoDB reported (ReturnConsumedCapacity), or 0 where the endpoint does not say. */
  readUnits: number;
  writeUnits: number;
  /** Conditional writes refused. */
  conditionFailures: number;
}

export interface LeaseTableOptions extends RetryOptions {
  client: DynamoDBClient;
  tableName: string;
}

const isConditionFailure = (err: unknown) => (err as { name?: string })?.name === "ConditionalCheckFailedException";

export class LeaseTable {
  readonly tableName: string;
  readonly usage: TableUsage = { calls: {}, readUnits: 0, writeUnits: 0, conditionFailures: 0 };
  private readonly client: DynamoDBClient;
  private readonly retry: RetryOptions;

  constructor(options: LeaseTableOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.retry = { callTimeoutMs: options.callTimeoutMs, attempts: options.attempts, backoffBaseMs: options.backoffBaseMs, signal: options.signal };
  }

  private count(operation: string, consumed?: { CapacityUnits?: number }, write = false): void {
    this.usage.calls[operation] = (this.usage.calls[operation] ?? 0) + 1;
    if (write) this.usage.writeUnits += consumed?.CapacityUnits ?? 0;
    else this.usage.readUnits += consumed?.CapacityUnits ?? 0;
  }

  /** Fails with `LeaseTableMissingError` unless the table exists. */
  async describe(): Promise<void> {
    await withRetries(async (signal) => {
      try {
        this.count("DescribeTable");
        await this.client.send(new DescribeTableCommand({ TableName: this.tableName }), { abortSignal: signal });
      } catch (err) {
        if ((err as { name?: string }).name === "ResourceNotFoundException") throw new LeaseTableMissingError(this.tableName);
        throw err;
      }
    }, this.retry);
  }

  /** Creates the table as the Pulumi program declares it (key and billing); for the local lake and tests. */
  async create(): Promise<void> {
    await withRetries(async (signal) => {
      try {
        await this.client.send(
          new CreateTableCommand({
            TableName: this.tableName,
            AttributeDefinitions: [{ AttributeName: ATTRIBUTES.key, AttributeType: "S" }],
            KeySchema: [{ AttributeName: ATTRIBUTES.key, KeyType: "HASH" }],
            BillingMode: "PAY_PER_REQUEST",
          }),
          { abortSignal: signal },
        );
      } catch (err) {
        if ((err as { name?: string }).name !== "ResourceInUseException") throw err; // already there
      }
    }, this.retry);
    // CreateTable answers while the table is still CREATING, and DynamoDB refuses reads and writes
    // (ResourceNotFoundException) until it is ACTIVE: wait for that, within a deadline.
    const waited = await waitUntilTableExists({ client: this.client, maxWaitTime: 120, minDelay: 1, maxDelay: 5 }, { TableName: this.tableName });
    if (String(waited.state) !== "SUCCESS") throw new Error(`lease table ${this.tableName} did not become ACTIVE within 120 s (${waited.state})`);
  }

  /** Every lease of the table, strongly consistent (a scan: the table holds one row per shard). */
  async list(): Promise<Lease[]> {
    const leases: Lease[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await withRetries(
        (signal) =>
          this.client.send(
            new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start, ReturnConsumedCapacity: "TOTAL" }),
            { abortSignal: signal },
          ),
        this.retry,
      );
      this.count("Scan", page.ConsumedCapacity);
      for (const item of page.Items ?? []) leases.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return leases.sort((a, b) => (a.leaseKey < b.leaseKey ? -1 : a.leaseKey > b.leaseKey ? 1 : 0));
  }

  /** One lease, strongly consistent; undefined when the shard has none. */
  async get(leaseKey: string): Promise<Lease | undefined> {
    const out = await withRetries(
      (signal) =>
        this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: { [ATTRIBUTES.key]: { S: leaseKey } }, ConsistentRead: true, ReturnConsumedCapacity: "TOTAL" }),
          { abortSignal: signal },
        ),
      this.retry,
    );
    this.count("GetItem", out.ConsumedCapacity);
    return out.Item ? fromItem(out.Item) : undefined;
  }

  /** Writes a new lease unless the shard has one already; true when this call created it. */
  async createIfAbsent(lease: Lease): Promise<boolean> {
    return withRetries(async (signal, ambiguous) => {
      try {
        const out = await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: toItem(lease),
            ConditionExpression: "attribute_not_exists(#key)",
            ExpressionAttributeNames: { "#key": ATTRIBUTES.key },
            ReturnConsumedCapacity: "TOTAL",
          }),
          { abortSignal: signal },
        );
        this.count("PutItem", out.ConsumedCapacity, true);
        return true;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        this.count("PutItem", undefined, true);
        this.usage.conditionFailures++;
        return ambiguous; // our own earlier attempt may have created it; either way the lease exists
      }
    }, this.retry);
  }

  /**
   * One conditional update on `expected`'s counter (and owner, for `ownerOnly`). On success returns the
   * lease as written (counter + 1); on a failed condition, `LeaseLostError` unless the row shows that an
   * unanswered earlier attempt of this very write was applied.
   */
  private async update(
    operation: string,
    expected: Lease,
    intended: Lease,
    set: Record<string, AttributeValue>,
    remove: string[],
    ownerOnly: string | undefined,
  ): Promise<Lease> {
    const names: Record<string, string> = { "#counter": ATTRIBUTES.counter };
    const values: Record<string, AttributeValue> = { ":expected": { N: String(expected.leaseCounter) }, ":next": { N: String(intended.leaseCounter) } };
    const sets = ["#counter = :next"];
    Object.entries(set).forEach(([attr, value], i) => {
      names[`#s${i}`] = attr;
      values[`:s${i}`] = value;
      sets.push(`#s${i} = :s${i}`);
    });
    remove.forEach((attr, i) => (names[`#r${i}`] = attr));
    let condition = "#counter = :expected";
    if (ownerOnly !== undefined) {
      names["#owner"] = ATTRIBUTES.owner;
      values[":owner"] = { S: ownerOnly };
      condition += " AND #owner = :owner";
    }
    const expression = `SET ${sets.join(", ")}${remove.length > 0 ? ` REMOVE ${remove.map((_, i) => `#r${i}`).join(", ")}` : ""}`;
    return withRetries(async (signal, ambiguous) => {
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [ATTRIBUTES.key]: { S: expected.leaseKey } },
            UpdateExpression: expression,
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            // The row as written: the owner learns of a hand-over request with its renewals, at no extra read.
            ReturnValues: "ALL_NEW",
            ReturnConsumedCapacity: "TOTAL",
          }),
          { abortSignal: signal },
        );
        this.count(operation, out.ConsumedCapacity, true);
        return out.Attributes ? fromItem(out.Attributes) : intended;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        this.count(operation, undefined, true);
        this.usage.conditionFailures++;
        const current = await this.get(expected.leaseKey);
        if (ambiguous && current && sameLease(current, intended)) return current;
        throw new LeaseLostError(expected.leaseKey, current);
      }
    }, this.retry);
  }

  /** Takes `lease` (as last seen: unheld, expired or stolen) for `owner`. */
  async take(lease: Lease, owner: string): Promise<Lease> {
    const switched = lease.leaseOwner !== undefined && lease.leaseOwner !== owner;
    const intended: Lease = {
      ...lease,
      leaseOwner: owner,
      leaseCounter: lease.leaseCounter + 1,
      ownerSwitchesSinceCheckpoint: lease.ownerSwitchesSinceCheckpoint + (switched ? 1 : 0),
      handoverRequestedBy: undefined,
    };
    return this.update(
      "TakeLease",
      lease,
      intended,
      { [ATTRIBUTES.owner]: { S: owner }, [ATTRIBUTES.ownerSwitches]: { N: String(intended.ownerSwitchesSinceCheckpoint) } },
      [ATTRIBUTES.handover],
      undefined,
    );
  }

  /** Renews `owner`'s lease: raises the counter so that observers see the owner alive. */
  async renew(lease: Lease, owner: string): Promise<Lease> {
    return this.update("RenewLease", lease, { ...lease, leaseCounter: lease.leaseCounter + 1 }, {}, [], owner);
  }

  /**
   * Records `checkpoint` in `owner`'s lease (with `timestamp`, ms since the epoch, for `AT_TIMESTAMP`; any
   * other checkpoint removes the row's timestamp); fails with `LeaseLostError` when the owner has lost it.
   */
  async checkpoint(lease: Lease, owner: string, checkpoint: string, subSequence = 0, timestamp?: number): Promise<Lease> {
    const intended: Lease = {
      ...lease,
      leaseCounter: lease.leaseCounter + 1,
      checkpoint,
      checkpointSubSequenceNumber: subSequence,
      ownerSwitchesSinceCheckpoint: 0,
      checkpointTimestamp: timestamp,
    };
    return this.update(
      "Checkpoint",
      lease,
      intended,
      {
        [ATTRIBUTES.checkpoint]: { S: checkpoint },
        [ATTRIBUTES.subSequence]: { N: String(subSequence) },
        [ATTRIBUTES.ownerSwitches]: { N: "0" },
        ...(timestamp !== undefined ? { [ATTRIBUTES.timestamp]: { N: String(timestamp) } } : {}),
      },
      timestamp === undefined ? [ATTRIBUTES.timestamp] : [],
      owner,
    );
  }

  /** Gives `owner`'s lease up (no owner): any worker may take it at once (the requester, when one asked for it). */
  async release(lease: Lease, owner: string): Promise<Lease> {
    // A pending hand-over request stays: the free lease is the requester's to take (balance.ts).
    return this.update("ReleaseLease", lease, { ...lease, leaseOwner: undefined, leaseCounter: lease.leaseCounter + 1 }, {}, [ATTRIBUTES.owner], owner);
  }

  /**
   * Asks the owner of `lease` (as last seen) to hand it over: marks the row with `requester`, leaving the
   * counter alone (so that the lease of a dead owner still expires), unless the owner or counter changed
   * or another request is pending. The owner sees the mark with its next renewal and releases the lease
   * after its reader checkpointed; nobody takes a live lease from under its owner. False when refused.
   */
  async requestHandover(lease: Lease, requester: string): Promise<boolean> {
    if (lease.leaseOwner === undefined) return false;
    return withRetries(async (signal) => {
      try {
        const out = await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [ATTRIBUTES.key]: { S: lease.leaseKey } },
            UpdateExpression: "SET #handover = :requester",
            ConditionExpression: "#counter = :expected AND #owner = :owner AND attribute_not_exists(#handover)",
            ExpressionAttributeNames: { "#handover": ATTRIBUTES.handover, "#counter": ATTRIBUTES.counter, "#owner": ATTRIBUTES.owner },
            ExpressionAttributeValues: { ":requester": { S: requester }, ":expected": { N: String(lease.leaseCounter) }, ":owner": { S: lease.leaseOwner! } },
            ReturnConsumedCapacity: "TOTAL",
          }),
          { abortSignal: signal },
        );
        this.count("RequestHandover", out.ConsumedCapacity, true);
        return true;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        this.count("RequestHandover", undefined, true);
        this.usage.conditionFailures++;
        return false; // the owner renewed meanwhile, or a request is pending (maybe our own): try again later
      }
    }, this.retry);
  }
}

function sameLease(a: Lease, b: Lease): boolean {
  return (
    a.leaseOwner === b.leaseOwner &&
    a.leaseCounter === b.leaseCounter &&
    a.checkpoint === b.checkpoint &&
    a.checkpointSubSequenceNumber === b.checkpointSubSequenceNumber &&
    a.checkpointTimestamp === b.checkpointTimestamp &&
    a.ownerSwitchesSinceCheckpoint === b.ownerSwitchesSinceCheckpoint
  );
}
