import { randomBytes } from "node:crypto";
import { z } from "zod";
import { MatrixHttpError, path, Transport } from "./http.js";
import {
  AdminBlockStatus,
  AdminRoomDetails,
  AdminRoomMembers,
  AliasResponse,
  ClientEvent,
  EmptyResponse,
  EventIdResponse,
  MessagesPage,
  RoomIdResponse,
  SyncResponse,
} from "./schemas.js";

export { MatrixHttpError } from "./http.js";

const JoinedRooms = z.looseObject({ joined_rooms: z.array(z.string()) });
const EventEnvelope = z.looseObject({ event: z.looseObject({ room_id: z.string() }) });
const RoomState = z.looseObject({ state: z.array(z.looseObject({ type: z.string(), state_key: z.string(), content: z.record(z.string(), z.unknown()) })) });
const ScheduledTasks = z.looseObject({
  scheduled_tasks: z.array(z.looseObject({ id: z.string(), action: z.string(), status: z.string(), resource_id: z.string().nullable() })),
});
const ServerVersion = z.looseObject({ server_version: z.string() });
const PurgeStarted = z.looseObject({ purge_id: z.string() });
const PurgeStatus = z.looseObject({ status: z.string(), error: z.string().optional() });
const EventReports = z.looseObject({ event_reports: z.array(z.looseObject({ id: z.number(), event_id: z.string(), sender: z.string().nullish() })), total: z.number() });
const UserReports = z.looseObject({ user_reports: z.array(z.looseObject({ id: z.number(), target_user_id: z.string(), user_id: z.string() })), total: z.number() });
export type { AdminBlockStatus, AdminRoomDetails, AliasResponse, ClientEvent, MessagesPage, SyncResponse } from "./schemas.js";

/** The subset of the createRoom body tests use, in the spec's own field names. */
export interface CreateRoomRequest {
  name?: string;
  topic?: string;
  room_alias_name?: string;
  preset?: "private_chat" | "public_chat" | "trusted_private_chat";
  visibility?: "public" | "private";
  invite?: string[];
  room_version?: string;
  initial_state?: { type: string; state_key: string; content: Record<string, unknown> }[];
  power_level_content_override?: Record<string, unknown>;
  /** `{ type: "m.space" }` makes a space. */
  creation_content?: Record<string, unknown>;
}

export interface MessagesOptions {
  dir?: "b" | "f";
  limit?: number;
  from?: string;
}

const CLIENT = "/_matrix/client/v3";
const ADMIN = "/_synapse/admin/v1";
const LONG_POLL_MS = 10_000;

/**
 * A deliberately small client-server API wrapper for tests and the demo, independent of the
 * SDK the bot uses, so a bug in Warden's Matrix layer cannot hide itself in the assertions.
 */
export class MatrixClient {
  private readonly http: Transport;
  private readonly transactionPrefix = randomBytes(4).toString("hex");
  private transactionCounter = 0;

  constructor(
    readonly baseUrl: string,
    readonly user: { userId: string; accessToken: string },
  ) {
    this.http = new Transport(baseUrl, user.accessToken);
  }

  get userId(): string {
    return this.user.userId;
  }

  async createRoom(request: CreateRoomRequest = {}): Promise<string> {
    return (await this.http.request("POST", `${CLIENT}/createRoom`, RoomIdResponse, { body: request })).room_id;
  }

  /** `via` names servers to join through, needed for a remote room id (not for an alias). */
  async joinRoom(roomIdOrAlias: string, via: readonly string[] = []): Promise<string> {
    const response = await this.http.request("POST", CLIENT + path`/join/${roomIdOrAlias}`, RoomIdResponse, {
      body: {},
      query: { server_name: via },
    });
    return response.room_id;
  }

  async leaveRoom(roomId: string): Promise<void> {
    await this.http.request("POST", CLIENT + path`/rooms/${roomId}/leave`, EmptyResponse, { body: {} });
  }

  async joinedRooms(): Promise<string[]> {
    return (await this.http.request("GET", `${CLIENT}/joined_rooms`, JoinedRooms)).joined_rooms;
  }

  async setDisplayName(displayName: string): Promise<void> {
    await this.http.request("PUT", CLIENT + path`/profile/${this.userId}/displayname`, EmptyResponse, { body: { displayname: displayName } });
  }

  async invite(roomId: string, userId: string): Promise<void> {
    await this.http.request("POST", CLIENT + path`/rooms/${roomId}/invite`, EmptyResponse, { body: { user_id: userId } });
  }

  async sendEvent(roomId: string, type: string, content: Record<string, unknown>): Promise<string> {
    const transactionId = `${this.transactionPrefix}-${++this.transactionCounter}`;
    const response = await this.http.request(
      "PUT",
      CLIENT + path`/rooms/${roomId}/send/${type}/${transactionId}`,
      EventIdResponse,
      { body: content },
    );
    return response.event_id;
  }

  sendText(roomId: string, body: string): Promise<string> {
    return this.sendEvent(roomId, "m.room.message", { msgtype: "m.text", body });
  }

  async sendState(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<string> {
    const response = await this.http.request(
      "PUT",
      CLIENT + path`/rooms/${roomId}/state/${type}/${stateKey}`,
      EventIdResponse,
      { body: content },
    );
    return response.event_id;
  }

  getMessages(roomId: string, options: MessagesOptions = {}): Promise<MessagesPage> {
    return this.http.request("GET", CLIENT + path`/rooms/${roomId}/messages`, MessagesPage, {
      query: { dir: options.dir ?? "b", limit: options.limit, from: options.from },
    });
  }

  resolveAlias(alias: string): Promise<AliasResponse> {
    return this.http.request("GET", CLIENT + path`/directory/room/${alias}`, AliasResponse);
  }

  /**
   * One /sync call; `timeoutMs` is the server-side long-poll time. `fromAddress` is the address
   * the request says it comes from (X-Forwarded-For; the test homeserver trusts it): Synapse
   * writes a device's last-seen time at once for an address it has not seen the token use,
   * instead of at most once every two minutes.
   */
  sync(options: { since?: string; timeoutMs?: number; filter?: object; fromAddress?: string } = {}): Promise<SyncResponse> {
    const timeoutMs = options.timeoutMs ?? 0;
    return this.http.request("GET", `${CLIENT}/sync`, SyncResponse, {
      query: {
        since: options.since,
        timeout: timeoutMs,
        filter: options.filter === undefined ? undefined : JSON.stringify(options.filter),
      },
      timeoutMs: timeoutMs + 30_000,
      ...(options.fromAddress === undefined ? {} : { headers: { "x-forwarded-for": options.fromAddress } }),
    });
  }

  /** Forgets a room the user has left (POST /rooms/<room>/forget). */
  async forgetRoom(roomId: string): Promise<void> {
    await this.http.request("POST", CLIENT + path`/rooms/${roomId}/forget`, EmptyResponse, { body: {} });
  }

  /**
   * Long-polls /sync until a timeline event of `roomId` satisfies `predicate`. The first,
   * initial sync also sees the room's latest 50 events, so an event that arrived just before
   * the call is still found.
   */
  async waitForEvent(
    roomId: string,
    predicate: (event: ClientEvent) => boolean,
    timeoutMs = 30_000,
  ): Promise<ClientEvent> {
    const deadline = Date.now() + timeoutMs;
    const filter = {
      room: { rooms: [roomId], timeline: { limit: 50 }, state: { lazy_load_members: true } },
      presence: { not_types: ["*"] },
      account_data: { not_types: ["*"] },
    };
    let since: string | undefined;
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`harness: no matching event in ${roomId} for ${this.userId} within ${timeoutMs} ms`);
      const response = await this.sync({
        ...(since === undefined ? {} : { since }),
        timeoutMs: since === undefined ? 0 : Math.min(remaining, LONG_POLL_MS),
        filter,
      });
      const rooms = response.rooms;
      const timeline = [rooms?.join?.[roomId], rooms?.leave?.[roomId]].flatMap((room) => room?.timeline?.events ?? []);
      const found = timeline.find(predicate);
      if (found !== undefined) return found;
      since = response.next_batch;
    }
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>/messages, paged forwards from the room's start until Synapse omits `end`. */
  async adminRoomMessages(roomId: string): Promise<ClientEvent[]> {
    const events: ClientEvent[] = [];
    let from: string | undefined;
    for (;;) {
      const page = await this.http.request("GET", ADMIN + path`/rooms/${roomId}/messages`, MessagesPage, {
        query: { dir: "f", limit: 100, from },
      });
      events.push(...page.chunk);
      if (page.end === undefined || page.chunk.length === 0) return events;
      from = page.end;
    }
  }

  /** GET /_synapse/admin/v1/rooms/<room_id> */
  adminRoomDetails(roomId: string): Promise<AdminRoomDetails> {
    return this.http.request("GET", ADMIN + path`/rooms/${roomId}`, AdminRoomDetails);
  }

  /** Whether the homeserver no longer knows the room (its details answer 404): a deleted room's end state. */
  async adminRoomGone(roomId: string): Promise<boolean> {
    try {
      await this.adminRoomDetails(roomId);
      return false;
    } catch (error) {
      if (error instanceof MatrixHttpError && error.status === 404) return true;
      throw error;
    }
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>/block */
  adminRoomBlockStatus(roomId: string): Promise<AdminBlockStatus> {
    return this.http.request("GET", ADMIN + path`/rooms/${roomId}/block`, AdminBlockStatus);
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>/state: the content of one current state event, if the room has it. */
  async adminStateContent(roomId: string, type: string, stateKey = ""): Promise<Record<string, unknown> | undefined> {
    const { state } = await this.http.request("GET", ADMIN + path`/rooms/${roomId}/state`, RoomState);
    return state.find((event) => event.type === type && event.state_key === stateKey)?.content;
  }

  /** GET /_synapse/admin/v1/server_version: Synapse's version, e.g. "1.163.2". */
  async adminServerVersion(): Promise<string> {
    return (await this.http.request("GET", `${ADMIN}/server_version`, ServerVersion)).server_version;
  }

  /** GET /_synapse/admin/v1/scheduled_tasks: the homeserver's task queue, unfiltered. */
  async adminScheduledTasks(): Promise<z.output<typeof ScheduledTasks>["scheduled_tasks"]> {
    return (await this.http.request("GET", `${ADMIN}/scheduled_tasks`, ScheduledTasks)).scheduled_tasks;
  }

  /**
   * POST /_synapse/admin/v1/purge_history/<room_id> up to an event (it and everything after it
   * stay); returns the purge id. Synapse queues it in its task scheduler, which runs five at once.
   */
  async adminPurgeHistory(roomId: string, upToEventId: string, deleteLocalEvents: boolean): Promise<string> {
    const body = { purge_up_to_event_id: upToEventId, delete_local_events: deleteLocalEvents };
    return (await this.http.request("POST", ADMIN + path`/purge_history/${roomId}`, PurgeStarted, { body })).purge_id;
  }

  /** GET /_synapse/admin/v1/purge_history_status/<purge_id>: "active" (also while queued), "complete" or "failed". */
  adminPurgeStatus(purgeId: string): Promise<z.output<typeof PurgeStatus>> {
    return this.http.request("GET", ADMIN + path`/purge_history_status/${purgeId}`, PurgeStatus);
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>/members: the user ids of joined members. */
  async adminRoomMembers(roomId: string): Promise<string[]> {
    return (await this.http.request("GET", ADMIN + path`/rooms/${roomId}/members`, AdminRoomMembers)).members;
  }

  /**
   * GET /_synapse/admin/v1/fetch_event/<event_id>: whether the event is still stored. A purge
   * without delete_local_events keeps local events but hides them from /messages, so this is
   * how a test tells "kept" from "deleted".
   */
  async adminEventExists(eventId: string): Promise<boolean> {
    try {
      await this.http.request("GET", ADMIN + path`/fetch_event/${eventId}`, EventEnvelope);
      return true;
    } catch (error) {
      if (error instanceof MatrixHttpError && error.status === 404) return false;
      throw error;
    }
  }

  /** POST /_matrix/client/v3/rooms/<room_id>/report/<event_id>: reports an event as a user's client does. */
  /** `score`: any JSON number; Synapse checks only that it is an integer (of any size). */
  async reportEvent(roomId: string, eventId: string, reason: string, score?: number): Promise<void> {
    await this.http.request("POST", CLIENT + path`/rooms/${roomId}/report/${eventId}`, EmptyResponse, { body: { reason, ...(score === undefined ? {} : { score }) } });
  }

  /** GET /_synapse/admin/v1/event_reports: the ids (newest first) and the total. */
  async adminEventReports(): Promise<{ ids: number[]; total: number }> {
    const listed = await this.http.request("GET", `${ADMIN}/event_reports`, EventReports, { query: { limit: 100 } });
    return { ids: listed.event_reports.map((report) => report.id), total: listed.total };
  }

  /** POST /_matrix/client/v3/users/<user_id>/report (Synapse ≥ 1.152): reports a user as a user's client does. */
  async reportUser(userId: string, reason: string): Promise<void> {
    await this.http.request("POST", CLIENT + path`/users/${userId}/report`, EmptyResponse, { body: { reason } });
  }

  /** GET /_synapse/admin/v1/user_reports: the ids (newest first) and the total. */
  async adminUserReports(): Promise<{ ids: number[]; total: number }> {
    const listed = await this.http.request("GET", `${ADMIN}/user_reports`, UserReports, { query: { limit: 100 } });
    return { ids: listed.user_reports.map((report) => report.id), total: listed.total };
  }

  /** POST /_matrix/media/v3/upload: the file's mxc URI. */
  async uploadMedia(bytes: Uint8Array, contentType: string, filename: string): Promise<string> {
    const response = await fetch(`${this.baseUrl}/_matrix/media/v3/upload?filename=${encodeURIComponent(filename)}`, {
      method: "POST",
      headers: { authorization: `Bearer ${this.user.accessToken}`, "content-type": contentType },
      body: bytes,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    if (!response.ok) throw new MatrixHttpError("POST", "/_matrix/media/v3/upload", response.status, undefined, text);
    return z.looseObject({ content_uri: z.string() }).parse(JSON.parse(text)).content_uri;
  }

  /**
   * GET /_matrix/client/v1/media/download/<server>/<id> as this user (authenticated media): the
   * status and, when served, the bytes; the errcode when refused (M_NOT_FOUND for a quarantined file).
   */
  async downloadMedia(mxc: string): Promise<{ status: number; errcode?: string; bytes?: Uint8Array }> {
    const [server, mediaId] = mxc.replace(/^mxc:\/\//, "").split("/");
    const response = await fetch(`${this.baseUrl}/_matrix/client/v1/media/download/${encodeURIComponent(server ?? "")}/${encodeURIComponent(mediaId ?? "")}`, {
      headers: { authorization: `Bearer ${this.user.accessToken}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (response.ok) return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
    const text = await response.text();
    const errcode = /"errcode"\s*:\s*"([^"]+)"/.exec(text)?.[1];
    return errcode === undefined ? { status: response.status } : { status: response.status, errcode };
  }
}
