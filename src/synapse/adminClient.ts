import type { z } from "zod";
import type { EventId, Mxc, RoomId, UserId } from "../matrix/ids.js";
import type { Result } from "../util/result.js";
import type { AdminError } from "./errors.js";
import { sendAdminRequest, type HttpOptions, type HttpRequest } from "./http.js";
import {
  blockStatusBody,
  deleteStartedBody,
  deleteStatusBody,
  deleteStatusesForRoomBody,
  fetchEventBody,
  purgeStartedBody,
  redactStartedBody,
  redactStatusBody,
  roomHierarchyBody,
  roomListBody,
  roomMembersBody,
  roomMessagesBody,
  emptyBody,
  timestampToEventBody,
  purgeStatusBody,
  roomDetailsBody,
  scheduledTasksBody,
  serverVersionBody,
  userMembershipsBody,
  userDevicesBody,
  eventReportBody,
  eventReportsBody,
  eventContextBody,
  forwardExtremitiesBody,
  deletedExtremitiesBody,
  roomMediaBody,
  userMediaBody,
  mediaInfoBody,
  quarantinedCountBody,
  deletedMediaBody,
  purgedMediaCacheBody,
  userAccountBody,
  whoisBody,
  joinedRoomsBody,
  sentInviteCountBody,
  cumulativeJoinedRoomCountBody,
  deactivatedBody,
  userReportBody,
  userReportsBody,
  senderMessagesBody,
} from "./schemas.js";

export type { AdminError } from "./errors.js";
export type {
  ClientEvent,
  EventContextBody,
  EventReport,
  EventReportsBody,
  UnreadableEntry,
  UserReportsBody,
  ForwardExtremitiesBody,
  DeleteStatusBody,
  RedactStatusBody,
  RoomDetailsBody,
  RoomHierarchyBody,
  RoomListBody,
  RoomMessagesBody,
  ScheduledTasksBody,
  SenderMessagesBody,
  UserAccountBody,
  UserReportBody,
  WhoisBody,
  MediaItemBody,
  UserMediaBody,
  RoomMediaBody,
} from "./schemas.js";

/** Statuses of Synapse's task scheduler (synapse.types.TaskStatus). */
export const SCHEDULED_TASK_STATUSES = ["scheduled", "active", "complete", "failed", "cancelled"] as const;
export type ScheduledTaskStatus = (typeof SCHEDULED_TASK_STATUSES)[number];

/** Sort orders GET /_synapse/admin/v1/rooms accepts (Synapse's RoomSortOrder). */
export const ROOM_ORDERS = [
  "name",
  "canonical_alias",
  "joined_members",
  "joined_local_members",
  "version",
  "creator",
  "encryption",
  "federatable",
  "public",
  "join_rules",
  "guest_access",
  "history_visibility",
  "state_events",
  "size",
] as const;
export type RoomOrder = (typeof ROOM_ORDERS)[number];

export interface RoomListQuery {
  readonly searchTerm?: string;
  readonly orderBy?: RoomOrder;
  readonly limit?: number;
  readonly from?: number;
}

export interface HierarchyPageQuery {
  /** The previous page's `next_batch`: an opaque token Synapse keeps for a few minutes. */
  readonly from?: string;
  /** Rooms per page; Synapse caps it at 50 (also its default). */
  readonly limit?: number;
  /** 0: the root only; 1: the root and its children; unset: the whole tree. */
  readonly maxDepth?: number;
}

export interface RedactUserOptions {
  /** Empty: Synapse's default, the rooms the user is joined to or banned from (not rooms they left). */
  readonly rooms: readonly string[];
  readonly reason?: string;
  /** Per room; Synapse's default is 1000. */
  readonly limit?: number;
}

export interface EventReportQuery {
  readonly from?: number;
  readonly limit?: number;
  /** "b" (Synapse's default): newest first, by the time the report was received. */
  readonly direction?: "b" | "f";
  readonly eventSender?: UserId;
  readonly roomId?: RoomId;
}

export interface UserReportQuery {
  readonly from?: number;
  readonly limit?: number;
  readonly direction?: "f" | "b";
  /** Reports about this user. */
  readonly target?: string;
  /** Reports made by this user. */
  readonly reporter?: string;
}

export interface UserMediaQuery {
  /** The previous page's `next_token` (an offset). */
  readonly from?: number;
  /** Files per page; Synapse's default is 100. */
  readonly limit?: number;
}

export interface OldMediaQuery {
  /** Files last accessed (or, never accessed, uploaded) before this time, in ms. */
  readonly beforeTs: number;
  /** Only files larger than this many bytes; Synapse's default 0 is every size. */
  readonly sizeGt?: number;
  /** Keep files used as an avatar (Synapse's default: kept). */
  readonly keepProfiles?: boolean;
}

export type PurgePoint = { readonly eventId: EventId } | { readonly timestamp: number };

export interface DeleteRoomOptions {
  readonly block: boolean;
  readonly purge: boolean;
  readonly forcePurge: boolean;
  readonly newRoomUserId?: UserId;
  readonly roomName?: string;
  readonly message?: string;
}

export type PurgeStatus = z.infer<typeof purgeStatusBody>;
export type DeleteStatus = z.infer<typeof deleteStatusBody>;
export type FetchedEvent = z.infer<typeof fetchEventBody>["event"];

/** Percent-encodes one path segment: IDs may hold "/", "?", "#", ":" or non-ASCII text. */
function segment(part: string): string {
  return encodeURIComponent(part);
}

const ADMIN_V1 = "/_synapse/admin/v1";

/** What a moderator reads when the process that answered does not serve the media admin API. */
export const MEDIA_NOT_SERVED =
  "the homeserver process that answered does not serve Synapse's media admin API (it answered M_UNRECOGNIZED). " +
  "On a worker deployment, route /_synapse/admin/v1/media/, /room/<room>/media, /user/<user>/media, /users/<user>/media and /purge_media_cache " +
  "to the media repository worker (synapse.app.media_repository); since Synapse 1.152 the worker that quarantines must also be a quarantined_media_changes stream writer. " +
  "Synapse before 1.140 has no media info endpoint (GET /media/<server>/<id>)";
const ADMIN_V2 = "/_synapse/admin/v2";

/**
 * What start-up names when an address does not serve the admin API: the prefix to route, and
 * the requests it sent there, as they appear in a reverse proxy's log.
 */
export const ADMIN_API_ROUTES = {
  prefix: "/_synapse/admin/",
  serverVersion: `GET ${ADMIN_V1}/server_version`,
  roomList: `GET ${ADMIN_V1}/rooms`,
} as const;

/**
 * The only module that knows Synapse admin paths. Each method names its endpoint, returns a
 * checked body, and reports failures as AdminError values.
 */
export class SynapseAdminClient {
  constructor(private readonly options: HttpOptions) {}

  private send<T>(request: HttpRequest, schema: z.ZodType<T>): Promise<Result<T, AdminError>> {
    return sendAdminRequest(this.options, request, schema);
  }

  /**
   * A media admin request. The main process of a deployment with a media worker does not serve
   * these paths (404 or 405 M_UNRECOGNIZED): the moderator reads where they must be routed.
   */
  private async sendMedia<T>(request: HttpRequest, schema: z.ZodType<T>): Promise<Result<T, AdminError>> {
    const result = await this.send(request, schema);
    if (result.ok || result.error.errcode !== "M_UNRECOGNIZED") return result;
    return { ok: false, error: { ...result.error, userMessage: MEDIA_NOT_SERVED } };
  }

  /** GET /_synapse/admin/v1/server_version. Needs no admin rights, so it proves only that Synapse answers. */
  serverVersion() {
    return this.send({ method: "GET", path: `${ADMIN_V1}/server_version`, idempotent: true }, serverVersionBody);
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>. 404 for a room this server does not know. */
  roomDetails(roomId: RoomId) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/rooms/${segment(roomId)}`, idempotent: true }, roomDetailsBody);
  }

  /** GET /_synapse/admin/v1/fetch_event/<event_id>: the event with its room, whoever's room it is. */
  fetchEvent(eventId: EventId) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/fetch_event/${segment(eventId)}`, idempotent: true }, fetchEventBody);
  }

  /**
   * POST /_synapse/admin/v1/purge_history/<room_id>. Differs from its docs: `purge_up_to_ts`
   * is compared with the time this server *received* each event, and a room with nothing
   * before the point answers 404 "There is no event to be purged" (not "room not found").
   */
  startPurge(roomId: RoomId, point: PurgePoint, deleteLocalEvents: boolean) {
    const upTo = "eventId" in point ? { purge_up_to_event_id: point.eventId } : { purge_up_to_ts: point.timestamp };
    return this.send(
      {
        method: "POST",
        path: `${ADMIN_V1}/purge_history/${segment(roomId)}`,
        body: { delete_local_events: deleteLocalEvents, ...upTo },
        idempotent: false,
      },
      purgeStartedBody,
    );
  }

  /** GET /_synapse/admin/v1/purge_history_status/<purge_id>. A queued purge reads "active". */
  purgeStatus(purgeId: string) {
    return this.send(
      { method: "GET", path: `${ADMIN_V1}/purge_history_status/${segment(purgeId)}`, idempotent: true },
      purgeStatusBody,
    );
  }

  /**
   * DELETE /_synapse/admin/v2/rooms/<room_id>, the asynchronous delete. Differs from its docs:
   * a room the server does not know is answered 200 and "completes" (only the block applies),
   * so callers look the room up first.
   */
  startDelete(roomId: RoomId, options: DeleteRoomOptions) {
    return this.send(
      {
        method: "DELETE",
        path: `${ADMIN_V2}/rooms/${segment(roomId)}`,
        body: {
          block: options.block,
          purge: options.purge,
          force_purge: options.forcePurge,
          // Stryker disable next-line ConditionalExpression: always taking the second branch sends the key as undefined, which JSON.stringify drops
          ...(options.newRoomUserId === undefined ? {} : { new_room_user_id: options.newRoomUserId }),
          // Stryker disable next-line ConditionalExpression: always taking the second branch sends the key as undefined, which JSON.stringify drops
          ...(options.roomName === undefined ? {} : { room_name: options.roomName }),
          // Stryker disable next-line ConditionalExpression: always taking the second branch sends the key as undefined, which JSON.stringify drops
          ...(options.message === undefined ? {} : { message: options.message }),
        },
        idempotent: false,
      },
      deleteStartedBody,
    );
  }

  /** GET /_synapse/admin/v2/rooms/delete_status/<delete_id>. Failed deletes carry no error text in current Synapse. */
  deleteStatus(deleteId: string) {
    return this.send(
      { method: "GET", path: `${ADMIN_V2}/rooms/delete_status/${segment(deleteId)}`, idempotent: true },
      deleteStatusBody,
    );
  }

  /**
   * GET /_synapse/admin/v2/rooms/<room_id>/delete_status. Leaves out scheduled (not yet started)
   * deletes. Used to follow a delete already running when Synapse refuses a second one.
   */
  deleteStatusesForRoom(roomId: RoomId) {
    return this.send(
      { method: "GET", path: `${ADMIN_V2}/rooms/${segment(roomId)}/delete_status`, idempotent: true },
      deleteStatusesForRoomBody,
    );
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>/block. Works for rooms the server does not know. */
  blockStatus(roomId: RoomId) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/rooms/${segment(roomId)}/block`, idempotent: true }, blockStatusBody);
  }

  /** PUT /_synapse/admin/v1/rooms/<room_id>/block. Idempotent by nature. */
  setBlocked(roomId: RoomId, block: boolean) {
    return this.send(
      { method: "PUT", path: `${ADMIN_V1}/rooms/${segment(roomId)}/block`, body: { block }, idempotent: true },
      blockStatusBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/rooms: the server's rooms, paged by offset (`from`, `next_batch`),
   * sorted with the room ID as tie-break. Admin-only (403 for any other token) and registered
   * whether or not authentication is delegated to MAS. `search_term` matches a substring of the
   * name (any case), of the canonical alias's localpart, or the whole room ID; an empty one is
   * refused with 400. `limit` has no cap on the server. paging.ts reads every page.
   */
  listRooms(query: RoomListQuery = {}) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/rooms`,
        query: { search_term: query.searchTerm, order_by: query.orderBy, limit: query.limit, from: query.from },
        idempotent: true,
      },
      roomListBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/rooms/<room_id>/hierarchy: one page of a space's tree, depth first,
   * the root first, read with admin rights (no membership needed). Added in Synapse 1.142; older
   * versions answer 404 M_UNRECOGNIZED. Pages by the opaque `from`/`next_batch` token (the other
   * parameters must stay the same across pages), at most 50 rooms a page, and shares the client
   * API's rate limit (5/s, burst 10). Differs from its docs, as read in Synapse 1.163's source
   * (handlers/room_summary.py): it never asks other servers, so rooms this server is not in are
   * left out entirely; an entry may repeat (for such a child, the loop reuses the previous room's
   * summary when that room is public); and a root this server is not in fails with 500 (an
   * unbound variable), so callers check the root's local members first.
   */
  roomHierarchy(roomId: RoomId, page: HierarchyPageQuery = {}) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/rooms/${segment(roomId)}/hierarchy`,
        query: { from: page.from, limit: page.limit, max_depth: page.maxDepth },
        idempotent: true,
      },
      roomHierarchyBody,
    );
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>/members: joined members only. */
  roomMembers(roomId: RoomId) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/rooms/${segment(roomId)}/members`, idempotent: true }, roomMembersBody);
  }

  /**
   * GET /_synapse/admin/v1/rooms/<room_id>/messages: one page, read with admin rights (no
   * membership needed). Events a purge kept as outliers never appear here.
   */
  roomMessages(roomId: RoomId, page: { from?: string; direction: "f" | "b"; limit: number }) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/rooms/${segment(roomId)}/messages`,
        query: { dir: page.direction, limit: page.limit, from: page.from },
        idempotent: true,
      },
      roomMessagesBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/rooms/<room_id>/timestamp_to_event: the event closest to `ts` in the
   * given direction, by sending time; the admin twin of the client API, needing no membership.
   * 404 when the room has no event on that side.
   */
  timestampToEvent(roomId: RoomId, timestamp: number, direction: "f" | "b") {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/rooms/${segment(roomId)}/timestamp_to_event`,
        query: { ts: timestamp, dir: direction },
        idempotent: true,
      },
      timestampToEventBody,
    );
  }

  /**
   * POST /_synapse/admin/v1/rooms/<room_id>/make_room_admin: gives `userId` (default: the
   * caller) the power level of the room's most powerful local user who is still joined, by
   * sending a power-levels event as that user. It never joins the user: it invites them when
   * they are neither joined nor invited and the room is not public. Answers 400 "No local admin
   * user in room" when no such local user exists, and 400 "Server not in room" when this server
   * has no state for the room.
   */
  makeRoomAdmin(roomId: RoomId, userId?: UserId) {
    return this.send(
      {
        method: "POST",
        path: `${ADMIN_V1}/rooms/${segment(roomId)}/make_room_admin`,
        // Stryker disable next-line ConditionalExpression: always taking the second branch sends the key as undefined, which JSON.stringify drops
        body: userId === undefined ? {} : { user_id: userId },
        idempotent: true,
      },
      emptyBody,
    );
  }

  /**
   * POST /_synapse/admin/v1/user/<user_id>/redact. `rooms: []` means the rooms the user is
   * joined to or banned from (not rooms they left). A second request for a user while one is
   * active is refused with 400.
   */
  startRedact(userId: UserId, options: RedactUserOptions) {
    return this.send(
      {
        method: "POST",
        path: `${ADMIN_V1}/user/${segment(userId)}/redact`,
        body: {
          rooms: [...options.rooms],
          // Stryker disable next-line ConditionalExpression: always taking the second branch sends the key as undefined, which JSON.stringify drops
          ...(options.reason === undefined ? {} : { reason: options.reason }),
          // Stryker disable next-line ConditionalExpression: always taking the second branch sends the key as undefined, which JSON.stringify drops
          ...(options.limit === undefined ? {} : { limit: options.limit }),
        },
        idempotent: false,
      },
      redactStartedBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/users/<user_id>/memberships: the user's current membership in every
   * room this server is in. The "join" and "ban" rooms are exactly what a redact with `rooms: []`
   * covers. A user the server does not know has none (no 404).
   */
  userMemberships(userId: UserId) {
    return this.send(
      { method: "GET", path: `${ADMIN_V1}/users/${segment(userId)}/memberships`, idempotent: true },
      userMembershipsBody,
    );
  }

  /**
   * GET /_synapse/admin/v2/users/<user_id>/devices: a local user's devices with `last_seen_ts`
   * (null for a device never seen). Synapse writes a device's last-seen time at most once every
   * two minutes per access token and address, and marks a dehydrated device `dehydrated: true`.
   * 404 for a user the server does not know; 400 for a remote user.
   */
  userDevices(userId: UserId) {
    return this.send({ method: "GET", path: `${ADMIN_V2}/users/${segment(userId)}/devices`, idempotent: true }, userDevicesBody);
  }

  /** GET /_synapse/admin/v1/user/redact_status/<redact_id>. Reads "complete" (docs: "completed"). */
  redactStatus(redactId: string) {
    return this.send(
      { method: "GET", path: `${ADMIN_V1}/user/redact_status/${segment(redactId)}`, idempotent: true },
      redactStatusBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/scheduled_tasks, the homeserver's own task queue (purges, deletes,
   * redactions, and Synapse's internal jobs). Filters: one action, one resource, and statuses
   * (scheduled, active, complete, failed, cancelled).
   *
   * Statuses go out as `job_status`, repeated: the only name every version with this endpoint
   * reads (it arrived around 1.128 as `job_status`; 1.150 added `status` as an alias, preferred
   * when both are sent). Synapse 1.163 reads every value of a repeated `status` or `job_status`;
   * older versions read the first value only, so they answer a list of statuses with the tasks
   * of its first status. Callers that need the whole list must check for that (the tracker does).
   * Before 1.128 the path answers 404 M_UNRECOGNIZED. The list includes tasks scheduled for the
   * future ("scheduled" with a `timestamp_ms` ahead), unless `max_timestamp` leaves them out.
   */
  scheduledTasks(filter: { actionName?: string; resourceId?: string; statuses?: readonly ScheduledTaskStatus[]; maxTimestamp?: number } = {}) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/scheduled_tasks`,
        query: {
          action_name: filter.actionName,
          resource_id: filter.resourceId,
          // An empty list appends no job_status, as undefined does: the empty-list branch changes nothing
          // (the line's other mutant, `undefined` read as a list, throws and is disabled with them).
          // Stryker disable next-line ConditionalExpression: equivalent, see above
          job_status: filter.statuses === undefined || filter.statuses.length === 0 ? undefined : filter.statuses,
          // Tasks stamped at or before this time only: a task scheduled for later (such as the
          // purge Synapse schedules a week ahead for a room every local user forgot) is left out.
          max_timestamp: filter.maxTimestamp,
        },
        idempotent: true,
      },
      scheduledTasksBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/event_reports: one page of reports, ordered by the time each was
   * received (not by id), with `total` for the filter. Differs from its docs: `room_id` is
   * matched with LIKE (a substring), `event_sender_user_id` exactly; a report whose room has no
   * stats row is left out; `sender` is null when this server does not have the reported event.
   */
  eventReports(query: EventReportQuery = {}) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/event_reports`,
        query: {
          from: query.from,
          limit: query.limit,
          dir: query.direction,
          event_sender_user_id: query.eventSender,
          room_id: query.roomId,
        },
        idempotent: true,
      },
      eventReportsBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/event_reports/<report_id>: one report, with the reported event's JSON.
   * Differs from the list: Synapse joins the event's JSON, so a report whose event was purged
   * (or whose room was deleted) answers 404 here although it exists and DELETE removes it.
   */
  eventReport(reportId: number) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/event_reports/${segment(String(reportId))}`, idempotent: true }, eventReportBody);
  }

  /** DELETE /_synapse/admin/v1/event_reports/<report_id>. 404 when there is no such report (already deleted). */
  deleteEventReport(reportId: number) {
    return this.send({ method: "DELETE", path: `${ADMIN_V1}/event_reports/${segment(String(reportId))}`, idempotent: true }, emptyBody);
  }

  /**
   * GET /_synapse/admin/v1/rooms/<room_id>/context/<event_id>: the event with `limit` events
   * around it (split before and after), read with admin rights. The lazy-loading filter keeps
   * the answer's room state to the members involved rather than the whole room's.
   */
  eventContext(roomId: RoomId, eventId: EventId, limit: number) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/rooms/${segment(roomId)}/context/${segment(eventId)}`,
        query: { limit, filter: JSON.stringify({ lazy_load_members: true }) },
        idempotent: true,
      },
      eventContextBody,
    );
  }

  /** GET /_synapse/admin/v1/rooms/<room_id>/forward_extremities: every forward extremity of the room. */
  forwardExtremities(roomId: RoomId) {
    return this.send(
      { method: "GET", path: `${ADMIN_V1}/rooms/${segment(roomId)}/forward_extremities`, idempotent: true },
      forwardExtremitiesBody,
    );
  }

  /**
   * DELETE /_synapse/admin/v1/rooms/<room_id>/forward_extremities: deletes the room's extra
   * forward extremities (Synapse keeps the ones it needs) and answers how many went. Its docs
   * warn never to run this as an automated task; Warden runs it only after a preview.
   */
  deleteForwardExtremities(roomId: RoomId) {
    return this.send(
      { method: "DELETE", path: `${ADMIN_V1}/rooms/${segment(roomId)}/forward_extremities`, idempotent: true },
      deletedExtremitiesBody,
    );
  }

  // Media. Synapse serves these on the process that runs its media repository (a media worker
  // when the deployment has one; the main process answers 404 M_UNRECOGNIZED then).

  /**
   * GET /_synapse/admin/v1/room/<room_id>/media: the mxc URIs named by the room's messages (their
   * `url` and `info.thumbnail_url`), newest message first, split into local and remote. Read from
   * the events, not the media store: a file posted twice is named twice, and a file this server
   * no longer holds (or never fetched) is named all the same. Only URIs: no size, no uploader. A
   * purged room's messages are gone, so is this list; a room the server does not know lists none.
   */
  roomMedia(roomId: RoomId) {
    return this.sendMedia({ method: "GET", path: `${ADMIN_V1}/room/${segment(roomId)}/media`, idempotent: true }, roomMediaBody);
  }

  /**
   * GET /_synapse/admin/v1/users/<user_id>/media: a local user's uploads, newest first, paged by
   * offset (`next_token` while more remain). 400 for a remote user; 404 for an unknown one.
   */
  userMedia(userId: UserId, query: UserMediaQuery = {}) {
    return this.sendMedia(
      { method: "GET", path: `${ADMIN_V1}/users/${segment(userId)}/media`, query: { from: query.from, limit: query.limit }, idempotent: true },
      userMediaBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/media/<origin>/<media_id> (Synapse 1.140 and later): one local file or
   * cached remote file. 404 "Unknown media" for a file this server does not hold; older versions
   * serve only DELETE on this path and answer a GET 405 M_UNRECOGNIZED. On SQLite its
   * safe_from_quarantine is 0 or 1 (the schema reads both).
   */
  mediaInfo(mxc: Mxc) {
    return this.sendMedia(
      { method: "GET", path: `${ADMIN_V1}/media/${segment(mxc.origin)}/${segment(mxc.mediaId)}`, idempotent: true },
      mediaInfoBody,
    );
  }

  /**
   * POST /_synapse/admin/v1/room/<room_id>/media/quarantine: every file the room's messages name,
   * local and remote, except local files protected from quarantine. Answers how many rows it
   * marked (a file already quarantined counts again). Since 1.128 each file's duplicates by hash
   * are quarantined with it.
   */
  quarantineRoomMedia(roomId: RoomId) {
    return this.sendMedia(
      { method: "POST", path: `${ADMIN_V1}/room/${segment(roomId)}/media/quarantine`, body: {}, idempotent: true },
      quarantinedCountBody,
    );
  }

  /** POST /_synapse/admin/v1/user/<user_id>/media/quarantine: every local upload of the user but protected ones. */
  quarantineUserMedia(userId: UserId) {
    return this.sendMedia(
      { method: "POST", path: `${ADMIN_V1}/user/${segment(userId)}/media/quarantine`, body: {}, idempotent: true },
      quarantinedCountBody,
    );
  }

  /**
   * POST /_synapse/admin/v1/media/quarantine/<origin>/<media_id>. Answers {} whether or not the
   * server holds the file (a remote file never cached changes nothing), so callers look it up
   * first. Spares a protected local file as the room and user forms do (_quarantine_media_txn
   * skips it; test/e2e/media/quarantine.e2e.test.ts checks it), and takes the file's duplicates
   * by hash along.
   */
  quarantineMedia(mxc: Mxc) {
    return this.sendMedia(
      { method: "POST", path: `${ADMIN_V1}/media/quarantine/${segment(mxc.origin)}/${segment(mxc.mediaId)}`, body: {}, idempotent: true },
      emptyBody,
    );
  }

  /** POST /_synapse/admin/v1/media/unquarantine/<origin>/<media_id>; {} whatever the file's state. */
  unquarantineMedia(mxc: Mxc) {
    return this.sendMedia(
      { method: "POST", path: `${ADMIN_V1}/media/unquarantine/${segment(mxc.origin)}/${segment(mxc.mediaId)}`, body: {}, idempotent: true },
      emptyBody,
    );
  }

  /**
   * POST /_synapse/admin/v1/media/protect/<media_id> (or unprotect): marks a local file safe from
   * every quarantine (room, user, the file named alone, a duplicate by hash), but not from
   * deleteMedia or deleteUserMedia. Local only (the path has no origin); {} even for an unknown id.
   */
  setMediaProtected(mediaId: string, protect: boolean) {
    return this.sendMedia(
      { method: "POST", path: `${ADMIN_V1}/media/${protect ? "protect" : "unprotect"}/${segment(mediaId)}`, body: {}, idempotent: true },
      emptyBody,
    );
  }

  /**
   * DELETE /_synapse/admin/v1/media/<server_name>/<media_id>: removes one local file and its
   * thumbnails, protected or not (callers that spare protected files check first). 400 for a
   * remote origin; 404 "Unknown media".
   */
  deleteMedia(mxc: Mxc) {
    return this.sendMedia(
      { method: "DELETE", path: `${ADMIN_V1}/media/${segment(mxc.origin)}/${segment(mxc.mediaId)}`, idempotent: true },
      deletedMediaBody,
    );
  }

  /**
   * DELETE /_synapse/admin/v1/users/<user_id>/media: deletes one page of the user's uploads (the
   * newest `limit`, default 100; Synapse's paging, so callers repeat until none is left).
   * Protected files are deleted too: callers that spare them delete by id instead.
   */
  deleteUserMedia(userId: UserId, query: UserMediaQuery = {}) {
    return this.sendMedia(
      { method: "DELETE", path: `${ADMIN_V1}/users/${segment(userId)}/media`, query: { from: query.from, limit: query.limit }, idempotent: true },
      deletedMediaBody,
    );
  }

  /**
   * POST /_synapse/admin/v1/media/delete?before_ts=: local files (and local copies of remote
   * ones' thumbnails) last accessed before the time; protected and quarantined files are kept.
   * Synapse refuses a `before_ts` that reads as seconds (before 30,000,000,000).
   */
  deleteOldLocalMedia(query: OldMediaQuery) {
    return this.sendMedia(
      {
        method: "POST",
        path: `${ADMIN_V1}/media/delete`,
        query: { before_ts: query.beforeTs, size_gt: query.sizeGt, keep_profiles: query.keepProfiles },
        body: {},
        idempotent: false,
      },
      deletedMediaBody,
    );
  }

  /** POST /_synapse/admin/v1/purge_media_cache?before_ts=: cached remote files last accessed before the time. */
  purgeRemoteMediaCache(beforeTs: number) {
    return this.sendMedia(
      { method: "POST", path: `${ADMIN_V1}/purge_media_cache`, query: { before_ts: beforeTs }, body: {}, idempotent: false },
      purgedMediaCacheBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/rooms/<room_id>/messages with a filter on one sender, newest first:
   * the events of that user this server holds in the room, whatever its history visibility.
   * Synapse applies the filter while paging, so a page may hold fewer than `limit` events and
   * `end` is absent only at the room's beginning.
   */
  senderMessages(roomId: RoomId, sender: UserId, page: { from?: string; limit: number }) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/rooms/${segment(roomId)}/messages`,
        query: { dir: "b", limit: page.limit, from: page.from, filter: JSON.stringify({ senders: [sender] }) },
        idempotent: true,
      },
      senderMessagesBody,
    );
  }

  /**
   * GET /_synapse/admin/v2/users/<user_id>: the account's flags and profile. 404 for a user
   * this server has no account for (every remote user).
   */
  userAccount(userId: UserId) {
    return this.send({ method: "GET", path: `${ADMIN_V2}/users/${segment(userId)}`, idempotent: true }, userAccountBody);
  }

  /**
   * PUT /_synapse/admin/v1/suspend/<user_id> (Synapse ≥ 1.110): a suspended account can read
   * but not send, join, invite or change its profile. 400 for a remote user.
   */
  setSuspended(userId: UserId, suspend: boolean) {
    return this.send(
      { method: "PUT", path: `${ADMIN_V1}/suspend/${segment(userId)}`, body: { suspend }, idempotent: true },
      emptyBody,
    );
  }

  /**
   * PUT /_synapse/admin/v2/users/<user_id> with `locked`: a locked account's every request is
   * refused (M_USER_LOCKED) until it is unlocked. Only the flag is sent, so nothing else of the
   * account changes. Not served for deployments that delegate login to MAS.
   */
  setLocked(userId: UserId, locked: boolean) {
    return this.send({ method: "PUT", path: `${ADMIN_V2}/users/${segment(userId)}`, body: { locked }, idempotent: true }, emptyBody);
  }

  /** POST (ban) or DELETE (lift) /_synapse/admin/v1/users/<user_id>/shadow_ban. 400 for a remote user. */
  setShadowBanned(userId: UserId, shadowBan: boolean) {
    return this.send(
      { method: shadowBan ? "POST" : "DELETE", path: `${ADMIN_V1}/users/${segment(userId)}/shadow_ban`, ...(shadowBan ? { body: {} } : {}), idempotent: true },
      emptyBody,
    );
  }

  /**
   * POST /_synapse/admin/v1/deactivate/<user_id>: cannot be undone. `erase` also marks the
   * account's messages erased for users who join later (GDPR). The user leaves every room.
   * Synapse answers 200 for an account already deactivated. Main process only.
   */
  deactivateUser(userId: UserId, erase: boolean) {
    return this.send(
      { method: "POST", path: `${ADMIN_V1}/deactivate/${segment(userId)}`, body: { erase }, idempotent: false },
      deactivatedBody,
    );
  }

  /** GET /_synapse/admin/v1/whois/<user_id>: sessions and the addresses they came from. Local users only (400 otherwise). */
  whois(userId: UserId) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/whois/${segment(userId)}`, idempotent: true }, whoisBody);
  }

  /** GET /_synapse/admin/v1/users/<user_id>/joined_rooms: the rooms the user is joined to now (local or remote user). */
  userJoinedRooms(userId: UserId) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/users/${segment(userId)}/joined_rooms`, idempotent: true }, joinedRoomsBody);
  }

  /** GET /_synapse/admin/v1/users/<user_id>/sent_invite_count?from_ts= (Synapse ≥ 1.122): invites sent since then. */
  sentInviteCount(userId: UserId, fromTs: number) {
    return this.send(
      { method: "GET", path: `${ADMIN_V1}/users/${segment(userId)}/sent_invite_count`, query: { from_ts: fromTs }, idempotent: true },
      sentInviteCountBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/users/<user_id>/cumulative_joined_room_count?from_ts= (Synapse ≥
   * 1.122): rooms joined since then, counting rooms left again.
   */
  cumulativeJoinedRoomCount(userId: UserId, fromTs: number) {
    return this.send(
      { method: "GET", path: `${ADMIN_V1}/users/${segment(userId)}/cumulative_joined_room_count`, query: { from_ts: fromTs }, idempotent: true },
      cumulativeJoinedRoomCountBody,
    );
  }

  /**
   * GET /_synapse/admin/v1/user_reports (Synapse ≥ 1.152): one page of reports about users,
   * ordered by the time each was received (not by id), newest first by default, with `total`
   * for the filter; `next_token` is an offset, present while more remain. Differs from its docs:
   * `target_user_id` and `user_id` are matched with LIKE (a substring, `_` any character, ASCII
   * case ignored), so a filtered list may hold other users' reports; the limit defaults to 100.
   * An entry the schema cannot read is set aside in `unreadable`, as for event reports.
   */
  userReports(query: UserReportQuery = {}) {
    return this.send(
      {
        method: "GET",
        path: `${ADMIN_V1}/user_reports`,
        query: { from: query.from, limit: query.limit, dir: query.direction, target_user_id: query.target, user_id: query.reporter },
        idempotent: true,
      },
      userReportsBody,
    );
  }

  /** GET /_synapse/admin/v1/user_reports/<report_id>. 404 when there is no such report. */
  userReport(reportId: number) {
    return this.send({ method: "GET", path: `${ADMIN_V1}/user_reports/${segment(String(reportId))}`, idempotent: true }, userReportBody);
  }

  /** DELETE /_synapse/admin/v1/user_reports/<report_id>. 404 when there is no such report. */
  deleteUserReport(reportId: number) {
    return this.send({ method: "DELETE", path: `${ADMIN_V1}/user_reports/${segment(String(reportId))}`, idempotent: true }, emptyBody);
  }
}
