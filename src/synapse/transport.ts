import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { err, ok, type Result } from "../util/result.js";

export interface TransportRequest {
  readonly url: URL;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** For the whole exchange, body included: a server that sends headers and then stalls is late too. */
  readonly timeoutMs: number;
}

export interface TransportResponse {
  readonly status: number;
  /** A response header by its lower-case name. */
  header(name: string): string | undefined;
  readonly text: string;
}

/** No answer in time, or none at all; `code` is the socket's error code (ECONNREFUSED, ...). */
export interface TransportFailure {
  readonly timedOut: boolean;
  readonly code?: string;
}

export type Transport = (request: TransportRequest) => Promise<Result<TransportResponse, TransportFailure>>;

/**
 * One keep-alive agent per scheme for every admin request of the process. A wave sends several
 * requests a room; `fetch` costs about four times node:http's CPU per request (bench/README), and
 * at 100,000 rooms that was a third of Warden's busy time. The agents honour the server's
 * Keep-Alive timeout hint and otherwise let an idle socket go after 4 s, as fetch did.
 */
const agents = {
  http: new HttpAgent({ keepAlive: true, timeout: 4_000 }),
  https: new HttpsAgent({ keepAlive: true, timeout: 4_000 }),
};

/** node:http with keep-alive; intercepted by nock like any ClientRequest. */
export const nodeTransport: Transport = (request) => sendOnSocket(request, true);

function sendOnSocket(request: TransportRequest, mayRetryStaleSocket: boolean): Promise<Result<TransportResponse, TransportFailure>> {
  return new Promise((resolve) => {
    const secure = request.url.protocol === "https:";
    const send = secure ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = { ...request.headers };
    if (request.body !== undefined) headers["content-length"] = Buffer.byteLength(request.body);
    let settled = false;
    let answered = false;
    let timedOut = false;
    const settle = (outcome: Result<TransportResponse, TransportFailure> | Promise<Result<TransportResponse, TransportFailure>>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const fail = (error: Error | undefined): void => {
      const code = (error as NodeJS.ErrnoException | undefined)?.code;
      // A kept-alive socket the server closed just as this request went out: nothing came back,
      // so the server never took the request, and sending it again on a new socket is safe even
      // for a purge. Node documents this race and this answer to it (ClientRequest.reusedSocket).
      if (!timedOut && mayRetryStaleSocket && !answered && outgoing.reusedSocket && (code === "ECONNRESET" || code === "EPIPE")) {
        settle(sendOnSocket(request, false));
        return;
      }
      settle(err({ timedOut, ...(code === undefined || timedOut ? {} : { code }) }));
    };
    const outgoing: ClientRequest = send(request.url, { method: request.method, headers, agent: secure ? agents.https : agents.http }, (incoming: IncomingMessage) => {
      answered = true;
      const chunks: Buffer[] = [];
      incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
      incoming.on("end", () => { settle(ok(response(incoming, Buffer.concat(chunks).toString("utf8")))); });
      incoming.on("error", fail);
      // Cut off before its end (the timer, or the server): no whole answer to read.
      incoming.on("close", () => { if (!incoming.complete) fail(undefined); });
    });
    const timer = setTimeout(() => {
      timedOut = true;
      outgoing.destroy();
      fail(undefined);
    }, request.timeoutMs);
    outgoing.on("error", fail);
    outgoing.end(request.body);
  });
}

function response(incoming: IncomingMessage, text: string): TransportResponse {
  return {
    status: incoming.statusCode ?? 0,
    header: (name) => {
      const value = incoming.headers[name];
      return Array.isArray(value) ? value.join(", ") : value;
    },
    text,
  };
}
