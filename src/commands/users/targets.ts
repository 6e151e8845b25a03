import { protectedUserReason, type UserSafetyRules } from "../../access/userSafety.js";
import { serverNameOf, type UserId } from "../../matrix/ids.js";
import type { ArgumentProblem } from "../../model/commandSpec.js";
import type { Refusal } from "../../model/outcomes.js";
import type { SynapseAdminClient, UserAccountBody } from "../../synapse/adminClient.js";
import { err, ok, type Result } from "../../util/result.js";
import { parseUserArgument } from "../parsing/arguments.js";

/** Users one command may name: enough for a raid's accounts, few enough that a preview lists them all. */
export const MAX_USERS = 50;

/** Parses every word as a user ID (duplicates kept once, in order); at least one, at most MAX_USERS. */
export function parseUsers(words: readonly string[], name = "<user>"): Result<readonly UserId[], ArgumentProblem> {
  if (words.length === 0) return err({ argument: name, expected: "at least one full user ID such as @abuse:example.org" });
  const users: UserId[] = [];
  for (const word of words) {
    const user = parseUserArgument(name, word);
    if (!user.ok) return user;
    if (!users.includes(user.value)) users.push(user.value);
  }
  if (users.length > MAX_USERS) return err({ argument: name, given: `${users.length} users`, expected: `at most ${MAX_USERS} users in one command` });
  return ok(users);
}

/** A user a command may act on: local with their account as the homeserver has it, or remote (no account here). */
export type ActionableUser =
  | { readonly kind: "local"; readonly userId: UserId; readonly account: UserAccountBody }
  | { readonly kind: "remote"; readonly userId: UserId };

/** A user named and left out, with why (protected, or no such account). */
export interface LeftOutUser {
  readonly userId: UserId;
  readonly why: string;
}

export interface CheckedUsers {
  readonly users: readonly ActionableUser[];
  readonly leftOut: readonly LeftOutUser[];
}

export interface UserTargetDependencies {
  readonly admin: Pick<SynapseAdminClient, "userAccount">;
  readonly serverName: string;
  readonly userSafety: UserSafetyRules;
}

/**
 * Looks each user up and sorts them into those a command may act on and those it must leave
 * out: Warden itself, moderators, protectedUsers and server admins (src/access/userSafety.ts),
 * and local IDs with no account. The account is read for every local user, so a server admin
 * is recognised by the homeserver's own flag. A lookup that fails for another reason refuses
 * the whole command: acting on the others would hide the one that could not be checked.
 */
export async function checkUsers(userIds: readonly UserId[], dependencies: UserTargetDependencies): Promise<Result<CheckedUsers, Refusal>> {
  const users: ActionableUser[] = [];
  const leftOut: LeftOutUser[] = [];
  for (const userId of userIds) {
    const ruled = protectedUserReason(userId, dependencies.userSafety, false);
    if (ruled !== undefined) {
      leftOut.push({ userId, why: ruled });
      continue;
    }
    if (serverNameOf(userId) !== dependencies.serverName) {
      users.push({ kind: "remote", userId });
      continue;
    }
    const account = await dependencies.admin.userAccount(userId);
    if (!account.ok) {
      if (account.error.kind === "not-found") {
        leftOut.push({ userId, why: "no such account on this homeserver" });
        continue;
      }
      return err({ kind: "refused", reason: `could not look up ${userId}: ${account.error.userMessage}` });
    }
    const admin = protectedUserReason(userId, dependencies.userSafety, account.value.admin === true);
    if (admin !== undefined) leftOut.push({ userId, why: admin });
    else users.push({ kind: "local", userId, account: account.value });
  }
  return ok({ users, leftOut });
}
