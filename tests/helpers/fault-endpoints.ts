/**
 * Loopback endpoints that misbehave the way real networks do, for fault tests with real processes:
 *   - a silent server: accepts every connection and never answers (a stalled load balancer);
 *   - a refusing port: nothing listens there (ECONNREFUSED);
 *   - a freezable proxy: forwards to a real endpoint until `freeze()`, then goes silent on every open
 *     and new connection (a suspended emulator in the middle of a run).
 */
import * as net from "net";

export interface FaultEndpoint {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  close(): Promise<void>;
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closer(server: net.Server, sockets: Set<net.Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
}

/** Accepts connections, reads whatever comes, answers nothing. */
export async function startSilentServer(): Promise<FaultEndpoint> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("data", () => undefined);
    socket.on("error", () => undefined);
    socket.on("close", () => sockets.delete(socket));
  });
  const port = await listen(server);
  return { endpoint: `http://127.0.0.1:${port}`, close: closer(server, sockets) };
}

/** A loopback port on which nothing listens (bound once, then released). */
export async function refusingEndpoint(): Promise<string> {
  const server = net.createServer();
  const port = await listen(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export interface FreezableProxy extends FaultEndpoint {
  /** From now on nothing is forwarded in either direction, and new connections get no answer. */
  freeze(): void;
  readonly frozen: boolean;
}

/**
 * A TCP proxy to `target` (`http://host:port`) that can be frozen.
 * @param delayMs hold every chunk of an answer this long before passing it on (a slow endpoint). @default 0
 */
export async function startFreezableProxy(target: string, delayMs = 0): Promise<FreezableProxy> {
  const url = new URL(target);
  const sockets = new Set<net.Socket>();
  let frozen = false;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("error", () => undefined);
    client.on("close", () => sockets.delete(client));
    if (frozen) {
      client.on("data", () => undefined);
      return;
    }
    const upstream = net.connect(Number(url.port), url.hostname);
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => sockets.delete(upstream));
    client.on("data", (chunk) => {
      if (!frozen) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (frozen) return;
      if (delayMs > 0) setTimeout(() => !frozen && client.write(chunk), delayMs);
      else client.write(chunk);
    });
    client.on("end", () => {
      if (!frozen) upstream.end();
    });
    upstream.on("end", () => {
      if (frozen) return;
      if (delayMs > 0) setTimeout(() => !frozen && client.end(), delayMs);
      else client.end();
    });
  });
  const port = await listen(server);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: closer(server, sockets),
    freeze: () => {
      frozen = true;
    },
    get frozen() {
      return frozen;
    },
  };
}

export type ProxyMode = "forward" | "freeze" | "refuse";

export interface ControllableProxy extends FaultEndpoint {
  /**
   * forward: pass bytes both ways. freeze: accept connections but pass nothing and answer nothing, on open
   * and new connections (a stalled network path); connections frozen stay dead after a thaw, as TCP streams
   * that lost bytes would. refuse: stop listening and drop every connection, so connects get ECONNREFUSED
   * (the port is kept and listened on again when the mode returns to forward).
   */
  set(mode: ProxyMode): Promise<void>;
  readonly mode: ProxyMode;
}

/** A TCP proxy to `target` (`http://host:port`) that can be frozen, made to refuse connections, and thawed. */
export async function startControllableProxy(target: string): Promise<ControllableProxy> {
  const url = new URL(target);
  const sockets = new Set<net.Socket>();
  let mode: ProxyMode = "forward";
  /** Connections that saw a freeze or were accepted during one: never forwarded again. */
  const dead = new WeakSet<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("error", () => undefined);
    client.on("close", () => sockets.delete(client));
    if (mode !== "forward") {
      dead.add(client);
      client.on("data", () => undefined);
      return;
    }
    const upstream = net.connect(Number(url.port), url.hostname);
    sockets.add(upstream);
    const live = () => mode === "forward" && !dead.has(client);
    upstream.on("error", () => client.destroy());
    upstream.on("close", () => sockets.delete(upstream));
    client.on("data", (chunk) => (live() ? upstream.write(chunk) : dead.add(client)));
    upstream.on("data", (chunk) => (live() ? client.write(chunk) : dead.add(client)));
    client.on("end", () => live() && upstream.end());
    upstream.on("end", () => live() && client.end());
  });
  const port = await listen(server);
  const closeAll = closer(server, sockets);
  const markDead = () => {
    for (const s of sockets) dead.add(s);
  };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => (server.listening ? closeAll() : Promise.resolve(void [...sockets].forEach((s) => s.destroy()))),
    get mode() {
      return mode;
    },
    async set(next: ProxyMode) {
      if (next === mode) return;
      const was = mode;
      mode = next;
      if (next === "freeze") markDead();
      if (next === "refuse") {
        for (const s of sockets) s.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      if (was === "refuse") {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(port, "127.0.0.1", () => resolve());
        });
      }
    },
  };
}
