import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { nodeTransport, type TransportRequest } from "../../../src/synapse/transport.js";

interface Seen {
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly connection: number;
  readonly body: string;
  readonly headers: IncomingMessage["headers"];
}

/** A real server on loopback that numbers its connections and records what reached it. */
class Recorder {
  readonly seen: Seen[] = [];
  connections = 0;
  private readonly sockets = new Map<Socket, number>();
  readonly server: Server;

  constructor(handle: (seen: Seen, response: ServerResponse, socket: Socket) => void) {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        const seen = { method: request.method, path: request.url, connection: this.sockets.get(request.socket) ?? -1, body: Buffer.concat(chunks).toString("utf8"), headers: request.headers };
        this.seen.push(seen);
        handle(seen, response, request.socket);
      });
    });
    this.server.on("connection", (socket: Socket) => {
      this.connections++;
      this.sockets.set(socket, this.connections);
    });
  }

  async url(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return `http://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }
}

function get(base: string, path: string, timeoutMs = 2_000): TransportRequest {
  return { url: new URL(base + path), method: "GET", headers: { authorization: "Bearer t" }, timeoutMs };
}

let running: Recorder | undefined;

beforeAll(() => {
  nock.enableNetConnect("127.0.0.1");
});

afterEach(async () => {
  await running?.close();
  running = undefined;
});

function serve(handle: (seen: Seen, response: ServerResponse, socket: Socket) => void): Recorder {
  running = new Recorder(handle);
  return running;
}

describe("the admin API's transport", () => {
  it("keeps the connection: requests one after another go over one socket", async () => {
    const server = serve((_seen, response) => response.end('{"ok":true}'));
    const base = await server.url();

    for (let index = 0; index < 3; index++) {
      const answer = await nodeTransport(get(base, `/a?i=${index}`));
      expect(answer).toMatchObject({ ok: true, value: { status: 200, text: '{"ok":true}' } });
    }

    expect(server.seen.map((seen) => seen.connection)).toEqual([1, 1, 1]);
  });

  it("sends the method, path, headers and body with its length, and reads status, headers and text", async () => {
    const server = serve((_seen, response) => {
      response.writeHead(429, { "retry-after": "3", "content-type": "application/json" });
      response.end('{"errcode":"M_LIMIT_EXCEEDED"}');
    });
    const base = await server.url();
    const body = JSON.stringify({ reason: "spam é" });

    const answer = await nodeTransport({ url: new URL(`${base}/p?x=1&x=2`), method: "POST", headers: { authorization: "Bearer t", "content-type": "application/json" }, body, timeoutMs: 2_000 });

    if (!answer.ok) throw new Error("no answer");
    expect(answer.value.status).toBe(429);
    expect(answer.value.header("retry-after")).toBe("3");
    expect(answer.value.header("x-missing")).toBeUndefined();
    expect(answer.value.text).toBe('{"errcode":"M_LIMIT_EXCEEDED"}');
    expect(server.seen).toMatchObject([{ method: "POST", path: "/p?x=1&x=2", body }]);
    expect(server.seen[0]?.headers).toMatchObject({ authorization: "Bearer t", "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) });
  });

  it("sends a request again on a new socket when the kept one was closed under it before any answer, purges included", async () => {
    // The second request arrives on the kept socket, which the server then drops unanswered: the
    // race of a server closing an idle connection just as a request goes out on it.
    const server = serve((seen, response, socket) => {
      if (seen.path === "/second" && seen.connection === 1) socket.destroy();
      else response.end("{}");
    });
    const base = await server.url();
    await nodeTransport(get(base, "/first"));

    const answer = await nodeTransport({ url: new URL(`${base}/second`), method: "POST", headers: {}, body: "{}", timeoutMs: 2_000 });

    expect(answer).toMatchObject({ ok: true, value: { status: 200 } });
    expect(server.seen.map((seen) => [seen.path, seen.connection])).toEqual([["/first", 1], ["/second", 1], ["/second", 2]]);
  });

  it("sends it again once only: a new socket dropped too is a failure with the socket's code", async () => {
    const server = serve((seen, response, socket) => {
      if (seen.path === "/first") response.end("{}");
      else socket.destroy();
    });
    const base = await server.url();
    await nodeTransport(get(base, "/first"));

    const answer = await nodeTransport(get(base, "/second"));

    expect(answer).toEqual({ ok: false, error: { timedOut: false, code: "ECONNRESET" } });
    expect(server.seen.map((seen) => seen.path)).toEqual(["/first", "/second", "/second"]);
  });

  it("does not send again when the drop came on a new socket", async () => {
    const server = serve((_seen, _response, socket) => socket.destroy());
    const base = await server.url();

    const answer = await nodeTransport(get(base, "/only"));

    expect(answer).toEqual({ ok: false, error: { timedOut: false, code: "ECONNRESET" } });
    expect(server.seen).toHaveLength(1);
  });

  it("does not send again once an answer began: a body cut off is a failure", async () => {
    const server = serve((seen, response, socket) => {
      if (seen.path === "/first") {
        response.end("{}");
        return;
      }
      response.writeHead(200, { "content-length": "100" });
      response.write('{"purge_id":');
      setImmediate(() => socket.destroy());
    });
    const base = await server.url();
    await nodeTransport(get(base, "/first"));

    const answer = await nodeTransport(get(base, "/second"));

    expect(answer.ok).toBe(false);
    expect(server.seen.map((seen) => seen.path)).toEqual(["/first", "/second"]);
  });

  it("times out the whole exchange: headers then a stalled body", async () => {
    const server = serve((_seen, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write('{"a":');
    });
    const base = await server.url();

    const answer = await nodeTransport(get(base, "/stall", 100));

    expect(answer).toEqual({ ok: false, error: { timedOut: true } });
    expect(server.seen).toHaveLength(1);
  });

  it("a refused connection is a failure with its code, not a timeout", async () => {
    const server = serve((_seen, response) => response.end("{}"));
    const base = await server.url();
    await server.close();
    running = undefined;

    const answer = await nodeTransport(get(base, "/x"));

    expect(answer).toEqual({ ok: false, error: { timedOut: false, code: "ECONNREFUSED" } });
  });
});
