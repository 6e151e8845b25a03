import type { z } from "zod";
import { err, ok, type Result } from "../util/result.js";
import { describeStatus, type AdminError, type AdminErrorKind } from "./errors.js";
import { matrixErrorBody } from "./schemas.js";
import { scrubSecrets } from "../log.js";
import { nodeTransport, type Transport, type TransportFailure, type TransportResponse } from "./transport.js";

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

export interface HttpRequest {
  readonly method: HttpMethod;
  /** Already percent-encoded; built only by adminClient.ts. */
  readonly path: string;
  /** A list sends the key once per value, in order (`status=a&status=b`). */
  readonly query?: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>;
  readonly body?: object;
  /**
   * Whether sending the request twice is harmless. A purge or a delete that timed out may
   * have started on the server, so those are never resent blindly: the caller checks status.
   */
  readonly idempotent: boolean;
}

export interface HttpOptions {
  /** Where every admin request goes: config adminUrl, which is homeserverUrl unless set. */
  readonly homeserverUrl: string;
  readonly accessToken: string;
  /** How a request reaches the server; node:http with keep-alive unless a test gives its own. */
  readonly transport?: Transport;
  readonly sleep?: (milliseconds: number) => Promise<void>;
  readonly requestTimeoutMs?: number;
  /** Called before waiting out a 429 or a retryable failure, so the caller can log it. */
  readonly onRetry?: (event: { path: string; attempt: number; waitMs: number; reason: AdminErrorKind }) => void;
  /**
   * Called after every attempt, for metrics and health. `group` is the path's first segment
   * after the version (rooms, users, event_reports, ...): never an id. `status` is the HTTP
   * status, or "unreachable"/"timeout" when none came.
   */
  readonly onRequest?: (event: { group: string; status: string; answered: boolean }) => void;
}

/** "/_synapse/admin/v1/rooms/<id>/members" -> "rooms": a label with a small, fixed set of values. */
export function endpointGroup(path: string): string {
  const match = /^\/_synapse\/admin\/v\d+\/([a-z_]+)/.exec(path);
  return match?.[1] ?? "other";
}

const MAX_RATE_LIMIT_RETRIES = 5;
const MAX_FAILURE_RETRIES = 3;
const LONGEST_RATE_LIMIT_WAIT_MS = 120_000;
const DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;

const realSleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Sends one admin request with the retry policy above and checks the answer against `schema`. */
export async function sendAdminRequest<T>(
  options: HttpOptions,
  request: HttpRequest,
  schema: z.ZodType<T>,
): Promise<Result<T, AdminError>> {
  const sleep = options.sleep ?? realSleep;
  let rateLimitRetries = 0;
  let failureRetries = 0;
  for (let attempt = 1; ; attempt++) {
    const outcome = await sendOnce(options, request, schema);
    reportAttempt(options, request, outcome);
    if (outcome.ok) return outcome;
    const failure = outcome.error;
    if (failure.kind === "rate-limited" && rateLimitRetries < MAX_RATE_LIMIT_RETRIES) {
      rateLimitRetries++;
      const waitMs = Math.min(failure.retryAfterMs ?? DEFAULT_RATE_LIMIT_WAIT_MS, LONGEST_RATE_LIMIT_WAIT_MS);
      options.onRetry?.({ path: request.path, attempt, waitMs, reason: failure.kind });
      await sleep(waitMs);
      continue;
    }
    const transient = failure.kind === "server-error" || failure.kind === "unreachable" || failure.kind === "timeout";
    if (transient && request.idempotent && failureRetries < MAX_FAILURE_RETRIES) {
      failureRetries++;
      const waitMs = 500 * 2 ** (failureRetries - 1);
      options.onRetry?.({ path: request.path, attempt, waitMs, reason: failure.kind });
      await sleep(waitMs);
      continue;
    }
    return outcome;
  }
}

function reportAttempt(options: HttpOptions, request: HttpRequest, outcome: Result<unknown, AdminError>): void {
  if (options.onRequest === undefined) return;
  const status = outcome.ok ? "2xx" : outcome.error.status === undefined ? outcome.error.kind : String(outcome.error.status);
  const answered = outcome.ok || (outcome.error.status !== undefined && outcome.error.status < 500);
  options.onRequest({ group: endpointGroup(request.path), status, answered });
}

async function sendOnce<T>(options: HttpOptions, request: HttpRequest, schema: z.ZodType<T>): Promise<Result<T, AdminError>> {
  const url = new URL(options.homeserverUrl + request.path);
  for (const [key, value] of Object.entries(request.query ?? {})) {
    if (Array.isArray(value)) for (const item of value as readonly string[]) url.searchParams.append(key, item);
    else if (value !== undefined) url.searchParams.set(key, String(value));
  }
  const transport = options.transport ?? nodeTransport;
  const sent = await transport({
    url,
    method: request.method,
    headers: {
      authorization: `Bearer ${options.accessToken}`,
      ...(request.body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
    timeoutMs: options.requestTimeoutMs ?? 30_000,
  });
  if (!sent.ok) return err(transportError(sent.error));
  const response = sent.value;
  const text = response.text;
  const json = parseJson(text);
  if (response.status < 200 || response.status > 299) return err(errorFromResponse(response, json, options.accessToken));
  if (json === undefined) {
    return err(badResponse(response.status, `expected JSON, got ${describeNonJson(response, text)}`));
  }
  const checked = schema.safeParse(json);
  if (!checked.success) {
    const where = checked.error.issues.map((issue) => issue.path.join(".") || "(body)").join(", ");
    return err(badResponse(response.status, `unexpected shape at ${where}`));
  }
  return ok(checked.data);
}

/** Only whether it timed out and the socket's code: never the request, which carries the token. */
function transportError(failure: TransportFailure): AdminError {
  const kind: AdminErrorKind = failure.timedOut ? "timeout" : "unreachable";
  return { kind, ...(failure.code === undefined ? {} : { detail: failure.code }), userMessage: describeStatus(kind, undefined, failure.code) };
}

function errorFromResponse(response: TransportResponse, json: unknown, accessToken: string): AdminError {
  const body = matrixErrorBody.safeParse(json);
  const errcode = body.success ? body.data.errcode : undefined;
  // A proxy or a broken server may echo the request's Authorization header back.
  const said = body.success ? body.data.error : undefined;
  const detail = said === undefined ? undefined : scrubSecrets(said, [accessToken]);
  const kind = kindOf(response.status, errcode);
  const retryAfterMs = kind === "rate-limited" ? retryAfter(response, body.success ? (body.data.retry_after_ms ?? undefined) : undefined) : undefined;
  return {
    kind,
    status: response.status,
    ...(errcode === undefined ? {} : { errcode }),
    ...(detail === undefined ? {} : { detail }),
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    userMessage: describeStatus(kind, response.status, detail ?? (json === undefined ? `HTTP ${response.status} without a Matrix error body` : undefined)),
  };
}

function kindOf(status: number, errcode: string | undefined): AdminErrorKind {
  if (status === 429 || errcode === "M_LIMIT_EXCEEDED") return "rate-limited";
  if (status === 401) return "unauthorized";
  if (status === 403) return "forbidden";
  if (status === 404) return "not-found";
  if (status >= 500) return "server-error";
  if (status >= 400) return "bad-request";
  return "bad-response";
}

/** Synapse sends retry_after_ms in the body; proxies and newer servers may send Retry-After (seconds). */
function retryAfter(response: TransportResponse, fromBody: number | undefined): number | undefined {
  if (fromBody !== undefined && fromBody >= 0) return fromBody;
  const header = response.header("retry-after");
  if (header === undefined) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function badResponse(status: number, detail: string): AdminError {
  return { kind: "bad-response", status, detail, userMessage: describeStatus("bad-response", status, detail) };
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function describeNonJson(response: TransportResponse, text: string): string {
  const type = response.header("content-type") ?? "no content type";
  return text === "" ? `an empty body (${type})` : `${type} (${String(text.length)} bytes)`;
}
