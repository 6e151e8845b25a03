import { describe, expect, it } from "vitest";
import { protectedUserReason, type UserSafetyRules } from "../../../src/access/userSafety.js";
import type { UserId } from "../../../src/matrix/ids.js";

const RULES: UserSafetyRules = {
  selfUserId: "@warden:example.org" as UserId,
  allowlist: [{ kind: "user", userId: "@mod:example.org" as UserId }],
  protectedUsers: [
    { kind: "user", userId: "@ceo:example.org" as UserId },
    { kind: "server", serverName: "staff.example.org" },
  ],
};

describe("users Warden never acts on", () => {
  it("names why each kind of protected user is left out", () => {
    expect(protectedUserReason("@warden:example.org" as UserId, RULES, true)).toBe("Warden's own account");
    expect(protectedUserReason("@mod:example.org" as UserId, RULES, false)).toBe("a moderator on Warden's allowlist");
    expect(protectedUserReason("@ceo:example.org" as UserId, RULES, false)).toBe("listed in protectedUsers");
    expect(protectedUserReason("@anyone:staff.example.org" as UserId, RULES, false)).toBe("listed in protectedUsers");
    expect(protectedUserReason("@admin:example.org" as UserId, RULES, true)).toBe("a server admin");
  });

  it("lets anyone else be acted on, matching IDs exactly", () => {
    expect(protectedUserReason("@spammer:example.org" as UserId, RULES, false)).toBeUndefined();
    expect(protectedUserReason("@Mod:example.org" as UserId, RULES, false)).toBeUndefined();
    expect(protectedUserReason("@x:evil.staff.example.org" as UserId, RULES, false)).toBeUndefined();
  });
});
