/**
 * A metering proxy in front of a DynamoDB endpoint (the local lake's dynalite), for the bench: every
 * request is forwarded unchanged, and counted by the caller's `classify` (from the operation,
 * `X-Amz-Target: DynamoDB_20120810.<Operation>`, and the request's JSON body), with the capacity units
 * the answer reports (`ConsumedCapacity.CapacityUnits`, for requests that ask for them, as the lease
 * table's do) and the refused conditional writes (`ConditionalCheckFailedException`), which answer with
 * no units. Worker processes pointed at it (their catalog's group endpoint) are metered without any
 * change to them.
 *
 * dynalite (4.x) drops `ConsistentRead` from a Scan (its Scan validation does not list the parameter; its
 * reads are consistent anyway) and so reports a scan's units at the eventually consistent half rate: a
 * consistent scan's units are doubled here, as DynamoDB bills them.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface MeterCounts {
  /** Calls by class. */
  calls: Record<string, number>;
  /** Units by class, as the answers reported them. */
  units: Record<string, number>;
  /** Conditional writes refused, by class. */
  refused: Record<string, number>;
}

export interface DynamoDbMeter {
  endpoint: string;
  /** The counts since the start or the last `reset`. */
  counts(): MeterCounts;
  reset(): void;
  stop(): Promise<void>;
}

export type Classify = (operation: string, body: Record<string, unknown>) => string;

/** The lease table's requests by what they do (runtime/leases/table.ts writes each kind its own way). */
export function classifyLeaseRequest(operation: string, body: Record<string, unknown>): string {
  if (operation !== "UpdateItem") return operation === "PutItem" ? "CreateLease" : operation;
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  if (String(body.UpdateExpression ?? "").includes("#handover")) return "RequestHandover";
  const set = Object.entries(names).filter(([k]) => k.startsWith("#s")).map(([, v]) => v);
  const removed = Object.entries(names).filter(([k]) => k.startsWith("#r")).map(([, v]) => v);
  if (set.includes("checkpoint")) return "Checkpoint";
  if (set.includes("leaseOwner")) return "TakeLease";
  if (removed.includes("leaseOwner")) return "ReleaseLease";
  return "RenewLease";
}

const empty = (): MeterCounts => ({ calls: {}, units: {}, refused: {} });
const add = (m: Record<string, number>, key: string, n: number) => (m[key] = (m[key] ?? 0) + n);

export async function startDynamoDbMeter(target: string, classify: Classify = (operation) => operation): Promise<DynamoDbMeter> {
  const to = new URL(target);
  let counts = empty();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const operation = String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
      } catch {
        // not JSON: forwarded as it is, classified by its operation alone
      }
      const kind = classify(operation, parsed);
      add(counts.calls, kind, 1);
      const upstream = http.request(
        { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers, agent, timeout: 10_000 },
        (answer) => {
          const parts: Buffer[] = [];
          answer.on("data", (c: Buffer) => parts.push(c));
          answer.on("end", () => {
            const text = Buffer.concat(parts);
            try {
              const out = JSON.parse(text.toString("utf8") || "{}") as { ConsumedCapacity?: { CapacityUnits?: number }; __type?: string };
              const units = out.ConsumedCapacity?.CapacityUnits ?? 0;
              if (units > 0) add(counts.units, kind, operation === "Scan" && parsed.ConsistentRead === true ? units * 2 : units);
              if (String(out.__type ?? "").endsWith("ConditionalCheckFailedException")) add(counts.refused, kind, 1);
            } catch {
              // not JSON: nothing to count
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(text);
          });
        },
      );
      upstream.on("timeout", () => upstream.destroy(new Error("upstream timeout")));
      upstream.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => structuredClone(counts),
    reset: () => {
      counts = empty();
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
