import type { Logger } from "pino";
import type { SynapseAdminClient } from "../synapse/adminClient.js";
import type { AdminError } from "../synapse/errors.js";
import type { UserId } from "../matrix/ids.js";
import { err, ok, type Result } from "../util/result.js";

/**
 * Waits for the homeserver to answer, with back-off, so Warden can be started before Synapse
 * (as docker compose often does). Gives up only if told to stop.
 */
export async function waitForHomeserver(
  admin: Pick<SynapseAdminClient, "serverVersion">,
  log: Logger,
  sleep: (milliseconds: number) => Promise<void>,
  shouldStop: () => boolean = () => false,
): Promise<{ serverVersion: string } | undefined> {
  let waitMs = 1_000;
  for (let attempt = 1; !shouldStop(); attempt++) {
    const version = await admin.serverVersion();
    if (version.ok) return { serverVersion: version.value.server_version };
    logWaiting(log, attempt, waitMs, version.error);
    await sleep(waitMs);
    waitMs = Math.min(waitMs * 2, 30_000);
  }
  return undefined;
}

function logWaiting(log: Logger, attempt: number, waitMs: number, error: AdminError): void {
  log.warn({ attempt, retryInMs: waitMs, error: error.kind, detail: error.detail }, "homeserver not reachable yet; retrying");
}

/**
 * Proves the token is a server admin's with a read only admins may make. Not the per-user
 * `users/<id>/admin` endpoint: Synapse does not register it when authentication is delegated to
 * Matrix Authentication Service, and answers 404 there. The room list exists in both modes.
 */
export async function checkAdminRights(admin: Pick<SynapseAdminClient, "listRooms">, selfUserId: UserId): Promise<Result<void, string>> {
  const rooms = await admin.listRooms({ limit: 1 });
  if (rooms.ok) return ok(undefined);
  return err(rooms.error.kind === "forbidden" ? notAdminMessage(selfUserId) : `could not check Warden's admin rights: ${rooms.error.userMessage}`);
}

/** The sentence a fatal start-up error gives; each names the fix. */
export function notAdminMessage(userId: string): string {
  return (
    `Warden's access token belongs to ${userId}, which is not a server admin. ` +
    `Make it one (for example with Synapse's register_new_matrix_user --admin for a new account, ` +
    `or PUT /_synapse/admin/v2/users/${userId} {"admin": true} with another admin's token), then start Warden again.`
  );
}
