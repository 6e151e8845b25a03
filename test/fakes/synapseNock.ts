import nock from "nock";
import { afterEach, beforeAll, expect } from "vitest";
import type { HttpMethod } from "../../src/synapse/http.js";
import { SynapseAdminClient } from "../../src/synapse/adminClient.js";

/** The homeserver every nock-backed test talks to; no real host answers to it. */
export const HOMESERVER_URL = "https://synapse.test";

/** One request exactly as it reached the (fake) homeserver. */
export interface SeenRequest {
  readonly method: string;
  /** The raw path and query, still percent-encoded as they went over the wire. */
  readonly path: string;
  readonly authorization: string | null;
  readonly contentType: string | null;
  /** The parsed JSON body, or undefined when none was sent. */
  readonly body: unknown;
}

export type CannedReply =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly text: string; readonly headers?: Readonly<Record<string, string>> }
  /** Never answers: waits until the client gives up (aborts), so a timeout needs no real wait. */
  | { readonly hang: true };

function waitForAbort(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => { resolve(); }, { once: true });
  });
}

/**
 * A fake Synapse built on nock: each `answer` queues replies for one HTTP method (any path),
 * used in order, and every request that reaches it is recorded in `seen`.
 */
export class SynapseNock {
  readonly seen: SeenRequest[] = [];

  answer(method: HttpMethod, ...replies: readonly CannedReply[]): this {
    for (const reply of replies) {
      nock(HOMESERVER_URL)
        .intercept(() => true, method)
        .reply(async (request: Request) => {
          const url = new URL(request.url);
          const text = await request.text();
          this.seen.push({
            method: request.method,
            path: url.pathname + url.search,
            authorization: request.headers.get("authorization"),
            contentType: request.headers.get("content-type"),
            body: text === "" ? undefined : (JSON.parse(text) as unknown),
          });
          if ("hang" in reply) {
            await waitForAbort(request.signal);
            return [599, ""];
          }
          const body = "json" in reply ? JSON.stringify(reply.json) : reply.text;
          const headers = "json" in reply ? { "content-type": "application/json", ...reply.headers } : { ...reply.headers };
          return [reply.status, body, headers];
        });
    }
    return this;
  }

  /** Shorthand for a 200 with a JSON body. */
  ok(method: HttpMethod, json: unknown): this {
    return this.answer(method, { status: 200, json });
  }

  /** Replies queued but never asked for. */
  static unused(): string[] {
    return nock.pendingMocks();
  }
}

/** Refuses every connection nock does not intercept; call once per test file. */
export function blockRealNetwork(): void {
  nock.disableNetConnect();
}

export function resetSynapseNock(): void {
  nock.cleanAll();
}

/**
 * The usual life of a nock-backed test file: no real connection, and after each test every
 * canned reply used (a reply left over is a request the code never made) and none kept.
 */
export function useSynapseNock(): void {
  beforeAll(() => {
    blockRealNetwork();
  });
  afterEach(() => {
    const unused = SynapseNock.unused();
    resetSynapseNock();
    expect(unused).toEqual([]);
  });
}

/** An admin client aimed at the nock host whose retries do not wait, with the waits it would have made. */
export function waitRecordingClient(accessToken: string): { admin: SynapseAdminClient; waits: number[] } {
  const waits: number[] = [];
  const admin = new SynapseAdminClient({
    homeserverUrl: HOMESERVER_URL,
    accessToken,
    sleep: (milliseconds) => {
      waits.push(milliseconds);
      return Promise.resolve();
    },
  });
  return { admin, waits };
}

/** A request path's query parameters, decoded. */
export function queryOf(path: string): Record<string, string> {
  return Object.fromEntries(new URL(path, HOMESERVER_URL).searchParams);
}
