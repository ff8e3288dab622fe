/**
 * The DynamoDB client a lease table uses: one SDK attempt per call (the table's own loop retries, with a
 * deadline per attempt, retry.ts), keep-alive sockets, and the SDK's usual region and credentials; an
 * endpoint on loopback (the local lake's stand-in) gets dummy credentials, as the Kinesis clients do.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import * as http from "node:http";
import * as https from "node:https";

// As apps/lib/client.ts: on Node 20 the SDK prints a 9-line notice about its 2027 releases; silenced unless the user chose.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export interface LeaseClientOptions {
  /** @default AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL, then the regional endpoint */
  endpoint?: string;
  /** @default AWS_REGION, then AWS_DEFAULT_REGION, then "us-east-1" for a custom endpoint */
  region?: string;
  /** Deadline of one HTTP attempt (the table also aborts each call at its own deadline). @default 2000 */
  requestTimeoutMs?: number;
}

function isLoopback(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

export function createLeaseClient(options: LeaseClientOptions = {}, env: NodeJS.ProcessEnv = process.env): DynamoDBClient {
  const endpoint = options.endpoint ?? (env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined);
  const timeout = options.requestTimeoutMs ?? 2_000;
  return new DynamoDBClient({
    endpoint,
    region: options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? "us-east-1" : undefined),
    maxAttempts: 1,
    credentials: isLoopback(endpoint) ? { accessKeyId: env.AWS_ACCESS_KEY_ID || "local", secretAccessKey: env.AWS_SECRET_ACCESS_KEY || "local" } : undefined,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 16 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 16 }),
      connectionTimeout: Math.min(timeout, 1_000),
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
    }),
  });
}
