import type { RoomId, UserId } from "../../src/matrix/ids.js";
import type { AdminError, RedactUserOptions, SenderMessagesBody, SynapseAdminClient } from "../../src/synapse/adminClient.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError } from "./fakeAdmin.js";
import { FakeAccountAdmin } from "./users/fakeAccountAdmin.js";

type UserAdminMethod =
  | "userMemberships"
  | "startRedact"
  | "userJoinedRooms"
  | "senderMessages";

export type UserAdminCall =
  | { readonly method: "userMemberships"; readonly userId: UserId }
  | { readonly method: "startRedact"; readonly userId: UserId; readonly options: RedactUserOptions }
  | { readonly method: "userJoinedRooms"; readonly userId: UserId }
  | { readonly method: "senderMessages"; readonly userId: UserId; readonly roomId: RoomId };

/**
 * FakeAccountAdmin plus the admin calls about users, answered the way Synapse 1.163 answers them:
 * memberships of a user nobody set are empty (no 404), and a redact of a user whose redaction is
 * still active is refused with Synapse's own 400.
 */
export class FakeUserAdmin extends FakeAccountAdmin implements Pick<SynapseAdminClient, UserAdminMethod> {
  readonly userCalls: UserAdminCall[] = [];
  /** User -> (room -> membership), as GET users/<user>/memberships lists them. */
  readonly memberships = new Map<string, Record<string, string>>();
  /** Users with a redaction the homeserver still runs. */
  readonly activeRedactions = new Set<string>();
  /** A failure set here answers every call of that method. */
  readonly userFailures = new Map<UserAdminMethod, AdminError>();
  private redactions = 0;
  /** Room -> the events each sender has there, newest first, as the admin /messages filtered to a sender answers. */
  readonly sentEvents = new Map<string, { readonly eventId: string; readonly sender: string; readonly content: Record<string, unknown> }[]>();

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
