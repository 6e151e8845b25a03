/**
 * What !suspend, !lock, !shadow-ban, their undos and !deactivate report, user by user, and what
 * their preview shows. Plain facts only: render/users/restrict.ts turns them into chat text.
 */

/** The three restrictions Synapse keeps as a flag on an account, each lifted by its undo command. */
export type Restriction = "suspend" | "lock" | "shadow-ban";

/** What one command changes on each account it names. */
export type AccountChange =
  | { readonly kind: "restriction"; readonly restriction: Restriction; readonly on: boolean }
  | { readonly kind: "deactivate"; readonly erase: boolean };

/**
 * An account's flags as the homeserver reported them; a flag left out is one it did not report
 * (`suspended` arrived in Synapse 1.121, after the suspend endpoint itself).
 */
export interface AccountFlags {
  readonly suspended?: boolean;
  readonly locked?: boolean;
  readonly shadowBanned?: boolean;
  readonly deactivated?: boolean;
  readonly erased?: boolean;
}

/** Why a user was left as they were; nothing was sent for them. */
export type UserUnchanged =
  /** checkUsers left them out: never restricted (Warden, a moderator, protectedUsers, a server admin), or no such account. */
  | { readonly why: "left-out"; readonly reason: string }
  /** Synapse changes only its own accounts: another server's user has none here. */
  | { readonly why: "remote" }
  /** Already as asked: restricted for a restriction, not restricted for its undo, deactivated (and erased when asked). */
  | { readonly why: "already" }
  /** A deactivated account is neither restricted nor freed: it cannot log in at all. */
  | { readonly why: "deactivated" };

/** One user as the preview shows them: what will be done (with their flags now), or why nothing. */
export type PlannedUser =
  | { readonly userId: string; readonly flags: AccountFlags; readonly change: "act" }
  | { readonly userId: string; readonly flags?: AccountFlags; readonly change: UserUnchanged };

/** A command's plan, in the order the users were named; the preview is rendered from it. */
export interface AccountChangePlan {
  /** The command's name ("suspend", "unshadow-ban", "deactivate"). */
  readonly command: string;
  readonly change: AccountChange;
  readonly users: readonly PlannedUser[];
  /** What the change does to an account, as Synapse behaves (from the command's table row). */
  readonly effect: string;
  /** The command that undoes it; none for a deactivation. */
  readonly undo?: string;
}

export type UserChangeResult =
  /** `wasDeactivated`: an --erase of an account already deactivated (Synapse erases it then too). */
  | { readonly status: "done"; readonly wasDeactivated?: true }
  | { readonly status: "unchanged"; readonly unchanged: UserUnchanged }
  | { readonly status: "failed"; readonly reason: string }
  /** Never sent: an earlier answer showed the homeserver does not serve the endpoint (see `stopped`). */
  | { readonly status: "not-tried" };

export interface UserChangeEntry {
  readonly userId: string;
  readonly result: UserChangeResult;
}

export interface AccountActionOutcome {
  readonly kind: "account-action";
  readonly command: string;
  readonly change: AccountChange;
  /** In the order the command named them. */
  readonly entries: readonly UserChangeEntry[];
  readonly undo?: string;
  /** Why the users marked not-tried were not sent. */
  readonly stopped?: string;
}

/** The audit log's line for an account action: which users, and what became of them. */
export function accountActionAudit(outcome: AccountActionOutcome): { readonly target: string; readonly detail: string } {
  const users = outcome.entries.map((entry) => entry.userId);
  const shown = users.slice(0, 10).join(", ");
  const statuses = ["done", "unchanged", "failed", "not-tried"] as const;
  const counts = statuses
    .map((status) => ({ status, count: outcome.entries.filter((entry) => entry.result.status === status).length }))
    .filter((part) => part.count > 0)
    .map((part) => `${part.count} ${part.status}`)
    .join(", ");
  const done = outcome.entries.filter((entry) => entry.result.status === "done").map((entry) => entry.userId);
  const erase = outcome.change.kind === "deactivate" && outcome.change.erase ? " --erase" : "";
  return {
    target: users.length > 10 ? `${shown} and ${users.length - 10} more` : shown,
    // The audit keeps who was changed, not only how many: an account change is about people.
    detail: `${outcome.command}${erase}: ${counts}${done.length === 0 ? "" : ` (done: ${done.slice(0, 10).join(", ")}${done.length > 10 ? ` and ${done.length - 10} more` : ""})`}`,
  };
}
