import type { z } from "zod";

/** A non-2xx answer from the homeserver, with the Matrix errcode when the body had one. */
export class MatrixHttpError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly errcode: string | undefined,
    readonly body: string,
  ) {
    super(`${method} ${path} -> ${status} ${errcode ?? ""}: ${body.slice(0, 500)}`);
    this.name = "MatrixHttpError";
  }
}

/**
 * Tagged template that percent-encodes every interpolated part, so ids containing `!`, `#`,
 * `:` or `/` can never change which endpoint is called: path`/rooms/${roomId}/send`.
 */
export function path(strings: TemplateStringsArray, ...parts: readonly string[]): string {
  return strings.reduce((built, literal, index) => {
    const part = parts[index - 1];
    return built + (part === undefined ? "" : encodeURIComponent(part)) + literal;
  });
}

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

function queryString(query: Query): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (typeof value === "object") for (const item of value) search.append(key, item);
    else search.append(key, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : "?" + text;
}

function errcodeOf(body: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null && "errcode" in parsed && typeof parsed.errcode === "string") {
      return parsed.errcode;
    }
  } catch {
    // Not JSON (a proxy page, say); the raw body is still in the error.
  }
  return undefined;
}

/** Authenticated JSON requests against one homeserver; every response is checked against a schema. */
export class Transport {
  constructor(
    private readonly baseUrl: string,
    private readonly accessToken: string,
  ) {}

  async request<Schema extends z.ZodType>(
    method: "GET" | "POST" | "PUT",
    requestPath: string,
    schema: Schema,
    options: RequestOptions = {},
  ): Promise<z.output<Schema>> {
    const headers: Record<string, string> = { ...options.headers, authorization: `Bearer ${this.accessToken}` };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(this.baseUrl + requestPath + queryString(options.query ?? {}), {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new MatrixHttpError(method, requestPath, response.status, errcodeOf(text), text);
    return schema.parse(JSON.parse(text));
  }
}
