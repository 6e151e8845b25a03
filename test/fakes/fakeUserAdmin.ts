import type { RoomId, UserId } from "../../src/matrix/ids.js";
import type { AdminError, RedactUserOptions, SenderMessagesBody, SynapseAdminClient, UserAccountBody } from "../../src/synapse/adminClient.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError } from "./fakeAdmin.js";
import { FakeRoomAdmin } from "./fakeRoomAdmin.js";

type UserAdminMethod =
  | "userMemberships"
  | "startRedact"
  | "userAccount"
  | "userJoinedRooms"
  | "senderMessages"
  | "setSuspended"
  | "setLocked"
  | "setShadowBanned"
  | "deactivateUser";

export type UserAdminCall =
  | { readonly method: "userMemberships"; readonly userId: UserId }
  | { readonly method: "startRedact"; readonly userId: UserId; readonly options: RedactUserOptions }
  | { readonly method: "userAccount" | "userJoinedRooms"; readonly userId: UserId }
  | { readonly method: "senderMessages"; readonly userId: UserId; readonly roomId: RoomId }
  | { readonly method: "setSuspended" | "setLocked" | "setShadowBanned"; readonly userId: UserId; readonly value: boolean }
  | { readonly method: "deactivateUser"; readonly userId: UserId; readonly erase: boolean };

/**
 * FakeRoomAdmin plus the admin calls about users, answered the way Synapse 1.163 answers them:
 * memberships of a user nobody set are empty (no 404), and a redact of a user whose redaction is
 * still active is refused with Synapse's own 400.
 */
export class FakeUserAdmin extends FakeRoomAdmin implements Pick<SynapseAdminClient, UserAdminMethod> {
  readonly userCalls: UserAdminCall[] = [];
  /** User -> (room -> membership), as GET users/<user>/memberships lists them. */
  readonly memberships = new Map<string, Record<string, string>>();
  /** Users with a redaction the homeserver still runs. */
  readonly activeRedactions = new Set<string>();
  /** A failure set here answers every call of that method. */
  readonly userFailures = new Map<UserAdminMethod, AdminError>();
  private redactions = 0;
  /** Local accounts by user ID, as GET v2/users/<user> answers (404 for any other). */
  readonly accounts = new Map<string, UserAccountBody>();
  /** Room -> the events each sender has there, newest first, as the admin /messages filtered to a sender answers. */
  readonly sentEvents = new Map<string, { readonly eventId: string; readonly sender: string; readonly content: Record<string, unknown> }[]>();

  /** Adds a local account with the given flags. */
  addAccount(userId: string, flags: Partial<UserAccountBody> = {}): void {
    this.accounts.set(userId, { name: userId, admin: false, deactivated: false, erased: false, suspended: false, locked: false, shadow_banned: false, ...flags });
  }

  userAccount(userId: UserId): Promise<Result<UserAccountBody, AdminError>> {
    this.userCalls.push({ method: "userAccount", userId });
    const failure = this.userFailures.get("userAccount");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const account = this.accounts.get(userId);
    return Promise.resolve(account === undefined ? err(adminError("not-found", 404, "User not found")) : ok({ ...account }));
  }

  userJoinedRooms(userId: UserId): Promise<Result<{ joined_rooms: string[] }, AdminError>> {
    this.userCalls.push({ method: "userJoinedRooms", userId });
    const failure = this.userFailures.get("userJoinedRooms");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const rooms = Object.entries(this.memberships.get(userId) ?? {}).filter(([, membership]) => membership === "join").map(([roomId]) => roomId);
    return Promise.resolve(ok({ joined_rooms: rooms }));
  }

  senderMessages(roomId: RoomId, sender: UserId, page: { from?: string; limit: number }): Promise<Result<SenderMessagesBody, AdminError>> {
    this.userCalls.push({ method: "senderMessages", userId: sender, roomId });
    const failure = this.userFailures.get("senderMessages");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const events = (this.sentEvents.get(roomId) ?? []).filter((event) => event.sender === sender).slice(0, page.limit);
    return Promise.resolve(ok({ chunk: events.map((event) => ({ event_id: event.eventId, type: "m.room.message", sender: event.sender, content: event.content })) }));
  }

  setSuspended(userId: UserId, suspend: boolean): Promise<Result<Record<string, unknown>, AdminError>> {
    return this.setFlag("setSuspended", userId, suspend, "suspended");
  }

  setLocked(userId: UserId, locked: boolean): Promise<Result<Record<string, unknown>, AdminError>> {
    return this.setFlag("setLocked", userId, locked, "locked");
  }

  setShadowBanned(userId: UserId, shadowBan: boolean): Promise<Result<Record<string, unknown>, AdminError>> {
    return this.setFlag("setShadowBanned", userId, shadowBan, "shadow_banned");
  }

  deactivateUser(userId: UserId, erase: boolean): Promise<Result<{ id_server_unbind_result?: string | null }, AdminError>> {
    this.userCalls.push({ method: "deactivateUser", userId, erase });
    const failure = this.userFailures.get("deactivateUser");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const account = this.accounts.get(userId);
    if (account === undefined) return Promise.resolve(err(adminError("not-found", 404, "User not found")));
    this.accounts.set(userId, { ...account, deactivated: true, erased: account.erased === true || erase });
    return Promise.resolve(ok({ id_server_unbind_result: "success" }));
  }

  private setFlag(
    method: "setSuspended" | "setLocked" | "setShadowBanned",
    userId: UserId,
    value: boolean,
    flag: "suspended" | "locked" | "shadow_banned",
  ): Promise<Result<Record<string, unknown>, AdminError>> {
    this.userCalls.push({ method, userId, value });
    const failure = this.userFailures.get(method);
    if (failure !== undefined) return Promise.resolve(err(failure));
    const account = this.accounts.get(userId);
    if (account === undefined) return Promise.resolve(err(adminError("not-found", 404, "User not found")));
    this.accounts.set(userId, { ...account, [flag]: value });
    return Promise.resolve(ok({}));
  }

  userMemberships(userId: UserId): Promise<Result<{ memberships: Record<string, string> }, AdminError>> {
    this.userCalls.push({ method: "userMemberships", userId });
    const failure = this.userFailures.get("userMemberships");
    if (failure !== undefined) return Promise.resolve(err(failure));
    return Promise.resolve(ok({ memberships: { ...(this.memberships.get(userId) ?? {}) } }));
  }

  startRedact(userId: UserId, options: RedactUserOptions): Promise<Result<{ redact_id: string }, AdminError>> {
    this.userCalls.push({ method: "startRedact", userId, options });
    const failure = this.userFailures.get("startRedact");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (this.activeRedactions.has(userId)) {
      return Promise.resolve(err(adminError("bad-request", 400, `Redact already in progress for user ${userId}`)));
    }
    this.redactions += 1;
    return Promise.resolve(ok({ redact_id: `redact-${this.redactions}` }));
  }
}
