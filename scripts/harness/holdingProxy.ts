import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Which requests to hold: by method and path (query string included). */
export type RequestMatcher = (method: string, path: string) => boolean;

interface Held {
  readonly incoming: IncomingMessage;
  readonly response: ServerResponse;
  readonly body: Buffer;
}

/**
 * A test-only HTTP proxy between Warden and Synapse that can hold or refuse requests, to force the
 * moment a test needs instead of hoping to hit it: hold Warden's answers, and its commands are
 * in progress for as long as the test likes (then SIGTERM or SIGKILL it). Nothing in Warden
 * knows about it; Warden is simply configured with the proxy's URL as its homeserver.
 */
export class HoldingProxy {
  private readonly server = createServer((incoming, response) => {
    void this.accept(incoming, response);
  });
  private matcher: RequestMatcher | undefined;
  private refused: RequestMatcher | undefined;
  /** Every request that reached the proxy, in order, refused ones included, with when it arrived (Date.now()). */
  readonly seen: { readonly method: string; readonly path: string; readonly at: number }[] = [];
  private readonly held: Held[] = [];
  private readonly waiters: (() => void)[] = [];
  url = "";

  private constructor(private readonly target: URL) {}

  static async start(targetUrl: string): Promise<HoldingProxy> {
    const proxy = new HoldingProxy(new URL(targetUrl));
    await new Promise<void>((resolve) => proxy.server.listen(0, "127.0.0.1", resolve));
    proxy.url = `http://127.0.0.1:${String((proxy.server.address() as AddressInfo).port)}`;
    return proxy;
  }

  /** From now on, requests that match wait until release(). */
  hold(matcher: RequestMatcher): void {
    this.matcher = matcher;
  }

  /**
   * From now on, matching requests never reach the target: they are answered 404
   * M_UNRECOGNIZED, as by a reverse proxy that sends them to a Synapse process that does not
   * serve them (a client worker asked for most of the admin API).
   */
  refuse(matcher: RequestMatcher): void {
    this.refused = matcher;
  }

  /** How many requests are waiting. */
  heldCount(): number {
    return this.held.length;
  }

  /** Resolves once at least `count` requests are waiting. */
  async waitForHeld(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.held.length < count) {
      if (Date.now() > deadline) throw new Error(`HoldingProxy: only ${String(this.held.length)} of ${String(count)} requests held after ${String(timeoutMs)} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Stops holding and sends on what waits. With `evenIfCallerGone`, requests whose caller has
   * died are sent too, as if the homeserver had received them just before the caller was killed;
   * otherwise they are dropped.
   */
  release(options: { evenIfCallerGone?: boolean } = {}): void {
    this.matcher = undefined;
    for (const held of this.held.splice(0)) {
      if (held.incoming.socket.destroyed && options.evenIfCallerGone !== true) continue;
      this.forward(held);
    }
  }

  async stop(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
  }

  private async accept(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const held = { incoming, response, body: Buffer.concat(chunks) };
    this.seen.push({ method: incoming.method ?? "GET", path: incoming.url ?? "/", at: Date.now() });
    if (this.refused?.(incoming.method ?? "GET", incoming.url ?? "/") === true) {
      response.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ errcode: "M_UNRECOGNIZED", error: "Unrecognized request" }));
      return;
    }
    if (this.matcher?.(incoming.method ?? "GET", incoming.url ?? "/") === true) {
      this.held.push(held);
      for (const waiter of this.waiters.splice(0)) waiter();
      return;
    }
    this.forward(held);
  }

  private forward({ incoming, response, body }: Held): void {
    const outgoing = request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: this.target.host, "content-length": String(body.length) },
      },
      (answer) => {
        if (incoming.socket.destroyed) {
          answer.resume();
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    outgoing.on("error", () => {
      if (!incoming.socket.destroyed && !response.headersSent) response.writeHead(502).end();
    });
    outgoing.end(body);
  }
}
