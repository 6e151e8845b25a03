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

describe("!deactivate: always previewed", () => {
  it("shows what cannot be undone and each account's flags even when confirmBefore names nothing, and deactivates only on confirmation", async () => {
    const moderator = new Moderator([]);
    moderator.fakes.admin.addAccount("@spam2:example.org", { suspended: true, locked: true });

    expect(await moderator.send("!deactivate @spam1:example.org @spam2:example.org @mod:example.org")).toBe("shown");

    const lines = moderator.lastPreview().split("\n");
    expect(lines.slice(0, -1)).toEqual([
      "Preview: deactivate 2 users, for good",
      "What it does: A deactivated account is logged out everywhere (its devices, access tokens, password, pushers, email addresses and phone numbers are removed), leaves every room (Synapse parts it in the background) and can never log in again.",
      "Cannot be undone: Synapse can re-enable a deactivated account, but not give back what deactivation removed: its rooms, sessions, devices, email addresses and phone numbers, and with --erase its profile.",
      "@spam1:example.org: will be deactivated (now: not restricted)",
      "@spam2:example.org: will be deactivated (now: suspended, locked)",
      "Not changed: @mod:example.org: left out: a moderator on Warden's allowlist",
    ]);
    expect(lines.at(-1)).toContain("Nothing is done yet.");
    expect(moderator.fakes.admin.changesSent()).toEqual([]);

    const done = accountAction(await moderator.confirm());

    expect(moderator.fakes.admin.changesSent()).toEqual([
      { method: "deactivateUser", userId: "@spam1:example.org", erase: false },
      { method: "deactivateUser", userId: "@spam2:example.org", erase: false },
    ]);
    expect(replyText(done)).toBe(
      [
        "Deactivate 3 users: 2 done, 1 left as it was.",
        "- @spam1:example.org: deactivated",
        "- @spam2:example.org: deactivated",
        "- @mod:example.org: left out: a moderator on Warden's allowlist",
      ].join("\n"),
    );
    expect(accountActionAudit(done).detail).toBe("deactivate: 2 done, 1 unchanged (done: @spam1:example.org, @spam2:example.org)");
  });

  it("offers no --yes (refused as an option), and previews even if --yes reached the gate", async () => {
    const moderator = new Moderator();
    const deactivate = moderator.command("deactivate");
    expect(usageLine(deactivate, "!")).toBe("!deactivate <user>... [--erase] [--dry-run]");
    expect(parseProblem(deactivate, "@spam1:example.org --yes")).toEqual({ argument: "--yes", expected: "one of the options --erase, --dry-run" });
    const args = deactivate.parse({ positionals: ["@spam1:example.org"], flags: new Map() });
    if (!args.ok) throw new Error("parse");
    const gated = await moderator.flow.gate(deactivate, args.value, { positionals: ["@spam1:example.org"], flags: new Map([["yes", true]]) }, { requester: "@mod:example.org" as never, commandEventId: "$x", managementRoomId: "!mgmt:example.org" as never, prefix: "!" });
    expect(gated).toBe("shown");
    expect(moderator.fakes.admin.changesSent()).toEqual([]);
  });

  it("--erase says what erasure adds, and erases", async () => {
    const moderator = new Moderator();

    await moderator.send("!deactivate @spam1:example.org --erase");

    expect(moderator.lastPreview()).toContain("Preview: deactivate and erase @spam1:example.org, for good");
    expect(moderator.lastPreview()).toContain("--erase also removes its display name and avatar and marks it erased: its messages stay visible to whoever was in a room when they were sent, and are hidden from users who join later.");
    expect(moderator.lastPreview()).toContain("@spam1:example.org: will be deactivated and erased (now: not restricted)");

    const done = accountAction(await moderator.confirm());

    expect(moderator.fakes.admin.accounts.get("@spam1:example.org")).toMatchObject({ deactivated: true, erased: true });
    expect(replyText(done)).toBe("Deactivate and erase 1 user: 1 done.\n- @spam1:example.org: deactivated and erased");
    expect(accountActionAudit(done).detail).toBe("deactivate --erase: 1 done (done: @spam1:example.org)");
  });
});

describe("!deactivate of accounts already deactivated", () => {
  it("has nothing to confirm for an account already deactivated, or already erased with --erase", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.addAccount("@spam1:example.org", { deactivated: true });
    moderator.fakes.admin.addAccount("@spam2:example.org", { deactivated: true, erased: true });

    expect(await moderator.send("!deactivate @spam1:example.org")).toEqual({ kind: "refused", reason: "nothing to change: @spam1:example.org: already deactivated; nothing sent." });
    expect(await moderator.send("!deactivate @spam2:example.org --erase")).toEqual({
      kind: "refused",
      reason: "nothing to change: @spam2:example.org: already deactivated and erased; nothing sent.",
    });
    expect(moderator.fakes.admin.changesSent()).toEqual([]);
  });

  it("sends --erase for an account deactivated without it: Synapse's deactivation runs again and erases it", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.addAccount("@spam1:example.org", { deactivated: true });

    await moderator.send("!deactivate @spam1:example.org --erase");
    expect(moderator.lastPreview()).toContain("@spam1:example.org: will be erased (it is already deactivated) (now: deactivated)");
    const done = accountAction(await moderator.confirm());

    expect(moderator.fakes.admin.changesSent()).toEqual([{ method: "deactivateUser", userId: "@spam1:example.org", erase: true }]);
    expect(replyText(done)).toContain("- @spam1:example.org: erased (it was already deactivated)");
  });
});

describe("!deactivate: refusals and failures", () => {
  it("never deactivates Warden, a moderator, a server admin or protectedUsers, and nothing for a remote user", async () => {
    const moderator = new Moderator();

    expect(await moderator.send("!deactivate @warden:example.org @mod:example.org @boss:example.org @vip:example.org @x:remote.example")).toEqual({
      kind: "refused",
      reason:
        "nothing to change: @warden:example.org: left out: Warden's own account; @mod:example.org: left out: a moderator on Warden's allowlist; @boss:example.org: left out: a server admin; @vip:example.org: left out: listed in protectedUsers; @x:remote.example: left out: not possible for a remote account (Synapse changes only its own accounts).",
    });
    expect(moderator.fakes.admin.changesSent()).toEqual([]);
  });

  it("a worker that does not serve the endpoint is answered with where it is served", async () => {
    const moderator = new Moderator();
    moderator.fakes.admin.accountFailures.push({ method: "deactivateUser", error: { ...adminError("not-found", 404, "Unrecognized request"), errcode: "M_UNRECOGNIZED" } });

    await moderator.send("!deactivate @spam1:example.org");
    const outcome = await moderator.confirm();

    expect(outcome).toEqual({
      kind: "refused",
      reason:
        "this homeserver process does not serve Synapse's deactivate admin endpoint (Synapse serves it on the main process only: route it there, not to a worker); nothing was changed.",
    });
  });
});
