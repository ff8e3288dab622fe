/**
 * The one way the apps build a Kinesis client: HTTP/1.1 (emulators do not speak HTTP/2), keep-alive
 * sockets for concurrent requests, and the AWS SDK's own conventions for region, credentials and endpoint.
 */
import { KinesisClient, KinesisClientConfig } from "@aws-sdk/client-kinesis";
import { NodeHttp2Handler, NodeHttpHandler } from "@smithy/node-http-handler";
import * as http from "http";
import * as https from "https";
import { FastPutRecordsProtocol } from "./put-records-protocol";

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
  /**
   * Deadline of one call, SDK retries included: a call that has not completed by then is aborted and fails
   * with a `TimeoutError` (a transient error: the apps' own retry budgets then apply). Without it, a frozen
   * endpoint (accepts the connection, never answers) would hang the apps forever.
   * @default 30000
   */
  callTimeoutMs?: number;
  /**
   * HTTP/2 (`NodeHttp2Handler`), which AWS requires for SubscribeToShard (enhanced fan-out). Stream
   * emulators on loopback get HTTP/1.1 whatever this says: kinesis-local serves SubscribeToShard's event
   * stream over HTTP/1.1, and its HTTP/2 event stream fails in Node's http2 client (ERR_HTTP2_ERROR).
   * @default false
   */
  http2?: boolean;
}

/** Default deadline of one Kinesis call (SDK retries included). */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

/** A call that did not complete before its deadline. Classified as transient (`TimeoutError`). */
export class CallTimeoutError extends Error {
  readonly $retryable = { throttling: false };
  constructor(operation: string, timeoutMs: number) {
    super(`Kinesis ${operation} got no answer within ${timeoutMs / 1000} s (--call-timeout)`);
    this.name = "TimeoutError";
  }
}

/**
 * A KinesisClient whose every `send` has a deadline that ends it: an AbortSignal fired after
 * `callTimeoutMs` (combined with the caller's own signal). The HTTP handler's `requestTimeout` alone only
 * logs a warning unless `throwOnRequestTimeout` is set, and never bounds reading a response body.
 */
export class DeadlineKinesisClient extends KinesisClient {
  constructor(
    config: KinesisClientConfig,
    readonly callTimeoutMs: number,
  ) {
    super(config);
  }

  override send(command: any, optionsOrCb?: any, cb?: any): any {
    if (typeof optionsOrCb === "function" || typeof cb === "function") return super.send(command, optionsOrCb, cb);
    const options = { ...(optionsOrCb ?? {}) };
    const outer: AbortSignal | undefined = options.abortSignal;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.callTimeoutMs);
    const onOuterAbort = () => controller.abort(outer?.reason);
    if (outer?.aborted) onOuterAbort();
    else outer?.addEventListener("abort", onOuterAbort, { once: true });
    options.abortSignal = controller.signal;
    const operation = String(command?.constructor?.name ?? "call").replace(/Command$/, "");
    return (super.send(command, options) as Promise<unknown>).then(
      (out) => {
        clearTimeout(timer);
        outer?.removeEventListener("abort", onOuterAbort);
        return out;
      },
      (err: unknown) => {
        clearTimeout(timer);
        outer?.removeEventListener("abort", onOuterAbort);
        if (timedOut && !outer?.aborted) throw new CallTimeoutError(operation, this.callTimeoutMs);
        throw err;
      },
    );
  }
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

export function createKinesisClient(options: ClientOptions = {}, env: NodeJS.ProcessEnv = process.env): DeadlineKinesisClient {
  const endpoint = options.endpoint ?? endpointFromEnv(env);
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? (endpoint ? "us-east-1" : undefined);
  const maxSockets = options.maxSockets ?? 50;
  const callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  // One attempt may take a third of the call's deadline, so a stale keep-alive socket still leaves time for
  // the SDK to retry on a fresh connection within the deadline.
  const attemptTimeoutMs = Math.max(1_000, Math.floor(callTimeoutMs / 3));
  return new DeadlineKinesisClient({
    endpoint,
    region,
    maxAttempts: options.maxAttempts ?? 3,
    // The SDK's AWS JSON 1.1 protocol with a direct path for PutRecords bodies (a third of the
    // publisher's CPU otherwise); every other call and every error response is the SDK's own.
    protocol: FastPutRecordsProtocol,
    // An emulator on loopback accepts any signature, so a profile or role configured for AWS (maybe not
    // even resolvable here) must not stand in the way: static keys from the environment when set, else
    // dummy ones. Real endpoints always use the default credential chain.
    credentials: isLoopbackEndpoint(endpoint)
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID || "local",
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY || "local",
          ...(env.AWS_ACCESS_KEY_ID && env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined,
    requestHandler: options.http2 && !isLoopbackEndpoint(endpoint)
      ? // No request timeout: a subscription streams events for up to 5 minutes (the reader bounds quiet ones).
        new NodeHttp2Handler({ sessionTimeout: 300_000, disableConcurrentStreams: false })
      : new NodeHttpHandler({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets }),
      // Emulators on this machine (kinesis-local's TLS port) use self-signed certificates; anything that
      // is not loopback is verified as usual.
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets, rejectUnauthorized: !isLoopbackEndpoint(endpoint) }),
      connectionTimeout: Math.min(5_000, attemptTimeoutMs),
      // Time to the response headers; without throwOnRequestTimeout it would only log a warning.
      requestTimeout: attemptTimeoutMs,
      throwOnRequestTimeout: true,
      // A response body that stops arriving (no byte for this long) fails the attempt too.
      socketTimeout: attemptTimeoutMs,
    }),
  }, callTimeoutMs);
}
