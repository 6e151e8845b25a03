import type { UserId } from "../../matrix/ids.js";
import type { CommandOutcome } from "../../model/outcomes.js";
import type { AccountFlags, UserUnchanged } from "../../model/restrictions.js";
import { ok } from "../../util/result.js";
import { booleanFlag } from "../parsing/words.js";
import { defineCommand } from "../spec.js";
import { planAccountAction, previewAccountAction, runAccountAction, type AccountAction, type AccountActionDependencies } from "./accountChanges.js";
import { MAX_USERS, parseUsers } from "./targets.js";

interface DeactivateArguments {
  readonly users: readonly UserId[];
  readonly erase: boolean;
}

/** Read in synapse/handlers/deactivate_account.py (1.163). */
const DEACTIVATE_EFFECT =
  "a deactivated account is logged out everywhere (its devices, access tokens, password, pushers, email addresses and phone numbers are removed), leaves every room (Synapse parts it in the background) and can never log in again.";
const ERASE_EFFECT =
  " --erase also removes its display name and avatar and marks it erased: its messages stay visible to whoever was in a room when they were sent, and are hidden from users who join later.";

/**
 * Synapse's deactivation has no "already deactivated" check: it runs again, and with erase it
 * erases an account deactivated earlier without it. So an erase of such an account is sent; any
 * other repeat is answered without a call.
 */
function decide(flags: AccountFlags, erase: boolean): UserUnchanged | "act" {
  if (flags.deactivated === true && (!erase || flags.erased === true)) return { why: "already" };
  return "act";
}

function actionOf(erase: boolean): AccountAction {
  return {
    command: "deactivate",
    change: { kind: "deactivate", erase },
    effect: erase ? DEACTIVATE_EFFECT + ERASE_EFFECT : DEACTIVATE_EFFECT,
    notServed: "this homeserver process does not serve Synapse's deactivate admin endpoint (Synapse serves it on the main process only: route it there, not to a worker)",
    decide: (flags) => decide(flags, erase),
    send: (admin, userId) => admin.deactivateUser(userId, erase),
  };
}

export function deactivateCommand(dependencies: AccountActionDependencies) {
  return defineCommand<DeactivateArguments>({
    name: "deactivate",
    summary: "Deactivate local accounts for good: logged out everywhere, out of every room, never to log in again; --erase also hides their messages from later joiners.",
    details: [
      "Always previewed, whatever confirmBefore says, and --yes is not taken: a deactivation cannot be undone. The preview shows each account's flags now.",
      `Several users may be named at once (up to ${MAX_USERS}); each is looked up first and again when confirmed, and the reply says per user what was done, what needed nothing and what failed.`,
      "Only accounts of this homeserver: another server's user is left out, as are Warden's own account, the moderators on its allowlist, server admins and protectedUsers.",
      "An account already deactivated is left as it is, unless --erase names one deactivated without erasure: Synapse then erases it.",
    ],
    positionals: [{ name: "user", repeatable: true, description: `a user of this homeserver as a full user ID (@abuse:example.org); up to ${MAX_USERS}` }],
    flags: [{ name: "erase", kind: "boolean", description: "also erase the accounts (GDPR): profile removed, messages hidden from users who join later" }],
    examples: ["!deactivate @abuse:example.org", "!deactivate @spam1:example.org @spam2:example.org --erase"],
    parse(words) {
      const users = parseUsers(words.positionals);
      return users.ok ? ok({ users: users.value, erase: booleanFlag(words, "erase") }) : users;
    },
    confirmation: {
      kind: () => "restrict",
      // Nothing gives a deactivated account back: every deactivation shows its accounts first.
      always: () => true,
      unskippable: true,
      preview: (args, context) => previewAccountAction(actionOf(args.erase), args.users, dependencies, context.prefix),
    },
    async execute(args, context): Promise<CommandOutcome> {
      // Looked up again when confirmed: an account made a server admin since the preview is left out now.
      const action = actionOf(args.erase);
      const plan = await planAccountAction(action, args.users, dependencies);
      if (!plan.ok) return plan.error;
      return runAccountAction(action, plan.value, dependencies, context.requester);
    },
  });
}
