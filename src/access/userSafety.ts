import type { UserId } from "../matrix/ids.js";
import { isAllowed, type AllowlistEntry } from "./allowlist.js";

/**
 * Who Warden never restricts, deactivates or takes down, whatever a moderator types: its own
 * account (it would lock itself out), the moderators allowed to command it (a compromised or
 * mistaken moderator must not lock out the others), the homeserver's admins (their accounts
 * run the server), and the config's `protectedUsers`. Checked before any preview, so a
 * preview names them as left out and nothing is sent for them.
 */
export interface UserSafetyRules {
  readonly selfUserId: UserId;
  readonly allowlist: readonly AllowlistEntry[];
  readonly protectedUsers: readonly AllowlistEntry[];
}

/** Why a user is never acted on, or undefined when they may be. `isServerAdmin` comes from the account's admin flag. */
export function protectedUserReason(userId: UserId, rules: UserSafetyRules, isServerAdmin: boolean): string | undefined {
  if (userId === rules.selfUserId) return "Warden's own account";
  if (isAllowed(userId, rules.allowlist)) return "a moderator on Warden's allowlist";
  if (isAllowed(userId, rules.protectedUsers)) return "listed in protectedUsers";
  if (isServerAdmin) return "a server admin";
  return undefined;
}
