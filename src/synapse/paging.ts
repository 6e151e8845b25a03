import type { RoomId } from "../matrix/ids.js";
import { err, ok, type Result } from "../util/result.js";
import type { AdminError, RoomHierarchyBody, RoomListBody, RoomListQuery, SynapseAdminClient } from "./adminClient.js";
import { describeStatus } from "./errors.js";

/**
 * Reading whole lists through the admin client's paged endpoints. Each page is one checked
 * request; the first failing page ends the read with its error, since a partial list would
 * silently select (or exclude) fewer rooms than asked.
 */

export type RoomListEntry = RoomListBody["rooms"][number];
export type HierarchyRoom = RoomHierarchyBody["rooms"][number];

/** Big enough that a server of ten thousand rooms is read in twenty requests, small enough for a quick answer each. */
export const ROOM_LIST_PAGE_SIZE = 500;
/** Synapse's own cap on a hierarchy page. */
export const HIERARCHY_PAGE_SIZE = 50;
/** A server that keeps answering "more" past this is broken; stop rather than loop forever. */
const MAX_PAGES = 1_000;

function brokenPaging(detail: string): AdminError {
  return { kind: "bad-response", detail, userMessage: describeStatus("bad-response", undefined, detail) };
}

/**
 * Every room of a room-list query, in the server's order, each room once. Offset paging is not
 * a snapshot: a room created, deleted or renamed between two pages can shift the rest by one,
 * so a room may be seen twice (kept once here) or, rarely, missed.
 */
export async function listAllRooms(
  admin: Pick<SynapseAdminClient, "listRooms">,
  query: Omit<RoomListQuery, "from" | "limit"> = {},
  pageSize = ROOM_LIST_PAGE_SIZE,
): Promise<Result<RoomListEntry[], AdminError>> {
  const rooms: RoomListEntry[] = [];
  const seen = new Set<string>();
  let from = 0;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await admin.listRooms({ ...query, limit: pageSize, from });
    if (!page.ok) return page;
    for (const room of page.value.rooms) {
      if (seen.has(room.room_id)) continue;
      seen.add(room.room_id);
      rooms.push(room);
    }
    const next = page.value.next_batch;
    if (next === undefined || next === null) return ok(rooms);
    const nextFrom = Number(next);
    // Without this, a server repeating an offset would be asked for the same page forever.
    if (!Number.isInteger(nextFrom) || nextFrom <= from) return err(brokenPaging(`the room list's next_batch ${String(next)} does not move past ${String(from)}`));
    from = nextFrom;
  }
  return err(brokenPaging(`the room list did not end after ${String(MAX_PAGES)} pages`));
}

/**
 * Every room of a space's tree as the admin hierarchy lists it (the root first), each room
 * once: Synapse may repeat an entry (see SynapseAdminClient.roomHierarchy).
 */
export async function wholeHierarchy(
  admin: Pick<SynapseAdminClient, "roomHierarchy">,
  roomId: RoomId,
): Promise<Result<HierarchyRoom[], AdminError>> {
  const rooms: HierarchyRoom[] = [];
  const seenRooms = new Set<string>();
  const seenTokens = new Set<string>();
  let from: string | undefined;
  for (let pages = 0; pages < MAX_PAGES; pages++) {
    const page = await admin.roomHierarchy(roomId, { limit: HIERARCHY_PAGE_SIZE, ...(from === undefined ? {} : { from }) });
    if (!page.ok) return page;
    for (const room of page.value.rooms) {
      if (seenRooms.has(room.room_id)) continue;
      seenRooms.add(room.room_id);
      rooms.push(room);
    }
    const next = page.value.next_batch;
    if (next === undefined || next === null || next === "") return ok(rooms);
    if (seenTokens.has(next)) return err(brokenPaging(`the space hierarchy repeated its next_batch ${next}`));
    seenTokens.add(next);
    from = next;
  }
  return err(brokenPaging(`the space hierarchy did not end after ${String(MAX_PAGES)} pages`));
}
