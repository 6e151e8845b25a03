import { describe, expect, it } from "vitest";
import { checkUsers, MAX_USERS, parseUsers } from "../../../../src/commands/users/targets.js";
import type { UserId } from "../../../../src/matrix/ids.js";
import type { AdminError, UserAccountBody } from "../../../../src/synapse/adminClient.js";
import { err, ok, type Result } from "../../../../src/util/result.js";

function accounts(known: Record<string, Partial<UserAccountBody>>, failing: readonly string[] = []) {
  const asked: string[] = [];
  return {
    asked,
    userAccount(userId: UserId): Promise<Result<UserAccountBody, AdminError>> {
      asked.push(userId);
      if (failing.includes(userId)) return Promise.resolve(err({ kind: "server-error", status: 500, userMessage: "the homeserver failed with HTTP 500" }));
      const account = known[userId];
      return Promise.resolve(account === undefined ? err({ kind: "not-found", status: 404, userMessage: "the homeserver does not know it" }) : ok({ name: userId, ...account }));
    },
  };
}

const SAFETY = {
  selfUserId: "@warden:example.org" as UserId,
  allowlist: [{ kind: "user" as const, userId: "@mod:example.org" as UserId }],
  protectedUsers: [{ kind: "server" as const, serverName: "partner.org" }],
};

describe("parseUsers", () => {
  it("reads several user IDs, once each, in order", () => {
    expect(parseUsers(["@a:example.org", "@b:example.org", "@a:example.org"])).toEqual(ok(["@a:example.org", "@b:example.org"]));
  });

  it("names the bad word and the form", () => {
    expect(parseUsers(["@a:example.org", "bob"])).toEqual(err({ argument: "<user>", given: "bob", expected: "a full user ID such as @abuse:example.org" }));
    expect(parseUsers([])).toEqual(err({ argument: "<user>", expected: "at least one full user ID such as @abuse:example.org" }));
    const many = Array.from({ length: MAX_USERS + 1 }, (_, index) => `@u${index}:example.org`);
    expect(parseUsers(many)).toEqual(err({ argument: "<user>", given: `${MAX_USERS + 1} users`, expected: `at most ${MAX_USERS} users in one command` }));
  });
});

describe("checkUsers", () => {
  it("acts on local accounts and remote users, leaving out the protected and the unknown with why", async () => {
    const admin = accounts({ "@spam:example.org": { admin: false }, "@boss:example.org": { admin: true } });
    const checked = await checkUsers(
      ["@spam:example.org", "@boss:example.org", "@ghost:example.org", "@x:remote.org", "@mod:example.org", "@warden:example.org", "@p:partner.org"] as UserId[],
      { admin, serverName: "example.org", userSafety: SAFETY },
    );
    expect(checked).toEqual(
      ok({
        users: [
          { kind: "local", userId: "@spam:example.org", account: { name: "@spam:example.org", admin: false } },
          { kind: "remote", userId: "@x:remote.org" },
        ],
        leftOut: [
          { userId: "@boss:example.org", why: "a server admin" },
          { userId: "@ghost:example.org", why: "no such account on this homeserver" },
          { userId: "@mod:example.org", why: "a moderator on Warden's allowlist" },
          { userId: "@warden:example.org", why: "Warden's own account" },
          { userId: "@p:partner.org", why: "listed in protectedUsers" },
        ],
      }),
    );
    // Remote and ruled-out users cost no lookup.
    expect(admin.asked).toEqual(["@spam:example.org", "@boss:example.org", "@ghost:example.org"]);
  });

  it("refuses the whole command when a lookup fails for another reason", async () => {
    const admin = accounts({ "@a:example.org": {} }, ["@b:example.org"]);
    const checked = await checkUsers(["@a:example.org", "@b:example.org"] as UserId[], { admin, serverName: "example.org", userSafety: SAFETY });
    expect(checked).toEqual(err({ kind: "refused", reason: "could not look up @b:example.org: the homeserver failed with HTTP 500" }));
  });
});
