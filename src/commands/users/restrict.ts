import type { UserId } from "../../matrix/ids.js";
import type { AccountFlags, Restriction, UserUnchanged } from "../../model/restrictions.js";
import type { CommandOutcome } from "../../model/outcomes.js";
import type { AdminError } from "../../synapse/adminClient.js";
import { FEATURE_VERSIONS, type Feature } from "../../synapse/features.js";
import { ok, type Result } from "../../util/result.js";
import { defineCommand, type Command } from "../spec.js";
import { planAccountAction, previewAccountAction, runAccountAction, type AccountAction, type AccountActionDependencies } from "./accountChanges.js";
import { MAX_USERS, parseUsers } from "./targets.js";

export type RestrictDependencies = AccountActionDependencies;

/**
 * One row per command: the restriction it sets or lifts, the admin call, and its words. The six
 * commands differ in nothing else, so they are made from these rows by one factory.
 */
interface RestrictRow {
  readonly name: string;
  readonly undo: string;
  readonly restriction: Restriction;
  /** True: the command sets the restriction; false: it lifts it. */
  readonly on: boolean;
  readonly feature?: Feature;
  readonly flag: (flags: AccountFlags) => boolean | undefined;
  readonly call: (admin: AccountActionDependencies["admin"], userId: UserId) => Promise<Result<unknown, AdminError>>;
  readonly summary: string;
  readonly effect: string;
  /** Said when the homeserver answers that it has no such endpoint; rows with a feature say which Synapse they need. */
  readonly notServed?: string;
}

/** Read in synapse/handlers/message.py, room_member.py and profile.py (1.163). */
const SUSPEND_EFFECT =
  "a suspended account stays logged in and can read, leave rooms and redact its own messages, but cannot send messages, join, invite or change its profile (Synapse answers M_USER_SUSPENDED).";
/** Read in synapse/api/auth/internal.py and rest/client/login.py (1.163). */
const LOCK_EFFECT =
  "a locked account cannot log in, and every request of its sessions is refused (M_USER_LOCKED); the sessions are kept and work again once it is unlocked. On a homeserver that delegates login to MAS, lock the account in MAS instead: Synapse's flag does not stop its sessions.";
/** Read in synapse/handlers/message.py, room.py, room_member.py, profile.py and typing.py (1.163). */
const SHADOW_BAN_EFFECT =
  "a shadow-banned account is not told: its messages, invites, new rooms, profile changes and typing notices seem to work for it but reach nobody.";

const NOT_SERVED_LOCK =
  "this homeserver does not serve Synapse's account admin endpoint for locking (a homeserver that delegates login to MAS answers so); lock the account in MAS instead (its admin API or mas-cli)";
const NOT_SERVED_SHADOW_BAN = "this homeserver does not serve Synapse's shadow-ban admin endpoint";

const ROWS: readonly RestrictRow[] = [
  {
    name: "suspend",
    undo: "unsuspend",
    restriction: "suspend",
    on: true,
    feature: "suspend",
    flag: (flags) => flags.suspended,
    call: (admin, userId) => admin.setSuspended(userId, true),
    summary: "Suspend local accounts: they can still read, but not send, join, invite or change their profile.",
    effect: SUSPEND_EFFECT,
  },
  {
    name: "unsuspend",
    undo: "suspend",
    restriction: "suspend",
    on: false,
    feature: "suspend",
    flag: (flags) => flags.suspended,
    call: (admin, userId) => admin.setSuspended(userId, false),
    summary: "Lift the suspension of local accounts.",
    effect: "the account can send, join, invite and change its profile again.",
  },
  {
    name: "lock",
    undo: "unlock",
    restriction: "lock",
    on: true,
    flag: (flags) => flags.locked,
    call: (admin, userId) => admin.setLocked(userId, true),
    summary: "Lock local accounts: they cannot log in, and their sessions are refused every request until unlocked.",
    effect: LOCK_EFFECT,
    notServed: NOT_SERVED_LOCK,
  },
  {
    name: "unlock",
    undo: "lock",
    restriction: "lock",
    on: false,
    flag: (flags) => flags.locked,
    call: (admin, userId) => admin.setLocked(userId, false),
    summary: "Unlock local accounts: they can log in again, and their sessions work again.",
    effect: "the account can log in again, and its sessions work again.",
    notServed: NOT_SERVED_LOCK,
  },
  {
    name: "shadow-ban",
    undo: "unshadow-ban",
    restriction: "shadow-ban",
    on: true,
    flag: (flags) => flags.shadowBanned,
    call: (admin, userId) => admin.setShadowBanned(userId, true),
    summary: "Shadow-ban local accounts: what they send seems to work for them but reaches nobody.",
    effect: SHADOW_BAN_EFFECT,
    notServed: NOT_SERVED_SHADOW_BAN,
  },
  {
    name: "unshadow-ban",
    undo: "shadow-ban",
    restriction: "shadow-ban",
    on: false,
    flag: (flags) => flags.shadowBanned,
    call: (admin, userId) => admin.setShadowBanned(userId, false),
    summary: "Lift the shadow-ban of local accounts: what they send reaches rooms again (what they sent while banned stays unseen).",
    effect: "what the account sends reaches rooms again; what it sent while shadow-banned stays unseen.",
    notServed: NOT_SERVED_SHADOW_BAN,
  },
];

interface RestrictArguments {
  readonly users: readonly UserId[];
}

function decide(row: RestrictRow, flags: AccountFlags): UserUnchanged | "act" {
  if (flags.deactivated === true) return { why: "deactivated" };
  // A flag the homeserver did not report (suspended before 1.121) is sent anyway: setting it twice is harmless.
  return row.flag(flags) === row.on ? { why: "already" } : "act";
}

function actionOf(row: RestrictRow): AccountAction {
  return {
    command: row.name,
    change: { kind: "restriction", restriction: row.restriction, on: row.on },
    effect: row.effect,
    undo: row.undo,
    ...(row.feature === undefined ? {} : { feature: row.feature }),
    ...(row.notServed === undefined ? {} : { notServed: row.notServed }),
    decide: (flags) => decide(row, flags),
    send: row.call,
  };
}

function restrictCommand(row: RestrictRow, dependencies: RestrictDependencies): Command {
  const action = actionOf(row);
  return defineCommand<RestrictArguments>({
    name: row.name,
    summary: row.summary,
    details: [
      `Several users may be named at once (up to ${MAX_USERS}); each is looked up first, and the reply says per user what was done, what needed nothing and what failed (one failure does not stop the others).`,
      "Only accounts of this homeserver: another server's user is left out, as are Warden's own account, the moderators on its allowlist, server admins, protectedUsers and deactivated accounts.",
      ...(row.feature === undefined ? [] : [`Needs Synapse ${FEATURE_VERSIONS[row.feature]} or later.`]),
      `Undone with !${row.undo}. Previewed first when confirmBefore lists restrict.`,
    ],
    positionals: [{ name: "user", repeatable: true, description: `a user of this homeserver as a full user ID (@abuse:example.org); up to ${MAX_USERS}` }],
    flags: [],
    examples: [`!${row.name} @abuse:example.org`, `!${row.name} @spam1:example.org @spam2:example.org`],
    parse(words) {
      const users = parseUsers(words.positionals);
      return users.ok ? ok({ users: users.value }) : users;
    },
    confirmation: {
      kind: () => "restrict",
      preview: (args, context) => previewAccountAction(action, args.users, dependencies, context.prefix),
    },
    async execute(args, context): Promise<CommandOutcome> {
      // Looked up again when confirmed: an account made a server admin, or restricted by someone else, since the preview is seen as it is now.
      const plan = await planAccountAction(action, args.users, dependencies);
      if (!plan.ok) return plan.error;
      return runAccountAction(action, plan.value, dependencies, context.requester);
    },
  });
}

/** !suspend, !unsuspend, !lock, !unlock, !shadow-ban and !unshadow-ban, in that order. */
export function restrictCommands(dependencies: RestrictDependencies): readonly Command[] {
  return ROWS.map((row) => restrictCommand(row, dependencies));
}
