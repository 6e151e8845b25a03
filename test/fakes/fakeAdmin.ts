import type { EventId, RoomId } from "../../src/matrix/ids.js";
import type {
  AdminError,
  DeleteRoomOptions,
  FetchedEvent,
  PurgePoint as AdminPurgePoint,
  RoomDetailsBody,
  RoomMessagesBody,
  SynapseAdminClient,
} from "../../src/synapse/adminClient.js";
import { describeStatus, type AdminErrorKind } from "../../src/synapse/errors.js";
import { err, ok, type Result } from "../../src/util/result.js";

export type AdminSurface = Pick<SynapseAdminClient, "roomDetails" | "fetchEvent" | "startPurge" | "startDelete" | "roomMessages" | "timestampToEvent">;

export type AdminCall =
  | { readonly method: "roomDetails"; readonly roomId: RoomId }
  | { readonly method: "fetchEvent"; readonly eventId: EventId }
  | { readonly method: "startPurge"; readonly roomId: RoomId; readonly point: AdminPurgePoint; readonly deleteLocalEvents: boolean }
  | { readonly method: "startDelete"; readonly roomId: RoomId; readonly options: DeleteRoomOptions };

export function adminError(kind: AdminErrorKind, status?: number, detail?: string): AdminError {
  return {
    kind,
    ...(status === undefined ? {} : { status }),
    ...(detail === undefined ? {} : { detail }),
    userMessage: describeStatus(kind, status, detail),
  };
}

export function roomDetails(roomId: string, name: string | null, joined = 3, joinedLocal = 1): RoomDetailsBody {
  return { room_id: roomId, name, joined_members: joined, joined_local_members: joinedLocal };
}

/**
 * The admin calls the commands use, answered from maps the test fills in. Unknown rooms and
 * events are 404s, as on Synapse; a set `…Failure` answers every call of that kind with it.
 */
export class FakeAdmin implements AdminSurface {
  readonly calls: AdminCall[] = [];
  readonly rooms = new Map<string, RoomDetailsBody>();
  readonly events = new Map<string, FetchedEvent>();
  roomDetailsFailure: AdminError | undefined;
  fetchEventFailure: AdminError | undefined;
  startFailure: AdminError | undefined;
  private started = 0;

  addRoom(roomId: string, name: string | null = "A room", joined = 3, joinedLocal = 1): void {
    this.rooms.set(roomId, roomDetails(roomId, name, joined, joinedLocal));
  }

  addEvent(eventId: string, roomId: string, originServerTs: number): void {
    this.events.set(eventId, { room_id: roomId, sender: "@spammer:remote.example", type: "m.room.message", origin_server_ts: originServerTs });
  }

  roomDetails(roomId: RoomId): Promise<Result<RoomDetailsBody, AdminError>> {
    this.calls.push({ method: "roomDetails", roomId });
    if (this.roomDetailsFailure !== undefined) return Promise.resolve(err(this.roomDetailsFailure));
    const room = this.rooms.get(roomId);
    return Promise.resolve(room === undefined ? err(adminError("not-found", 404, "Room not found")) : ok(room));
  }

  fetchEvent(eventId: EventId): Promise<Result<{ event: FetchedEvent }, AdminError>> {
    this.calls.push({ method: "fetchEvent", eventId });
    if (this.fetchEventFailure !== undefined) return Promise.resolve(err(this.fetchEventFailure));
    const event = this.events.get(eventId);
    return Promise.resolve(event === undefined ? err(adminError("not-found", 404, "Event not found")) : ok({ event }));
  }

  startPurge(roomId: RoomId, point: AdminPurgePoint, deleteLocalEvents: boolean): Promise<Result<{ purge_id: string }, AdminError>> {
    this.calls.push({ method: "startPurge", roomId, point, deleteLocalEvents });
    if (this.startFailure !== undefined) return Promise.resolve(err(this.startFailure));
    this.started += 1;
    return Promise.resolve(ok({ purge_id: `purge-${this.started}` }));
  }

  /** Pages of the room's messages for purge estimates; empty unless a test fills `messages`. */
  readonly messages = new Map<string, RoomMessagesBody["chunk"]>();

  roomMessages(roomId: RoomId): Promise<Result<RoomMessagesBody, AdminError>> {
    return Promise.resolve(ok({ chunk: this.messages.get(roomId) ?? [], start: "s0" }));
  }

  timestampFailure: AdminError | undefined;
  /** Every timestamp_to_event read, in order: quiet rooms must not cost more reads than needed. */
  readonly timestampReads: { readonly roomId: RoomId; readonly timestamp: number; readonly direction: "f" | "b" }[] = [];

  /**
   * timestamp_to_event as Synapse answers it, by sending time: backwards the room's latest event
   * sent at or before `timestamp`, forwards its earliest sent at or after; 404 when there is none.
   */
  timestampToEvent(roomId: RoomId, timestamp: number, direction: "f" | "b"): Promise<Result<{ event_id: string; origin_server_ts: number }, AdminError>> {
    this.timestampReads.push({ roomId, timestamp, direction });
    if (this.timestampFailure !== undefined) return Promise.resolve(err(this.timestampFailure));
    const sign = direction === "f" ? 1 : -1;
    const found = [...this.events.entries()]
      .filter(([, event]) => event.room_id === roomId && sign * (event.origin_server_ts - timestamp) >= 0)
      .sort(([, a], [, b]) => sign * (a.origin_server_ts - b.origin_server_ts))[0];
    return Promise.resolve(
      found === undefined ? err(adminError("not-found", 404, "Unable to find event")) : ok({ event_id: found[0], origin_server_ts: found[1].origin_server_ts }),
    );
  }

  startDelete(roomId: RoomId, options: DeleteRoomOptions): Promise<Result<{ delete_id: string }, AdminError>> {
    this.calls.push({ method: "startDelete", roomId, options });
    if (this.startFailure !== undefined) return Promise.resolve(err(this.startFailure));
    this.started += 1;
    return Promise.resolve(ok({ delete_id: `delete-${this.started}` }));
  }
}
