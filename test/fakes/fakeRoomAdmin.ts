import type { RoomId, UserId } from "../../src/matrix/ids.js";
import type { AdminError, RoomListBody, RoomListQuery, ScheduledTasksBody, SynapseAdminClient } from "../../src/synapse/adminClient.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError, FakeAdmin } from "./fakeAdmin.js";

type RoomAdminMethod = "blockStatus" | "setBlocked" | "listRooms" | "roomMembers" | "scheduledTasks" | "makeRoomAdmin";

export type RoomAdminCall =
  | { readonly method: "blockStatus"; readonly roomId: RoomId }
  | { readonly method: "setBlocked"; readonly roomId: RoomId; readonly block: boolean }
  | { readonly method: "listRooms"; readonly query: RoomListQuery }
  | { readonly method: "roomMembers"; readonly roomId: RoomId }
  | { readonly method: "scheduledTasks" }
  | { readonly method: "makeRoomAdmin"; readonly roomId: RoomId; readonly userId?: UserId };

export type ListedRoom = RoomListBody["rooms"][number];
export type ScheduledTask = ScheduledTasksBody["scheduled_tasks"][number];

/** Warden's own account, whom Synapse's make_room_admin grants power to when no user is given. */
export const WARDEN_USER = "@warden:example.org";

/**
 * FakeAdmin plus the admin calls of the room and homeserver commands, answered the way
 * Synapse 1.163 answers them: blocks work for any room, members and make_room_admin only
 * for rooms the fake knows (`rooms` of FakeAdmin), the room list pages by offset.
 */
export class FakeRoomAdmin extends FakeAdmin implements Pick<SynapseAdminClient, RoomAdminMethod> {
  readonly roomCalls: RoomAdminCall[] = [];
  /** Blocked room -> who blocked it. */
  readonly blocked = new Map<string, string>();
  readonly members = new Map<string, string[]>();
  /** The server's rooms as GET /rooms lists them, in the order it lists them (by name). */
  readonly listed: ListedRoom[] = [];
  readonly scheduled: ScheduledTask[] = [];
  /** Rooms where no local user with power is still joined: make_room_admin answers 400 there. */
  readonly withoutLocalAdmin = new Set<string>();
  /** Room -> users given power through make_room_admin. */
  readonly grants = new Map<string, string[]>();
  /** A failure set here answers every call of that method. */
  readonly failures = new Map<RoomAdminMethod, AdminError>();

  listRoom(room: Partial<ListedRoom> & { room_id: string }): void {
    this.listed.push({ joined_members: 1, ...room });
  }

  blockStatus(roomId: RoomId): Promise<Result<{ block: boolean; user_id?: string | null }, AdminError>> {
    this.roomCalls.push({ method: "blockStatus", roomId });
    const failure = this.failures.get("blockStatus");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const by = this.blocked.get(roomId);
    return Promise.resolve(ok(by === undefined ? { block: false } : { block: true, user_id: by }));
  }

  setBlocked(roomId: RoomId, block: boolean): Promise<Result<{ block: boolean; user_id?: string | null }, AdminError>> {
    this.roomCalls.push({ method: "setBlocked", roomId, block });
    const failure = this.failures.get("setBlocked");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (block) this.blocked.set(roomId, WARDEN_USER);
    else this.blocked.delete(roomId);
    return Promise.resolve(ok({ block }));
  }

  listRooms(query: RoomListQuery = {}): Promise<Result<RoomListBody, AdminError>> {
    this.roomCalls.push({ method: "listRooms", query });
    const failure = this.failures.get("listRooms");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const term = query.searchTerm?.toLowerCase();
    const matching = this.listed.filter(
      (room) =>
        term === undefined ||
        room.room_id === query.searchTerm ||
        (room.name ?? "").toLowerCase().includes(term) ||
        (room.canonical_alias ?? "").toLowerCase().includes(term),
    );
    const from = query.from ?? 0;
    const limit = query.limit ?? 100;
    const page: RoomListBody = { rooms: matching.slice(from, from + limit), offset: from, total_rooms: matching.length };
    return Promise.resolve(ok(from + limit < matching.length ? { ...page, next_batch: from + limit } : page));
  }

  roomMembers(roomId: RoomId): Promise<Result<{ members: string[]; total?: number | null }, AdminError>> {
    this.roomCalls.push({ method: "roomMembers", roomId });
    const failure = this.failures.get("roomMembers");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (!this.rooms.has(roomId)) return Promise.resolve(err(adminError("not-found", 404, "Room not found")));
    const members = this.members.get(roomId) ?? [];
    return Promise.resolve(ok({ members: [...members], total: members.length }));
  }

  scheduledTasks(): Promise<Result<ScheduledTasksBody, AdminError>> {
    this.roomCalls.push({ method: "scheduledTasks" });
    const failure = this.failures.get("scheduledTasks");
    if (failure !== undefined) return Promise.resolve(err(failure));
    return Promise.resolve(ok({ scheduled_tasks: [...this.scheduled] }));
  }

  makeRoomAdmin(roomId: RoomId, userId?: UserId): Promise<Result<Record<string, never>, AdminError>> {
    this.roomCalls.push({ method: "makeRoomAdmin", roomId, ...(userId === undefined ? {} : { userId }) });
    const failure = this.failures.get("makeRoomAdmin");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (!this.rooms.has(roomId)) return Promise.resolve(err(adminError("bad-request", 400, "Server not in room")));
    if (this.withoutLocalAdmin.has(roomId)) return Promise.resolve(err(adminError("bad-request", 400, "No local admin user in room")));
    this.grants.set(roomId, [...(this.grants.get(roomId) ?? []), userId ?? WARDEN_USER]);
    return Promise.resolve(ok({}));
  }
}
