/**
 * What a consumer group's lease table costs: DynamoDB requests per shard per minute for 1, 4 and 16
 * workers on 16 shards, measured against the local stand-in (dynalite) with the coordinator's default
 * timing (lease 10 s, renewal every 3.3 s), in the balanced steady state and without checkpoints (those
 * are the application's choice: one write request each). On-demand tables bill per request unit: a write
 * of up to 1 KB is one write unit (a refused conditional write too), a strongly consistent read one read
 * unit per 4 KB (a scan: of all the rows it reads).
 *
 *   node scripts/run-ts.js bench/lease-cost.ts [windowSeconds=30]
 */
import { startLocalDynamoDb } from "../local/dynamodb";
import { createLeaseClient, LeaseCoordinator, LeaseTable, newLease, toItem } from "../runtime/leases";

const SHARDS = 16;
const windowMs = Number(process.argv[2] ?? 30) * 1000;

/** DynamoDB's item size: attribute names plus values (strings in UTF-8, numbers about 1 byte per 2 digits + 1). */
function itemBytes(item: Record<string, { S?: string; N?: string; SS?: string[] }>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) {
    n += Buffer.byteLength(name);
    if (v.S !== undefined) n += Buffer.byteLength(v.S);
    if (v.N !== undefined) n += Math.ceil(v.N.length / 2) + 1;
    if (v.SS) n += v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  }
  return n;
}

async function measure(endpoint: string, workers: number): Promise<string> {
  const client = createLeaseClient({ endpoint });
  const tableName = `cost-${workers}`;
  const setup = new LeaseTable({ client, tableName });
  await setup.create();
  for (let i = 0; i < SHARDS; i++) await setup.createIfAbsent(newLease(`shardId-${String(i).padStart(12, "0")}`, [], "TRIM_HORIZON"));
  const tables = Array.from({ length: workers }, () => new LeaseTable({ client, tableName }));
  const coordinators = tables.map((table, i) => new LeaseCoordinator({ table, workerId: `worker-${i}` }));
  for (const c of coordinators) c.on("release", (key) => void c.release(key));
  await Promise.all(coordinators.map((c) => c.start()));
  const share = Math.ceil(SHARDS / workers);
  const balanced = () => coordinators.every((c) => c.heldKeys().length <= share) && coordinators.reduce((n, c) => n + c.heldKeys().length, 0) === SHARDS;
  const warmEnd = Date.now() + 120_000;
  while (!balanced() && Date.now() < warmEnd) await new Promise((r) => setTimeout(r, 200));
  const before = tables.map((t) => ({ ...t.usage.calls }));
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const minutes = (Date.now() - t0) / 60_000;
  const calls: Record<string, number> = {};
  tables.forEach((t, i) => {
    for (const [op, n] of Object.entries(t.usage.calls)) calls[op] = (calls[op] ?? 0) + n - (before[i][op] ?? 0);
  });
  await Promise.all(coordinators.map((c) => c.stop()));
  const rows = await setup.list();
  const tableBytes = rows.reduce((n, l) => n + itemBytes(toItem(l) as never), 0);
  const readUnitsPerScan = Math.ceil(tableBytes / 4096);
  const writes = (calls.RenewLease ?? 0) + (calls.TakeLease ?? 0) + (calls.ReleaseLease ?? 0) + (calls.PutItem ?? 0);
  const reads = (calls.Scan ?? 0) * readUnitsPerScan + (calls.GetItem ?? 0);
  const per = (x: number) => (x / minutes / SHARDS).toFixed(1);
  return `| ${workers} | ${per(writes)} | ${per(reads)} | ${per(writes + reads)} | ${JSON.stringify(calls)} (table ${tableBytes} B) |`;
}

async function main(): Promise<void> {
  const db = await startLocalDynamoDb();
  try {
    console.log(`16 shards, lease 10 s, renewal 3.3 s, ${windowMs / 1000} s window in the balanced state, no checkpoints`);
    console.log("| workers | write units / shard / min | read units / shard / min | requests / shard / min | calls in the window |");
    console.log("| --- | --- | --- | --- | --- |");
    for (const workers of [1, 4, 16]) console.log(await measure(db.endpoint, workers));
  } finally {
    await db.stop();
  }
}

main().catch((err) => {
  console.error(`lease-cost: ${(err as Error).message}`);
  process.exit(1);
});
