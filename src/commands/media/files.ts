import type { Logger } from "pino";
import { formatMxc, serverNameOf, type Mxc, type UserId } from "../../matrix/ids.js";
import { present } from "../../model/lookups.js";
import type { MediaFile } from "../../model/media.js";
import type { Refusal } from "../../model/outcomes.js";
import type { AdminError, MediaItemBody, SynapseAdminClient } from "../../synapse/adminClient.js";
import type { Clock } from "../../util/clock.js";
import { ok, type Result } from "../../util/result.js";
import type { TargetRules } from "../parsing/targets.js";

/** The admin calls !media makes; all but roomDetails are served by the media repository process. */
export type MediaAdmin = Pick<SynapseAdminClient, "roomMedia" | "userMedia" | "mediaInfo" | "deleteMedia" | "roomDetails">;

export interface MediaDependencies {
  readonly admin: MediaAdmin;
  readonly targets: Pick<TargetRules, "directory">;
  readonly clock: Clock;
  /** This homeserver's name (the server part of Warden's own user ID): only its files can be deleted. */
  readonly serverName: string;
  readonly log: Logger;
}

/** Media info reads (and deletions) at once: each is a database query on the homeserver, cheap but not free. */
export const MEDIA_CALLS_PARALLEL = 4;

/** Files per page of a user's uploads read from the homeserver (Synapse's own default). */
export const USER_MEDIA_PAGE = 100;

/**
 * True when every further media call will fail the same way, so there is no point making them:
 * the process does not serve the media admin API (an older Synapse, a media worker not routed),
 * or Warden's token is no longer accepted or no longer an admin's.
 */
export function failsEveryCall(error: AdminError): boolean {
  return error.errcode === "M_UNRECOGNIZED" || error.kind === "unauthorized" || error.kind === "forbidden";
}

/** A file as the user media list or the media info endpoint describes it; a local file has no origin there. */
export function fileOf(item: MediaItemBody, origin: string): MediaFile {
  return {
    uri: formatMxc({ origin: item.media_origin ?? origin, mediaId: item.media_id }),
    ...present("bytes", item.media_length),
    ...present("type", item.media_type),
    ...present("uploader", item.user_id),
    ...present("uploadedAt", item.created_ts),
    ...present("quarantinedBy", item.quarantined_by),
    ...(item.safe_from_quarantine === true ? { protected: true } : {}),
  };
}

/**
 * One file as the homeserver holds it now (media info), or undefined when it holds none: 404
 * "Unknown media". A 404 M_UNRECOGNIZED is no answer about the file but a process that does not
 * serve the media admin API, so it stays an error. Every media command looks a file up here.
 */
export async function findFile(admin: Pick<MediaAdmin, "mediaInfo">, mxc: Mxc): Promise<Result<MediaFile | undefined, AdminError>> {
  const found = await admin.mediaInfo(mxc);
  if (found.ok) return ok(fileOf(found.value.media_info, mxc.origin));
  if (found.error.kind === "not-found" && found.error.errcode !== "M_UNRECOGNIZED") return ok(undefined);
  return found;
}

/** "this server holds no file mxc://…", with why for a remote one (it was never fetched, or its cached copy was purged). */
export function notHeldText(uri: string, origin: string, serverName: string): string {
  return origin === serverName ? `this server holds no file ${uri}` : `this server holds no file ${uri}: it was never cached here (or its cached copy was purged)`;
}

/** Why a user's uploads could not be listed, in the words a moderator can act on. */
export function userMediaRefusal(userId: UserId, error: AdminError, serverName: string, what: string, prefix: string): Refusal {
  if (error.kind === "bad-request" && (serverNameOf(userId) !== serverName || /local user/i.test(error.detail ?? ""))) {
    return {
      kind: "refused",
      reason: `Warden can list only local users' uploads, and ${userId} is a user of another server.`,
      hint: `Their files in a room can be looked at by room: ${prefix}media <room>.`,
    };
  }
  if (error.kind === "not-found") return { kind: "refused", reason: `${userId} is not a user this homeserver knows.` };
  return { kind: "refused", reason: `could not ${what} of ${userId}: ${error.userMessage}` };
}
