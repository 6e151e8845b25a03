import type { Logger } from "pino";
import type { UserId } from "../../matrix/ids.js";
import { present } from "../../model/lookups.js";
import type { Preview } from "../../model/commandSpec.js";
import type { CommandOutcome, Refusal } from "../../model/outcomes.js";
import type { AccountChange, AccountChangePlan, AccountFlags, PlannedUser, UserChangeEntry, UserUnchanged } from "../../model/restrictions.js";
import { nothingToChange, restrictionPreview } from "../../render/users/restrict.js";
import type { AdminError, SynapseAdminClient, UserAccountBody } from "../../synapse/adminClient.js";
import { needsText, supports, unsupportedAnswer, type Feature, type HomeserverVersion } from "../../synapse/features.js";
import { err, ok, type Result } from "../../util/result.js";
import { checkUsers, type UserTargetDependencies } from "./targets.js";

/**
 * What the account commands (!suspend, !lock, !shadow-ban, their undos, !deactivate) share: the
 * version gate, looking every named user up before anything is sent, and changing the accounts
 * one after another.
 */

export interface AccountActionDependencies extends UserTargetDependencies {
  readonly admin: Pick<SynapseAdminClient, "userAccount" | "setSuspended" | "setLocked" | "setShadowBanned" | "deactivateUser">;
  readonly homeserverVersion: HomeserverVersion;
  readonly log: Logger;
}

/** How one command changes one account: the row of its table, made into what the runner needs. */
export interface AccountAction {
  readonly command: string;
  readonly change: AccountChange;
  /** What the change does to an account, for the preview. */
  readonly effect: string;
  readonly undo?: string;
  /** The Synapse release that brought the endpoint, when it is recent enough to be missing. */
  readonly feature?: Feature;
  /** Said when the homeserver answers that it has no such endpoint and no Synapse release explains it. */
  readonly notServed?: string;
  /** Nothing to send for an account in this state (and why), or "act". */
  decide(flags: AccountFlags): UserUnchanged | "act";
  send(admin: AccountActionDependencies["admin"], userId: UserId): Promise<Result<unknown, AdminError>>;
}

export function flagsOf(account: UserAccountBody): AccountFlags {
  return {
    ...present("suspended", account.suspended),
    ...present("locked", account.locked),
    ...present("shadowBanned", account.shadow_banned),
    ...present("deactivated", account.deactivated),
    ...present("erased", account.erased),
  };
}

/**
 * Every named user, looked up and sorted, in the order named: who gets the change and who is
 * left as they are, with why. Refused as a whole when the homeserver is too old for the
 * endpoint, or when a lookup fails (acting on the others would hide the one not checked).
 */
export async function planAccountAction(action: AccountAction, userIds: readonly UserId[], dependencies: AccountActionDependencies): Promise<Result<AccountChangePlan, Refusal>> {
  const version = dependencies.homeserverVersion.current();
  if (action.feature !== undefined && !supports(version, action.feature)) {
    return err({ kind: "refused", reason: `${needsText(action.feature, version)}; nothing was changed.` });
  }
  const checked = await checkUsers(userIds, dependencies);
  if (!checked.ok) return err({ ...checked.error, reason: `${checked.error.reason}; nothing was changed.` });
  const byUser = new Map<string, PlannedUser>();
  for (const left of checked.value.leftOut) byUser.set(left.userId, { userId: left.userId, change: { why: "left-out", reason: left.why } });
  for (const user of checked.value.users) {
    if (user.kind === "remote") {
      byUser.set(user.userId, { userId: user.userId, change: { why: "remote" } });
      continue;
    }
    const flags = flagsOf(user.account);
    byUser.set(user.userId, { userId: user.userId, flags, change: action.decide(flags) });
  }
  return ok({
    command: action.command,
    change: action.change,
    users: userIds.flatMap((userId) => byUser.get(userId) ?? []),
    effect: action.effect,
    ...present("undo", action.undo),
  });
}

/** The preview: the plan as it stands; nothing to confirm (and said why) when nobody would change. */
export async function previewAccountAction(
  action: AccountAction,
  userIds: readonly UserId[],
  dependencies: AccountActionDependencies,
  prefix: string,
): Promise<Result<Preview, Refusal>> {
  const plan = await planAccountAction(action, userIds, dependencies);
  if (!plan.ok) return plan;
  if (!plan.value.users.some((user) => user.change === "act")) return err({ kind: "refused", reason: `nothing to change: ${nothingToChange(plan.value)}.` });
  return ok(restrictionPreview(plan.value, prefix));
}

/**
 * The endpoint is not there: Synapse's M_UNRECOGNIZED, or a 404 that is not Synapse's own "no
 * such user" (M_NOT_FOUND) but a proxy's or an old server's answer to an unknown path.
 */
function notServed(error: AdminError): boolean {
  return unsupportedAnswer(error) || (error.kind === "not-found" && error.errcode !== "M_NOT_FOUND");
}

/**
 * Changes the planned accounts one after another, in the order named. A failure does not stop
 * the others, except an answer showing the endpoint is not served at all: the rest are then not
 * sent, and when nothing was done the command is answered with why (needs Synapse X) instead.
 */
export async function runAccountAction(action: AccountAction, plan: AccountChangePlan, dependencies: AccountActionDependencies, requester: string): Promise<CommandOutcome> {
  const { admin, log } = dependencies;
  const entries: UserChangeEntry[] = [];
  let stopped: string | undefined;
  for (const user of plan.users) {
    const { userId } = user;
    if (user.change !== "act") {
      entries.push({ userId, result: { status: "unchanged", unchanged: user.change } });
      continue;
    }
    if (stopped !== undefined) {
      entries.push({ userId, result: { status: "not-tried" } });
      continue;
    }
    const sent = await action.send(admin, userId as UserId);
    if (sent.ok) {
      log.info({ command: action.command, userId, requester }, "account changed");
      const wasDeactivated = action.change.kind === "deactivate" && user.flags.deactivated === true;
      entries.push({ userId, result: { status: "done", ...(wasDeactivated ? { wasDeactivated: true as const } : {}) } });
      continue;
    }
    log.warn({ command: action.command, userId, requester, error: sent.error }, "account change failed");
    if (notServed(sent.error)) {
      stopped =
        action.feature !== undefined
          ? `${needsText(action.feature)}: the homeserver answered that it has no such endpoint`
          : (action.notServed ?? "this homeserver does not serve that admin endpoint");
      entries.push({ userId, result: { status: "failed", reason: stopped } });
      continue;
    }
    entries.push({ userId, result: { status: "failed", reason: sent.error.userMessage } });
  }
  if (stopped !== undefined && !entries.some((entry) => entry.result.status === "done")) {
    return { kind: "refused", reason: `${stopped}; nothing was changed.` };
  }
  return {
    kind: "account-action",
    command: action.command,
    change: action.change,
    entries,
    ...present("undo", action.undo),
    ...present("stopped", stopped),
  };
}
