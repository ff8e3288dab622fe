/**
 * The limits endpoint as an HTTP server on 127.0.0.1: Kinesis calls (awsJson1_1) go to the enforcer,
 * `GET /__limits/stats` serves the counters (per stream with `?stream=`) and `POST /__limits/reset` resets
 * them, so a benchmark in another process can read them. The CBOR protocol is refused, never passed
 * unlimited.
 */
import * as http from "http";
import { AddressInfo } from "net";
import { LimitsEnforcer } from "./enforcer";
import { LimitsEndpointOptions } from "./options";
import { LimitsStats } from "./stats";
import { HttpReply, TARGET_PREFIX } from "./wire";

export interface LimitsEndpoint {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  /** Counters of one stream, or of all streams together. */
  stats(stream?: string): LimitsStats;
  resetStats(): void;
  close(): Promise<void>;
}

/** Starts the endpoint in this process. */
export async function startLimitsEndpoint(options: LimitsEndpointOptions): Promise<LimitsEndpoint> {
  const enforcer = new LimitsEnforcer(options);
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      void answer(req, body).then(
        (reply) => {
          res.writeHead(reply.status, { ...reply.headers, "content-length": String(Buffer.byteLength(reply.body)) });
          res.end(reply.body);
        },
        (err: Error) => {
          const reply = HttpReply.error("InternalFailure", `limits endpoint: ${err.message}`, 500);
          res.writeHead(reply.status, { ...reply.headers, "content-length": String(Buffer.byteLength(reply.body)) });
          res.end(reply.body);
        },
      );
    });
  });
  const answer = async (req: http.IncomingMessage, body: Buffer): Promise<HttpReply> => {
    const url = req.url ?? "/";
    if (url.startsWith("/__limits/")) {
      if (req.method === "POST" && url === "/__limits/reset") {
        enforcer.resetStats();
        return HttpReply.json({});
      }
      const stream = new URL(url, "http://x").searchParams.get("stream") ?? undefined;
      return HttpReply.json(enforcer.stats(stream));
    }
    const contentType = String(req.headers["content-type"] ?? "");
    if (contentType.includes("cbor")) {
      return HttpReply.error("UnsupportedMediaType", "the limits endpoint speaks awsJson1_1 (JSON) only, as @aws-sdk/client-kinesis v3 does");
    }
    const target = String(req.headers["x-amz-target"] ?? "");
    if (!target.startsWith(TARGET_PREFIX)) return HttpReply.error("UnknownOperationException", `no Kinesis target in X-Amz-Target: "${target}"`);
    return enforcer.handle(target.slice(TARGET_PREFIX.length), body, req.headers);
  };
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: (stream) => enforcer.stats(stream),
    resetStats: () => enforcer.resetStats(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        enforcer.close();
      });
      return closing;
    },
  };
}
