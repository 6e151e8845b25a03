import { asEventId, type EventId, type RoomId } from "../../matrix/ids.js";
import type { AdminError, SynapseAdminClient } from "../../synapse/adminClient.js";
import { formatUtc } from "../../util/duration.js";
import { err, ok, type Result } from "../../util/result.js";

/** Where a purge by time stops in one room: the event it runs up to (kept), and whether it is only the newest. */
export interface PurgeBoundary {
  readonly eventId: EventId;
  /** When that event was sent (origin_server_ts). */
  readonly sentTs: number;
  /** True when nothing was sent at or after the time: the boundary is the room's newest event, which Synapse always keeps. */
  readonly newestOnly: boolean;
}

/**
 * Why no purge should be sent: nothing lies before the point that a purge would remove (`reason`
 * says which case, in words for a wave's room list; `newest` names the only event there, the
 * room's newest, which Synapse keeps), or the homeserver could not be read.
 */
export type BoundaryProblem =
  | { readonly kind: "nothing-before"; readonly reason: string; readonly newest?: { readonly eventId: EventId; readonly sentTs: number } }
  | { readonly kind: "admin"; readonly error: AdminError };

/**
 * Resolves a time to this room's own boundary: its first event sent at or after the time, which
 * the purge then runs up to, so everything of this room before the time goes. Synapse's
 * purge_up_to_ts cannot keep that promise: it takes the first event *received* after the time
 * on the whole server, then this room's newest event at or before that one, and keeps it; when
 * the first event after the time belongs to another room (usual on a busy server), this room's
 * last event before the time survives.
 *
 * The promise follows the sending time (origin_server_ts, what timestamp_to_event reads), not
 * Synapse's reception time: it is the time moderators see on messages. For local events the two
 * agree; a remote server with a wrong clock can put its events on the wrong side.
 *
 * With nothing sent at or after the time, the purge runs up to the room's newest event, which
 * stays: Synapse always keeps a room's newest event. With nothing sent before the time there is
 * nothing to purge ("nothing-before"), and no job should be started. Nor when the newest event is
 * the only one before the time: that is every room after its purge (the kept event is then its
 * only non-outlier event, which is all timestamp_to_event sees), and a purge would remove nothing
 * yet take one of the homeserver's few job slots at every retention run. Finding that out costs a
 * third read, paid only by rooms where nothing was sent after the time; busy rooms read twice.
 */
export async function findPurgeBoundary(
  admin: Pick<SynapseAdminClient, "timestampToEvent">,
  roomId: RoomId,
  timestamp: number,
): Promise<Result<PurgeBoundary, BoundaryProblem>> {
  const point = formatUtc(timestamp);
  // Strictly before the time: an event sent exactly at the point is kept.
  const before = await admin.timestampToEvent(roomId, timestamp - 1, "b");
  if (!before.ok) return err(before.error.kind === "not-found" ? { kind: "nothing-before", reason: `no event was sent before ${point}` } : { kind: "admin", error: before.error });
  const after = await admin.timestampToEvent(roomId, timestamp, "f");
  if (!after.ok && after.error.kind !== "not-found") return err({ kind: "admin", error: after.error });
  const boundary = after.ok ? after.value : before.value;
  const eventId = asEventId(boundary.event_id);
  if (eventId === undefined) return err({ kind: "admin", error: badEventId(boundary.event_id) });
  if (after.ok) return ok({ eventId, sentTs: boundary.origin_server_ts, newestOnly: false });
  // Anything sent before the newest event? Events sent in the same millisecond as it are not
  // seen; a purge would have removed them, and the room's next purge, after it speaks again, will.
  const older = await admin.timestampToEvent(roomId, boundary.origin_server_ts - 1, "b");
  if (!older.ok && older.error.kind !== "not-found") return err({ kind: "admin", error: older.error });
  if (!older.ok) {
    return err({
      kind: "nothing-before",
      reason: `only the room's newest event, which Synapse always keeps, lies before ${point}`,
      newest: { eventId, sentTs: boundary.origin_server_ts },
    });
  }
  return ok({ eventId, sentTs: boundary.origin_server_ts, newestOnly: true });
}

function badEventId(given: string): AdminError {
  const detail = `timestamp_to_event answered ${JSON.stringify(given)}, which is not an event ID`;
  return { kind: "bad-response", detail, userMessage: `the homeserver sent an answer Warden cannot read: ${detail}` };
}

/** Synapse's 404 to a purge means "nothing before the point", not "no such room". */
export function isNothingToPurge(error: AdminError): boolean {
  return error.kind === "not-found" && /no event to be purged/i.test(error.detail ?? "");
}
