import type { UserId } from "../../src/matrix/ids.js";
import type { AdminError, RedactUserOptions, SynapseAdminClient } from "../../src/synapse/adminClient.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError } from "./fakeAdmin.js";
import { FakeAccountAdmin } from "./users/fakeAccountAdmin.js";

type UserAdminMethod = "userMemberships" | "startRedact";

export type UserAdminCall =
  | { readonly method: "userMemberships"; readonly userId: UserId }
  | { readonly method: "startRedact"; readonly userId: UserId; readonly options: RedactUserOptions };

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
