import type { Logger } from "pino";
import { ADMIN_API_ROUTES, type SynapseAdminClient } from "../synapse/adminClient.js";
import type { AdminError } from "../synapse/errors.js";
import type { UserId } from "../matrix/ids.js";
import { err, ok, type Result } from "../util/result.js";

/**
 * Where Warden reaches the homeserver: the bot's client API (whoami, sync, messages) and the
 * admin API (config adminUrl). One address, or two when the admin API is served elsewhere.
 */
export interface HomeserverAddresses {
  readonly client: string;
  readonly admin: string;
}

/**
 * Waits for the admin API to answer, with back-off, so Warden can be started before Synapse
 * (as docker compose often does). Gives up if told to stop (undefined), or at once when Synapse
 * itself says the address does not serve the admin API: that never heals by waiting.
 */
export async function waitForHomeserver(
  admin: Pick<SynapseAdminClient, "serverVersion">,
  addresses: HomeserverAddresses,
  log: Logger,
  sleep: (milliseconds: number) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<Result<{ serverVersion: string }, string> | undefined> {
  let waitMs = 1_000;
  for (let attempt = 1; !shouldStop(); attempt++) {
    const version = await admin.serverVersion();
    if (version.ok) {
      log.info({ adminApi: addresses.admin, request: "server_version", serverVersion: version.value.server_version }, "the admin API answered");
      return ok({ serverVersion: version.value.server_version });
    }
    if (refusedBySynapse(version.error)) return err(adminApiRefusedMessage(addresses, ADMIN_API_ROUTES.serverVersion, version.error));
    logWaiting(log, addresses.admin, attempt, waitMs, version.error);
    await sleep(waitMs);
    waitMs = Math.min(waitMs * 2, 30_000);
  }
  return undefined;
}

/**
 * A Matrix error for a path Synapse does not serve there: 404 or 405 M_UNRECOGNIZED from a
 * worker, or a proxy that answers for Synapse. Not a 401 or 403, which are about the token. A
 * 4xx page without a Matrix body is not enough: a proxy whose backend is still starting may
 * answer that way (Traefik answers 404), so Warden keeps waiting then, and its log says what
 * answered.
 */
function refusedBySynapse(error: AdminError): boolean {
  if (error.errcode === "M_UNRECOGNIZED") return true;
  return error.errcode !== undefined && (error.status === 404 || error.status === 405);
}

function logWaiting(log: Logger, address: string, attempt: number, waitMs: number, error: AdminError): void {
  const fields = { adminApi: address, attempt, retryInMs: waitMs, error: error.kind, status: error.status, detail: error.detail };
  if (error.status !== undefined && error.status < 500 && error.kind !== "rate-limited") {
    log.warn({ ...fields, hint: `if this lasts, the address does not route ${ADMIN_API_ROUTES.prefix} to Synapse: set adminUrl (see the README)` }, "the admin API's address answered, but not as Synapse; retrying");
    return;
  }
  log.warn(fields, "homeserver not reachable yet; retrying");
}

/** The start-up error when an address answered but does not serve the admin API; names the address and the fix. */
export function adminApiRefusedMessage(addresses: HomeserverAddresses, request: string, error: AdminError): string {
  const answer = error.status === undefined ? error.kind : `${error.status}${error.errcode === undefined ? "" : ` ${error.errcode}`}`;
  const key = addresses.admin === addresses.client ? "adminUrl (which defaults to homeserverUrl)" : "adminUrl";
  return (
    `the admin API is not served at ${addresses.admin}: ${request} was answered ${answer}. ` +
    `Route ${ADMIN_API_ROUTES.prefix} there to Synapse's main process, or set ${key} to an address that serves it, ` +
    `such as an internal listener of the main process (see "Admin API behind its own address" in the README).`
  );
}

/**
 * Proves the token is a server admin's with a read only admins may make. Not the per-user
 * `users/<id>/admin` endpoint: Synapse does not register it when authentication is delegated to
 * Matrix Authentication Service, and answers 404 there. The room list exists in both modes.
 */
export async function checkAdminRights(
  admin: Pick<SynapseAdminClient, "listRooms">,
  selfUserId: UserId,
  addresses: HomeserverAddresses,
): Promise<Result<void, string>> {
  const rooms = await admin.listRooms({ limit: 1 });
  if (rooms.ok) return ok(undefined);
  if (rooms.error.kind === "forbidden") return err(notAdminMessage(selfUserId));
  if (refusedBySynapse(rooms.error)) return err(adminApiRefusedMessage(addresses, ADMIN_API_ROUTES.roomList, rooms.error));
  return err(`could not check Warden's admin rights at ${addresses.admin}: ${rooms.error.userMessage}`);
}

/** The sentence a fatal start-up error gives; each names the fix. */
export function notAdminMessage(userId: string): string {
  return (
    `Warden's access token belongs to ${userId}, which is not a server admin. ` +
    `Make it one (for example with Synapse's register_new_matrix_user --admin for a new account, ` +
    `or PUT /_synapse/admin/v2/users/${userId} {"admin": true} with another admin's token), then start Warden again.`
  );
}
