/**
 * The one way the apps build a Kinesis client: HTTP/1.1 (emulators do not speak HTTP/2), keep-alive
 * sockets for concurrent requests, and the AWS SDK's own conventions for region, credentials and endpoint.
 */
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import * as http from "http";
import * as https from "https";

// On Node 20 the SDK prints a 9-line notice that its 2027 releases will need Node 22. The apps promise
// one-line stderr messages, and package-lock.json pins the SDK, so the notice is silenced unless the user
// chose otherwise; README.md recommends Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export interface ClientOptions {
  /** Endpoint URL. @default AWS_ENDPOINT_URL_KINESIS, then AWS_ENDPOINT_URL, then the regional AWS endpoint */
  endpoint?: string;
  /** Region. @default the SDK's chain (AWS_REGION, profile), or "us-east-1" for a custom endpoint */
  region?: string;
  /** Sockets per host. @default 50 */
  maxSockets?: number;
  /**
   * Attempts per call made by the SDK itself. The apps do their own retrying (resend failed entries,
   * re-create iterators), so the default keeps the SDK's standard retries for transport errors only.
   * @default 3
   */
  maxAttempts?: number;
}

/** True for an endpoint on this machine (an emulator), where dummy credentials are fine. */
export function isLoopbackEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return false;
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
  } catch {
    return false;
  }
}

/** The endpoint the SDK would use from the environment, if any. */
export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // `||`, not `??`: an empty variable means "not set", as it does for the SDK.
  return env.AWS_ENDPOINT_URL_KINESIS || env.AWS_ENDPOINT_URL || undefined;
}

export function createKinesisClient(options: ClientOptions = {}, env: NodeJS.ProcessEnv = process.env): KinesisClient {
  const endpoint = options.endpoint ?? endpointFromEnv(env);
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? "us-east-1" : undefined);
  const maxSockets = options.maxSockets ?? 50;
  const hasCredentialsConfigured = Boolean(env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE);
  return new KinesisClient({
    endpoint,
    region,
    maxAttempts: options.maxAttempts ?? 3,
    // An emulator on loopback accepts any signature; real endpoints always use the default credential chain.
    credentials:
      isLoopbackEndpoint(endpoint) && !hasCredentialsConfigured
        ? { accessKeyId: "local", secretAccessKey: "local" }
        : undefined,
    requestHandler: new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      // Emulators on this machine (kinesis-local's TLS port) use self-signed certificates; anything that
      // is not loopback is verified as usual.
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets, rejectUnauthorized: !isLoopbackEndpoint(endpoint) }),
      connectionTimeout: 5_000,
      requestTimeout: 30_000,
    }),
  });
}
