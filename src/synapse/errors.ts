/**
 * Every way an admin call can fail, as a value. `userMessage` is the sentence a moderator
 * reads; `detail` carries what Synapse said, for the log and for the final notification.
 */
export type AdminErrorKind =
  | "bad-request" // 400: Synapse refused the parameters
  | "unauthorized" // 401: the token is invalid or was logged out
  | "forbidden" // 403: the token is not a server admin's
  | "not-found" // 404
  | "rate-limited" // 429, after the retries we allow ourselves
  | "server-error" // 5xx, after retries
  | "unreachable" // connection refused, DNS, reset
  | "timeout"
  | "bad-response"; // a body that is not the JSON Synapse documents (e.g. a proxy's HTML page)

export interface AdminError {
  readonly kind: AdminErrorKind;
  readonly status?: number;
  readonly errcode?: string;
  /** Synapse's own error text when it sent one. */
  readonly detail?: string;
  readonly retryAfterMs?: number;
  readonly userMessage: string;
}

export function describeStatus(kind: AdminErrorKind, status: number | undefined, detail: string | undefined): string {
  const said = detail === undefined || detail === "" ? "" : `: ${detail}`;
  switch (kind) {
    case "bad-request":
      return `the homeserver refused the request${said}`;
    case "unauthorized":
      return "the homeserver no longer accepts Warden's access token (it was logged out or is wrong)";
    case "forbidden":
      return `the homeserver refused: Warden's account is not allowed to do this${said}`;
    case "not-found":
      return detail === undefined || detail === "" ? "the homeserver does not know it" : `the homeserver answered: ${detail}`;
    case "rate-limited":
      return "the homeserver is rate-limiting Warden; try again in a moment";
    case "server-error":
      return `the homeserver failed with HTTP ${status ?? "5xx"}${said}`;
    case "unreachable":
      return `the homeserver could not be reached${said}`;
    case "timeout":
      return "the homeserver did not answer in time";
    case "bad-response":
      return `the homeserver sent an answer Warden cannot read${said}`;
  }
}
