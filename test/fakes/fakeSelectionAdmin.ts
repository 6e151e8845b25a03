import type { RoomId } from "../../src/matrix/ids.js";
import type { AdminError, HierarchyPageQuery, RoomDetailsBody, RoomHierarchyBody, RoomListBody, RoomListQuery } from "../../src/synapse/adminClient.js";
import type { SelectionAdmin } from "../../src/commands/selection/rooms.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError } from "./fakeAdmin.js";

export type SelectionAdminCall =
  | { readonly method: "listRooms"; readonly query: RoomListQuery }
  | { readonly method: "roomHierarchy"; readonly roomId: RoomId; readonly page: HierarchyPageQuery }
  | { readonly method: "roomDetails"; readonly roomId: RoomId }
  | { readonly method: "roomMembers"; readonly roomId: RoomId };

type Method = SelectionAdminCall["method"];

/**
 * The read-only admin calls of room selection, answered from one set of rooms the way Synapse
 * 1.163 answers them: the room list filters as its SQL does (search_term inside LIKE patterns,
 * where _ and % are wildcards: see sqlLike) and pages by offset (sorted by name, then room ID),
 * the hierarchy walks depth first over the rooms this server is in (naming every child in the
 * spaces' children_state), 50 a page at most, and fails with 500 on a root the server is not in; details and members are 404 for unknown rooms.
 */
export class FakeSelectionAdmin implements SelectionAdmin {
  readonly calls: SelectionAdminCall[] = [];
  readonly rooms = new Map<string, RoomDetailsBody>();
  /** Space -> its m.space.child room IDs, in order. */
  readonly children = new Map<string, string[]>();
  /** Space -> more m.space.child events as stored, such as a removed child's (content without `via`). */
  readonly otherChildEvents = new Map<string, { state_key: string; content: Record<string, unknown> }[]>();
  /** Room -> the failure its member read answers with (a room deleted after it was listed). */
  readonly memberFailures = new Map<string, AdminError>();
  readonly members = new Map<string, string[]>();
  /** A failure set here answers every call of that method. */
  readonly failures = new Map<Method, AdminError>();
  /** Answer the hierarchy as a Synapse older than 1.142 does. */
  hierarchyMissing = false;
  /** Member reads answered at the same time, at most, so far. */
  mostMembersInFlight = 0;
  private membersInFlight = 0;

  /** A room this server is in (one local member) unless `fields` say otherwise. */
  addRoom(roomId: string, fields: Partial<RoomDetailsBody> = {}): this {
    this.rooms.set(roomId, { room_id: roomId, name: `Room ${roomId}`, joined_members: 2, joined_local_members: 1, join_rules: "public", public: false, ...fields });
    return this;
  }

  addSpace(spaceId: string, children: readonly string[], fields: Partial<RoomDetailsBody> = {}): this {
    this.children.set(spaceId, [...children]);
    return this.addRoom(spaceId, { room_type: "m.space", ...fields });
  }

  callsOf<M extends Method>(method: M): Extract<SelectionAdminCall, { method: M }>[] {
    return this.calls.filter((call): call is Extract<SelectionAdminCall, { method: M }> => call.method === method);
  }

  listRooms(query: RoomListQuery = {}): Promise<Result<RoomListBody, AdminError>> {
    this.calls.push({ method: "listRooms", query });
    const failure = this.failures.get("listRooms");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const term = query.searchTerm;
    const name = term === undefined ? undefined : sqlLike(`%${term.toLowerCase()}%`);
    const alias = term === undefined ? undefined : sqlLike(`#%${term.toLowerCase()}%:%`);
    const matching = [...this.rooms.values()]
      .filter(
        (room) =>
          term === undefined ||
          room.room_id === term ||
          name?.test((room.name ?? "").toLowerCase()) === true ||
          alias?.test((room.canonical_alias ?? "").toLowerCase()) === true,
      )
      .sort((a, b) => (a.name ?? "").localeCompare(b.name ?? "") || a.room_id.localeCompare(b.room_id));
    const from = query.from ?? 0;
    const limit = query.limit ?? 100;
    const rooms = matching.slice(from, from + limit).map((room) => ({
      room_id: room.room_id,
      name: room.name ?? null,
      canonical_alias: room.canonical_alias ?? null,
      joined_members: room.joined_members,
      joined_local_members: room.joined_local_members,
      public: room.public ?? false,
      join_rules: room.join_rules ?? null,
      room_type: room.room_type ?? null,
    }));
    const page: RoomListBody = { rooms, offset: from, total_rooms: matching.length };
    return Promise.resolve(ok(from + limit < matching.length ? { ...page, next_batch: from + limit } : page));
  }

  roomHierarchy(roomId: RoomId, page: HierarchyPageQuery = {}): Promise<Result<RoomHierarchyBody, AdminError>> {
    this.calls.push({ method: "roomHierarchy", roomId, page });
    const failure = this.failures.get("roomHierarchy");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (this.hierarchyMissing) return Promise.resolve(err({ ...adminError("not-found", 404, "Unrecognized request"), errcode: "M_UNRECOGNIZED" }));
    if (!this.serverIsIn(roomId)) return Promise.resolve(err(adminError("server-error", 500, "Internal server error")));
    const tree: string[] = [];
    const visit = (id: string): void => {
      if (tree.includes(id) || !this.serverIsIn(id)) return;
      tree.push(id);
      if (this.rooms.get(id)?.room_type === "m.space") for (const child of this.children.get(id) ?? []) visit(child);
    };
    visit(roomId);
    const from = page.from === undefined ? 0 : Number(page.from.replace("page-", ""));
    const limit = Math.min(page.limit ?? 50, 50);
    const rooms = tree.slice(from, from + limit).map((id) => {
      const room = this.rooms.get(id);
      const children = room?.room_type === "m.space" ? (this.children.get(id) ?? []) : [];
      const others = this.otherChildEvents.get(id) ?? [];
      return {
        room_id: id,
        name: room?.name ?? null,
        num_joined_members: room?.joined_members ?? 0,
        room_type: room?.room_type ?? null,
        children_state: [
          ...children.map((child) => ({ type: "m.space.child", state_key: child, content: { via: ["example.org"] } })),
          ...others.map((event) => ({ type: "m.space.child", ...event })),
        ],
      };
    });
    return Promise.resolve(ok(from + limit < tree.length ? { rooms, next_batch: `page-${String(from + limit)}` } : { rooms }));
  }

  roomDetails(roomId: RoomId): Promise<Result<RoomDetailsBody, AdminError>> {
    this.calls.push({ method: "roomDetails", roomId });
    const failure = this.failures.get("roomDetails");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const room = this.rooms.get(roomId);
    return Promise.resolve(room === undefined ? err(adminError("not-found", 404, "Room not found")) : ok(room));
  }

  async roomMembers(roomId: RoomId): Promise<Result<{ members: string[]; total?: number | null }, AdminError>> {
    this.calls.push({ method: "roomMembers", roomId });
    this.membersInFlight++;
    this.mostMembersInFlight = Math.max(this.mostMembersInFlight, this.membersInFlight);
    // Answer on a later turn, so reads the caller lets overlap really do.
    await new Promise((resolve) => setImmediate(resolve));
    this.membersInFlight--;
    const failure = this.failures.get("roomMembers") ?? this.memberFailures.get(roomId);
    if (failure !== undefined) return err(failure);
    if (!this.rooms.has(roomId)) return err(adminError("not-found", 404, "Room not found"));
    const members = this.members.get(roomId) ?? [];
    return ok({ members: [...members], total: members.length });
  }

  private serverIsIn(roomId: string): boolean {
    return (this.rooms.get(roomId)?.joined_local_members ?? 0) > 0;
  }
}

/**
 * A SQL LIKE pattern as SQLite reads it (Synapse's get_rooms_paginate builds "%term%" for the
 * name and "#%term%:%" for the canonical alias): _ is any one character, % any run of them,
 * and there is no escape character.
 */
function sqlLike(pattern: string): RegExp {
  // Escaping leaves _ and % alone, so they are turned into their regex forms after it.
  const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/_/g, ".").replace(/%/g, ".*");
  return new RegExp(`^${source}$`, "s");
}
