import { describe, expect, it } from "vitest";
import { usageLine } from "../../../../src/model/commandSpec.js";
import { accountActionAudit, type AccountActionOutcome } from "../../../../src/model/restrictions.js";
import type { CommandOutcome } from "../../../../src/model/outcomes.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { parseProblem } from "../../../fakes/runCommand.js";
import { Moderator, replyText } from "./moderator.js";

function accountAction(outcome: "shown" | CommandOutcome): AccountActionOutcome {
  if (outcome === "shown" || outcome.kind !== "account-action") throw new Error(`expected an account action, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const ROWS = [
  { name: "suspend", undo: "unsuspend", method: "setSuspended", field: "suspended", on: true, done: "suspended", already: "already suspended" },
  { name: "unsuspend", undo: "suspend", method: "setSuspended", field: "suspended", on: false, done: "no longer suspended", already: "not suspended" },
  { name: "lock", undo: "unlock", method: "setLocked", field: "locked", on: true, done: "locked", already: "already locked" },
  { name: "unlock", undo: "lock", method: "setLocked", field: "locked", on: false, done: "no longer locked", already: "not locked" },
  { name: "shadow-ban", undo: "unshadow-ban", method: "setShadowBanned", field: "shadow_banned", on: true, done: "shadow-banned", already: "already shadow-banned" },
  { name: "unshadow-ban", undo: "shadow-ban", method: "setShadowBanned", field: "shadow_banned", on: false, done: "no longer shadow-banned", already: "not shadow-banned" },
] as const;

describe("the six restrict commands, one row each", () => {
  it.each(ROWS)("!$name sets the account's flag through its own admin call, and the reply says how to undo it", async (row) => {
    const moderator = new Moderator();
    moderator.fakes.admin.addAccount("@spam1:example.org", { [row.field]: !row.on });

    const reply = await moderator.reply(`!${row.name} @spam1:example.org`);

    expect(moderator.fakes.admin.changesSent()).toEqual([{ method: row.method, userId: "@spam1:example.org", on: row.on }]);
    expect(moderator.fakes.admin.accounts.get("@spam1:example.org")?.[row.field]).toBe(row.on);
    expect(reply).toBe(`${reply.split("\n")[0] ?? ""}\n- @spam1:example.org: ${row.done}\nUndo with !${row.undo} @spam1:example.org`);
    expect(reply.split("\n")[0]).toMatch(/ 1 user: 1 done\.$/);
  });

  it.each(ROWS)("!$name sends nothing for an account already as asked, or deactivated", async (row) => {
    const moderator = new Moderator();
    moderator.fakes.admin.addAccount("@spam1:example.org", { [row.field]: row.on });
    moderator.fakes.admin.addAccount("@spam2:example.org", { deactivated: true, [row.field]: !row.on });

    const reply = await moderator.reply(`!${row.name} @spam1:example.org @spam2:example.org`);

    expect(moderator.fakes.admin.changesSent()).toEqual([]);
    expect(reply).toContain(": 0 done, 2 left as they were.");
    expect(reply).toContain(`- @spam1:example.org: ${row.already}; nothing sent`);
    expect(reply).toContain("- @spam2:example.org: deactivated; nothing sent");
    expect(reply).not.toContain("Undo");
  });

  it("sends a flag the homeserver does not report (suspended before Synapse 1.121) rather than guess", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.accounts.set("@spam1:example.org", { name: "@spam1:example.org", admin: false, deactivated: false });

    await moderator.reply("!unsuspend @spam1:example.org");

    expect(moderator.fakes.admin.changesSent()).toEqual([{ method: "setSuspended", userId: "@spam1:example.org", on: false }]);
  });

  it("are listed in help in table order after !make-admin and !user, take several users, --yes and --dry-run", () => {
    const moderator = new Moderator();
    const names = moderator.table.map((command) => command.name);
    const at = names.indexOf("make-admin");
    expect(names.slice(at, at + 9)).toEqual(["make-admin", "user", "suspend", "unsuspend", "lock", "unlock", "shadow-ban", "unshadow-ban", "deactivate"]);
    expect(usageLine(moderator.command("suspend"), "!")).toBe("!suspend <user>... [--yes] [--dry-run]");
    expect(moderator.command("lock").details.join(" ")).not.toContain("Needs Synapse");
    expect(moderator.command("suspend").details).toContain("Needs Synapse 1.110 or later.");
  });
});

describe("!suspend: who is never restricted, and who cannot be", () => {
  it("leaves out Warden, a moderator, a server admin, protectedUsers (by ID and by server), an unknown account and a remote user, each with why, and suspends the rest", async () => {
    const moderator = new Moderator();

    const outcome = accountAction(
      await moderator.send(
        "!suspend @warden:example.org @mod:example.org @spam1:example.org @boss:example.org @vip:example.org @anyone:partner.org @ghost:example.org @visitor:remote.example @spam2:example.org",
      ),
    );

    expect(moderator.fakes.admin.changesSent()).toEqual([
      { method: "setSuspended", userId: "@spam1:example.org", on: true },
      { method: "setSuspended", userId: "@spam2:example.org", on: true },
    ]);
    const reply = replyText(outcome);
    expect(reply).toBe(
      [
        "Suspend 9 users: 2 done, 7 left as they were.",
        "- @warden:example.org: left out: Warden's own account",
        "- @mod:example.org: left out: a moderator on Warden's allowlist",
        "- @spam1:example.org: suspended",
        "- @boss:example.org: left out: a server admin",
        "- @vip:example.org: left out: listed in protectedUsers",
        "- @anyone:partner.org: left out: listed in protectedUsers",
        "- @ghost:example.org: left out: no such account on this homeserver",
        "- @visitor:remote.example: left out: not possible for a remote account (Synapse changes only its own accounts)",
        "- @spam2:example.org: suspended",
        "Undo with !unsuspend @spam1:example.org @spam2:example.org",
      ].join("\n"),
    );
    expect(accountActionAudit(outcome)).toEqual({
      target: "@warden:example.org, @mod:example.org, @spam1:example.org, @boss:example.org, @vip:example.org, @anyone:partner.org, @ghost:example.org, @visitor:remote.example, @spam2:example.org",
      detail: "suspend: 2 done, 7 unchanged (done: @spam1:example.org, @spam2:example.org)",
    });
  });

  it("leaves the moderator out of the undo too: Warden never changes these accounts", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.addAccount("@mod:example.org", { suspended: true });

    expect(await moderator.reply("!unsuspend @mod:example.org")).toBe(
      "Lift the suspension of 1 user: 0 done, 1 left as it was.\n- @mod:example.org: left out: a moderator on Warden's allowlist",
    );
    expect(moderator.fakes.admin.changesSent()).toEqual([]);
  });

  it("refuses the whole command when one lookup fails, changing nobody", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.accountFailures.push({ method: "userAccount", userId: "@spam2:example.org", error: adminError("server-error", 502) });

    const outcome = await moderator.send("!suspend @spam1:example.org @spam2:example.org");

    expect(outcome).toEqual({ kind: "refused", reason: "could not look up @spam2:example.org: the homeserver failed with HTTP 502; nothing was changed." });
    expect(moderator.fakes.admin.changesSent()).toEqual([]);
  });
});

describe("!suspend of several users: each on its own", () => {
  it("goes on after a failure, and the reply says which failed and the homeserver's reason", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.addAccount("@spam3:example.org");
    moderator.fakes.admin.accountFailures.push({ method: "setSuspended", userId: "@spam2:example.org", error: adminError("server-error", 500, "Internal server error") });

    const reply = await moderator.reply("!suspend @spam1:example.org @spam2:example.org @spam3:example.org");

    expect(reply).toBe(
      [
        "Suspend 3 users: 2 done, 1 failed.",
        "- @spam1:example.org: suspended",
        "- @spam2:example.org: failed, not changed: the homeserver failed with HTTP 500: Internal server error",
        "- @spam3:example.org: suspended",
        "Undo with !unsuspend @spam1:example.org @spam3:example.org",
      ].join("\n"),
    );
    expect(moderator.fakes.admin.accounts.get("@spam3:example.org")?.suspended).toBe(true);
    expect(moderator.fakes.logger.withMessage("account change failed")).toHaveLength(1);
  });
});

describe("what the homeserver supports", () => {
  it("answers a homeserver older than 1.110 with the release !suspend and !unsuspend need, before looking anyone up", async () => {
    const moderator = new Moderator();
    moderator.fakes.homeserverVersion.set("1.100.0");

    for (const name of ["suspend", "unsuspend"]) {
      expect(await moderator.send(`!${name} @spam1:example.org`)).toEqual({
        kind: "refused",
        reason: "account suspension needs Synapse 1.110 or later (this homeserver runs 1.100.0); nothing was changed.",
      });
    }
    expect(moderator.fakes.admin.accountCalls).toEqual([]);
    // Locking is older than any Synapse Warden supports: no gate.
    await moderator.reply("!lock @spam1:example.org");
    expect(moderator.fakes.admin.changesSent()).toEqual([{ method: "setLocked", userId: "@spam1:example.org", on: true }]);
  });

  it("says the same when the homeserver answers M_UNRECOGNIZED, and sends nothing more", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.accountFailures.push({ method: "setSuspended", error: { ...adminError("not-found", 404, "Unrecognized request"), errcode: "M_UNRECOGNIZED" } });

    const outcome = await moderator.send("!suspend @spam1:example.org @spam2:example.org");

    expect(outcome).toEqual({
      kind: "refused",
      reason: "account suspension needs Synapse 1.110 or later: the homeserver answered that it has no such endpoint; nothing was changed.",
    });
    expect(moderator.fakes.admin.changesSent()).toEqual([{ method: "setSuspended", userId: "@spam1:example.org", on: true }]);
  });

  it("translates a lock the homeserver does not serve (MAS) into where to lock instead", async () => {
    const moderator = new Moderator();
    // A bare 404 (no Synapse errcode) counts as well: Synapse's own "no such user" carries M_NOT_FOUND.
    moderator.fakes.admin.accountFailures.push({ method: "setLocked", error: adminError("not-found", 404) });

    const outcome = await moderator.send("!lock @spam1:example.org");

    expect(outcome).toMatchObject({ kind: "refused", reason: expect.stringContaining("lock the account in MAS instead (its admin API or mas-cli); nothing was changed.") as unknown });
  });

  it("after some users were done, names the rest not tried with why", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.accountFailures.push({ method: "setShadowBanned", userId: "@spam2:example.org", error: { ...adminError("not-found", 404), errcode: "M_UNRECOGNIZED" } });
    moderator.fakes.admin.addAccount("@spam3:example.org");

    const reply = await moderator.reply("!shadow-ban @spam1:example.org @spam2:example.org @spam3:example.org");

    expect(reply).toBe(
      [
        "Shadow-ban 3 users: 1 done, 1 failed, 1 not tried.",
        "- @spam1:example.org: shadow-banned",
        "- @spam2:example.org: failed, not changed: this homeserver does not serve Synapse's shadow-ban admin endpoint",
        "Not tried, not changed (1): @spam3:example.org: this homeserver does not serve Synapse's shadow-ban admin endpoint.",
        "Undo with !unshadow-ban @spam1:example.org",
      ].join("\n"),
    );
  });
});

describe("the preview, when confirmBefore lists restrict", () => {
  it("runs at once under the default confirmBefore", async () => {
    const moderator = new Moderator(["shutdown", "purge-local", "redact", "extremities", "quarantine", "takedown"]);
    expect(await moderator.send("!lock @spam1:example.org")).toMatchObject({ kind: "account-action" });
  });

  it("shows per user what will happen with their flags now, and who is left out and why, then runs on confirmation", async () => {
    const moderator = new Moderator(["restrict"]);
    moderator.fakes.admin.addAccount("@spam2:example.org", { locked: true, shadow_banned: true });
    moderator.fakes.admin.addAccount("@spam3:example.org", { suspended: true });

    expect(await moderator.send("!suspend @spam1:example.org @spam2:example.org @spam3:example.org @mod:example.org @boss:example.org @x:remote.example")).toBe("shown");

    const lines = moderator.lastPreview().split("\n");
    expect(lines.slice(0, -1)).toEqual([
      "Preview: suspend 2 users",
      "What it does: A suspended account stays logged in and can read, leave rooms and redact its own messages, but cannot send messages, join, invite or change its profile (Synapse answers M_USER_SUSPENDED).",
      "Undo: !unsuspend <user>...",
      "@spam1:example.org: will be suspended (now: not restricted)",
      "@spam2:example.org: will be suspended (now: locked, shadow-banned)",
      "Not changed: @spam3:example.org: already suspended; nothing sent",
      "Not changed: @mod:example.org: left out: a moderator on Warden's allowlist",
      "Not changed: @boss:example.org: left out: a server admin",
      "Not changed: @x:remote.example: left out: not possible for a remote account (Synapse changes only its own accounts)",
    ]);
    expect(moderator.lastPreview()).toContain("Nothing is done yet.");
    expect(moderator.fakes.admin.changesSent()).toEqual([]);

    const done = accountAction(await moderator.confirm());

    expect(done.entries.filter((entry) => entry.result.status === "done").map((entry) => entry.userId)).toEqual(["@spam1:example.org", "@spam2:example.org"]);
  });

  it("names a flag the homeserver does not report", async () => {
    const moderator = new Moderator(["restrict"]);
    moderator.fakes.admin.accounts.set("@spam1:example.org", { name: "@spam1:example.org", locked: true });

    await moderator.send("!suspend @spam1:example.org");

    expect(moderator.lastPreview()).toContain("@spam1:example.org: will be suspended (now: locked; whether suspended is not reported by this homeserver)");
  });

  it("groups users left out for the same reason on one line", async () => {
    const moderator = new Moderator(["restrict"]);

    await moderator.send("!lock @spam1:example.org @a:remote.example @b:remote.example");

    expect(moderator.lastPreview()).toContain("Not changed: @a:remote.example, @b:remote.example: left out: not possible for a remote account");
  });

  it("has nothing to confirm when nobody would change, and says why for each", async () => {
    const moderator = new Moderator(["restrict"]);
    moderator.fakes.admin.addAccount("@spam1:example.org", { locked: true });

    expect(await moderator.send("!lock @spam1:example.org @mod:example.org")).toEqual({
      kind: "refused",
      reason: "nothing to change: @spam1:example.org: already locked; nothing sent; @mod:example.org: left out: a moderator on Warden's allowlist.",
    });
    expect(moderator.chat.sent).toEqual([]);
  });

  it("looks the users up again on confirmation: one made a server admin since is left out", async () => {
    const moderator = new Moderator(["restrict"]);
    await moderator.send("!lock @spam1:example.org @spam2:example.org");
    moderator.fakes.admin.addAccount("@spam2:example.org", { admin: true });

    const done = accountAction(await moderator.confirm());

    expect(done.entries).toEqual([
      { userId: "@spam1:example.org", result: { status: "done" } },
      { userId: "@spam2:example.org", result: { status: "unchanged", unchanged: { why: "left-out", reason: "a server admin" } } },
    ]);
  });

  it("--dry-run shows the preview whatever confirmBefore says, and changes nothing", async () => {
    const moderator = new Moderator();

    expect(await moderator.send("!shadow-ban @spam1:example.org --dry-run")).toBe("shown");

    expect(moderator.lastPreview()).toContain("Preview: shadow-ban @spam1:example.org");
    expect(moderator.lastPreview()).toContain("Dry run: nothing was done.");
    expect(moderator.fakes.admin.changesSent()).toEqual([]);
  });
});

describe("bad input", () => {
  it("names the bad word and the form a user takes", () => {
    const moderator = new Moderator();
    const suspend = moderator.command("suspend");
    expect(parseProblem(suspend, "")).toEqual({ argument: "<user>", expected: "at least one full user ID such as @abuse:example.org" });
    expect(parseProblem(suspend, "@spam1:example.org spammer")).toEqual({ argument: "<user>", given: "spammer", expected: "a full user ID such as @abuse:example.org" });
    expect(parseProblem(suspend, "#room:example.org")).toMatchObject({ argument: "<user>", given: "#room:example.org" });
    const many = Array.from({ length: 51 }, (_, index) => `@u${index}:example.org`).join(" ");
    expect(parseProblem(suspend, many)).toEqual({ argument: "<user>", given: "51 users", expected: "at most 50 users in one command" });
    expect(parseProblem(suspend, "@spam1:example.org --erase")).toMatchObject({ argument: "--erase" });
  });
});
