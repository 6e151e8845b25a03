import { serverNameOf, type RoomId, type UserId } from "../../src/matrix/ids.js";
import type { AdminError, RedactUserOptions, SynapseAdminClient, UserReportQuery } from "../../src/synapse/adminClient.js";
import type { SenderMessagesBody, UserAccountBody, UserDevicesBody, UserReportBody, WhoisBody } from "../../src/synapse/schemas.js";
import { userReportsBody } from "../../src/synapse/schemas.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError } from "./fakeAdmin.js";
import { FakeAccountAdmin } from "./users/fakeAccountAdmin.js";

type UserAdminMethod =
  | "userMemberships"
  | "startRedact"
  | "userAccount"
  | "userDevices"
  | "whois"
  | "userJoinedRooms"
  | "sentInviteCount"
  | "cumulativeJoinedRoomCount"
  | "userReports"
  | "senderMessages";

export type UserAdminCall =
  | { readonly method: "userMemberships" | "userAccount" | "userDevices" | "whois" | "userJoinedRooms"; readonly userId: UserId }
  | { readonly method: "sentInviteCount" | "cumulativeJoinedRoomCount"; readonly userId: UserId; readonly fromTs: number }
  | { readonly method: "userReports"; readonly query: UserReportQuery }
  | { readonly method: "senderMessages"; readonly userId: UserId; readonly roomId: RoomId }
  | { readonly method: "startRedact"; readonly userId: UserId; readonly options: RedactUserOptions };

/** The server the user fakes belong to (FakeMediaAdmin's SERVER_NAME, which imports from here). */
const HOME = "example.org";

type Answer<M extends UserAdminMethod> = ReturnType<SynapseAdminClient[M]>;

/**
 * FakeRoomAdmin plus the admin calls about users, answered the way Synapse 1.163 answers them:
 * memberships of a user nobody set are empty (no 404), and joined rooms are the memberships
 * that read "join", for any user; accounts, devices and whois exist for local users only (400
 * "Can only look up local users" for others, 404 for a local user without an account); the
 * activity counts answer for anyone; a redact of a user whose redaction is still active is
 * refused with Synapse's own 400.
 */
export class FakeUserAdmin extends FakeAccountAdmin implements Pick<SynapseAdminClient, UserAdminMethod> {
  readonly userCalls: UserAdminCall[] = [];
  /** User -> (room -> membership), as GET users/<user>/memberships lists them. */
  readonly memberships = new Map<string, Record<string, string>>();
  /** Users with a redaction the homeserver still runs. */
  readonly activeRedactions = new Set<string>();
  readonly devices = new Map<string, UserDevicesBody["devices"]>();
  /** User -> whois's devices (sessions and the addresses they came from). */
  readonly sessions = new Map<string, WhoisBody["devices"]>();
  /** User -> invites sent and rooms joined in the window the counts are asked for. */
  readonly activity = new Map<string, { readonly invites: number; readonly joins: number }>();
  /** Reports about users, in any order (listed newest first). */
  readonly userReportList: UserReportBody[] = [];
  /** A failure set here answers every call of that method. */
  readonly userFailures = new Map<UserAdminMethod, AdminError>();
  private redactions = 0;
  /** Room -> the events each sender has there, newest first, as the admin /messages filtered to a sender answers. */
  readonly sentEvents = new Map<string, { readonly eventId: string; readonly sender: string; readonly content: Record<string, unknown> }[]>();

  /** A local account with Synapse's defaults for a fresh one; creation_ts in seconds, as Synapse keeps it. */
  override addAccount(userId: string, account: Partial<UserAccountBody> = {}): void {
    this.accounts.set(userId, {
      name: userId,
      displayname: null,
      admin: false,
      deactivated: false,
      erased: false,
      shadow_banned: false,
      suspended: false,
      locked: false,
      creation_ts: 1_700_000_000,
      last_seen_ts: null,
      user_type: null,
      is_guest: false,
      appservice_id: null,
      ...account,
    });
  }

  private failing(method: UserAdminMethod): AdminError | undefined {
    return this.userFailures.get(method);
  }

  /** Local-only endpoints: 400 for a remote user, 404 for a local one without an account. */
  private localOnly(userId: UserId): AdminError | undefined {
    if (serverNameOf(userId) !== HOME) return adminError("bad-request", 400, "Can only look up local users");
    return this.accounts.has(userId) ? undefined : adminError("not-found", 404, "User not found");
  }

  userMemberships(userId: UserId): Answer<"userMemberships"> {
    this.userCalls.push({ method: "userMemberships", userId });
    const failure = this.failing("userMemberships");
    if (failure !== undefined) return Promise.resolve(err(failure));
    return Promise.resolve(ok({ memberships: { ...(this.memberships.get(userId) ?? {}) } }));
  }

  userJoinedRooms(userId: UserId): Answer<"userJoinedRooms"> {
    this.userCalls.push({ method: "userJoinedRooms", userId });
    const failure = this.failing("userJoinedRooms");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const joined = Object.entries(this.memberships.get(userId) ?? {}).flatMap(([roomId, membership]) => (membership === "join" ? [roomId] : []));
    return Promise.resolve(ok({ joined_rooms: joined, total: joined.length }));
  }

  /** Recorded with the other user reads as well as with the account calls (see FakeAccountAdmin). */
  override userAccount(userId: UserId): Answer<"userAccount"> {
    this.userCalls.push({ method: "userAccount", userId });
    const failure = this.failing("userAccount") ?? this.localOnly(userId);
    if (failure !== undefined) return Promise.resolve(err(failure));
    return super.userAccount(userId);
  }

  senderMessages(roomId: RoomId, sender: UserId, page: { from?: string; limit: number }): Promise<Result<SenderMessagesBody, AdminError>> {
    this.userCalls.push({ method: "senderMessages", userId: sender, roomId });
    const failure = this.failing("senderMessages");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const events = (this.sentEvents.get(roomId) ?? []).filter((event) => event.sender === sender).slice(0, page.limit);
    return Promise.resolve(ok({ chunk: events.map((event) => ({ event_id: event.eventId, type: "m.room.message", sender: event.sender, content: event.content })) }));
  }

  userDevices(userId: UserId): Answer<"userDevices"> {
    this.userCalls.push({ method: "userDevices", userId });
    const failure = this.failing("userDevices") ?? this.localOnly(userId);
    if (failure !== undefined) return Promise.resolve(err(failure));
    const devices = [...(this.devices.get(userId) ?? [])];
    return Promise.resolve(ok({ devices }));
  }

  whois(userId: UserId): Answer<"whois"> {
    this.userCalls.push({ method: "whois", userId });
    const failure = this.failing("whois") ?? (serverNameOf(userId) === HOME ? undefined : adminError("bad-request", 400, "Can only whois a local user"));
    if (failure !== undefined) return Promise.resolve(err(failure));
    return Promise.resolve(ok({ user_id: userId, devices: { ...(this.sessions.get(userId) ?? {}) } }));
  }

  sentInviteCount(userId: UserId, fromTs: number): Answer<"sentInviteCount"> {
    this.userCalls.push({ method: "sentInviteCount", userId, fromTs });
    const failure = this.failing("sentInviteCount");
    if (failure !== undefined) return Promise.resolve(err(failure));
    return Promise.resolve(ok({ invite_count: this.activity.get(userId)?.invites ?? 0 }));
  }

  cumulativeJoinedRoomCount(userId: UserId, fromTs: number): Answer<"cumulativeJoinedRoomCount"> {
    this.userCalls.push({ method: "cumulativeJoinedRoomCount", userId, fromTs });
    const failure = this.failing("cumulativeJoinedRoomCount");
    if (failure !== undefined) return Promise.resolve(err(failure));
    return Promise.resolve(ok({ cumulative_joined_room_count: this.activity.get(userId)?.joins ?? 0 }));
  }

  userReports(query: UserReportQuery = {}): Answer<"userReports"> {
    this.userCalls.push({ method: "userReports", query });
    const failure = this.failing("userReports");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const matching = this.userReportList
      .filter((report) => (query.target === undefined || report.target_user_id === query.target) && (query.reporter === undefined || report.user_id === query.reporter))
      .sort((a, b) => (query.direction === "f" ? a.received_ts - b.received_ts : b.received_ts - a.received_ts));
    const from = query.from ?? 0;
    const limit = query.limit ?? 100;
    const page = matching.slice(from, from + limit);
    // Through the admin client's own schema, which reads each entry on its own (`unreadable`).
    return Promise.resolve(ok(userReportsBody.parse({ user_reports: page, total: matching.length, ...(from + limit < matching.length ? { next_token: from + page.length } : {}) })));
  }

  startRedact(userId: UserId, options: RedactUserOptions): Promise<Result<{ redact_id: string }, AdminError>> {
    this.userCalls.push({ method: "startRedact", userId, options });
    const failure = this.failing("startRedact");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (this.activeRedactions.has(userId)) {
      return Promise.resolve(err(adminError("bad-request", 400, `Redact already in progress for user ${userId}`)));
    }
    this.redactions += 1;
    return Promise.resolve(ok({ redact_id: `redact-${this.redactions}` }));
  }
}
