import { serverNameOf, type UserId } from "../../../src/matrix/ids.js";
import type { AdminError, SynapseAdminClient, UserAccountBody } from "../../../src/synapse/adminClient.js";
import { err, ok, type Result } from "../../../src/util/result.js";
import { adminError } from "../fakeAdmin.js";
import { FakeRoomAdmin } from "../fakeRoomAdmin.js";

export type AccountAdminMethod = "userAccount" | "setSuspended" | "setLocked" | "setShadowBanned" | "deactivateUser";

export type AccountAdminCall =
  | { readonly method: "userAccount"; readonly userId: UserId }
  | { readonly method: "setSuspended" | "setLocked" | "setShadowBanned"; readonly userId: UserId; readonly on: boolean }
  | { readonly method: "deactivateUser"; readonly userId: UserId; readonly erase: boolean };

/** A failure answering one method's calls, for one user or (without userId) for all. */
export interface AccountFailure {
  readonly method: AccountAdminMethod;
  readonly userId?: string;
  readonly error: AdminError;
}

const ACCOUNT_SERVER = "example.org";

/**
 * FakeRoomAdmin plus the accounts of this homeserver (example.org) and the admin calls that read
 * and restrict them, answered as Synapse 1.163 answers: another server's user is refused with
 * 400, an unknown local user is 404 M_NOT_FOUND, except for the lock, whose PUT on the user
 * endpoint creates the account (Synapse's "modify or create"); a deactivation runs again on a
 * deactivated account and erases it when asked.
 */
export class FakeAccountAdmin extends FakeRoomAdmin implements Pick<SynapseAdminClient, AccountAdminMethod> {
  readonly accountCalls: AccountAdminCall[] = [];
  /** User -> account, as GET v2/users/<user> answers. */
  readonly accounts = new Map<string, UserAccountBody>();
  readonly accountFailures: AccountFailure[] = [];

  addAccount(userId: string, flags: Partial<UserAccountBody> = {}): void {
    this.accounts.set(userId, { name: userId, admin: false, deactivated: false, erased: false, shadow_banned: false, suspended: false, locked: false, ...flags });
  }

  private accountFailure(method: AccountAdminMethod, userId: string): AdminError | undefined {
    return this.accountFailures.find((failure) => failure.method === method && (failure.userId === undefined || failure.userId === userId))?.error;
  }

  /** Synapse's checks shared by the setters: a failure set by the test, another server's user, no such account. */
  private accountRefusal(method: AccountAdminMethod, userId: UserId): AdminError | undefined {
    const failure = this.accountFailure(method, userId);
    if (failure !== undefined) return failure;
    if (serverNameOf(userId) !== ACCOUNT_SERVER) return adminError("bad-request", 400, "Can only change local users");
    if (!this.accounts.has(userId) && method !== "setLocked") return { ...adminError("not-found", 404, "User not found"), errcode: "M_NOT_FOUND" };
    return undefined;
  }

  private updateAccount(userId: UserId, flags: Partial<UserAccountBody>): void {
    const account = this.accounts.get(userId) ?? { name: userId };
    this.accounts.set(userId, { ...account, ...flags });
  }

  userAccount(userId: UserId): Promise<Result<UserAccountBody, AdminError>> {
    this.accountCalls.push({ method: "userAccount", userId });
    const failure = this.accountFailure("userAccount", userId);
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (serverNameOf(userId) !== ACCOUNT_SERVER) return Promise.resolve(err(adminError("bad-request", 400, "Can only look up local users")));
    const account = this.accounts.get(userId);
    return Promise.resolve(account === undefined ? err({ ...adminError("not-found", 404, "User not found"), errcode: "M_NOT_FOUND" }) : ok({ ...account }));
  }

  setSuspended(userId: UserId, suspend: boolean): Promise<Result<Record<string, never>, AdminError>> {
    this.accountCalls.push({ method: "setSuspended", userId, on: suspend });
    const refused = this.accountRefusal("setSuspended", userId);
    if (refused !== undefined) return Promise.resolve(err(refused));
    this.updateAccount(userId, { suspended: suspend });
    return Promise.resolve(ok({}));
  }

  setLocked(userId: UserId, locked: boolean): Promise<Result<Record<string, never>, AdminError>> {
    this.accountCalls.push({ method: "setLocked", userId, on: locked });
    const refused = this.accountRefusal("setLocked", userId);
    if (refused !== undefined) return Promise.resolve(err(refused));
    this.updateAccount(userId, { locked });
    return Promise.resolve(ok({}));
  }

  setShadowBanned(userId: UserId, shadowBan: boolean): Promise<Result<Record<string, never>, AdminError>> {
    this.accountCalls.push({ method: "setShadowBanned", userId, on: shadowBan });
    const refused = this.accountRefusal("setShadowBanned", userId);
    if (refused !== undefined) return Promise.resolve(err(refused));
    this.updateAccount(userId, { shadow_banned: shadowBan });
    return Promise.resolve(ok({}));
  }

  deactivateUser(userId: UserId, erase: boolean): Promise<Result<{ id_server_unbind_result?: string | null }, AdminError>> {
    this.accountCalls.push({ method: "deactivateUser", userId, erase });
    const refused = this.accountRefusal("deactivateUser", userId);
    if (refused !== undefined) return Promise.resolve(err(refused));
    this.updateAccount(userId, { deactivated: true, ...(erase ? { erased: true } : {}) });
    return Promise.resolve(ok({ id_server_unbind_result: "success" }));
  }

  /** The calls that change an account (everything but the lookups). */
  changesSent(): AccountAdminCall[] {
    return this.accountCalls.filter((call) => call.method !== "userAccount");
  }
}
