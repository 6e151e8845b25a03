import { describe, expect, it } from "vitest";
import { isAllowed, parseAllowlistEntry, type AllowlistEntry } from "../../../src/access/allowlist.js";

function entries(...texts: string[]): AllowlistEntry[] {
  return texts.map((text) => {
    const entry = parseAllowlistEntry(text);
    if (entry === undefined) throw new Error(`not an allowlist entry: ${text}`);
    return entry;
  });
}

describe("parseAllowlistEntry", () => {
  it("reads an exact user and a whole server", () => {
    expect(parseAllowlistEntry("@mod:example.org")).toEqual({ kind: "user", userId: "@mod:example.org" });
    expect(parseAllowlistEntry("@*:example.org")).toEqual({ kind: "server", serverName: "example.org" });
    expect(parseAllowlistEntry("@*:example.org:8448")).toEqual({ kind: "server", serverName: "example.org:8448" });
  });

  it.each(["mod", "@mod", "mod:example.org", "@*:", "@*", "*:example.org", " @mod:example.org", "@mod:example.org ", "@*:exa mple.org", ""])(
    "refuses %j",
    (text) => {
      expect(parseAllowlistEntry(text)).toBeUndefined();
    },
  );
});

describe("isAllowed", () => {
  const allowlist = entries("@mod:example.org", "@*:staff.example.org");

  it("allows the exact user ID", () => {
    expect(isAllowed("@mod:example.org", allowlist)).toBe(true);
  });

  it("allows every user of a server listed as @*:server", () => {
    expect(isAllowed("@anyone:staff.example.org", allowlist)).toBe(true);
    expect(isAllowed("@other:staff.example.org", allowlist)).toBe(true);
  });

  it("does not allow subdomains, parents or ports of a listed server", () => {
    expect(isAllowed("@anyone:sub.staff.example.org", allowlist)).toBe(false);
    expect(isAllowed("@anyone:example.org", allowlist)).toBe(false);
    expect(isAllowed("@anyone:staff.example.org:8448", allowlist)).toBe(false);
    expect(isAllowed("@anyone:evilstaff.example.org", allowlist)).toBe(false);
  });

  it("does not allow the same localpart on another server", () => {
    expect(isAllowed("@mod:evil.example", allowlist)).toBe(false);
    expect(isAllowed("@mod:example.org.evil.example", allowlist)).toBe(false);
    expect(isAllowed("@mod:example.org:8448", allowlist)).toBe(false);
  });

  it("compares case-sensitively", () => {
    expect(isAllowed("@Mod:example.org", allowlist)).toBe(false);
    expect(isAllowed("@MOD:example.org", allowlist)).toBe(false);
    expect(isAllowed("@mod:Example.org", allowlist)).toBe(false);
    expect(isAllowed("@anyone:STAFF.example.org", allowlist)).toBe(false);
  });

  it("refuses a sender with leading or trailing whitespace", () => {
    for (const sender of [" @mod:example.org", "@mod:example.org ", "@mod:example.org\n", "\t@mod:example.org", "@mod:example.org\u00a0"]) {
      expect(isAllowed(sender, allowlist)).toBe(false);
    }
  });

  it("refuses a display name that equals a moderator's ID (only the sender ID counts)", () => {
    // A display name can be anything, "@mod:example.org" included; it is never passed as a sender.
    expect(isAllowed("@mallory:evil.example", allowlist)).toBe(false);
    expect(isAllowed("Mod (@mod:example.org)", allowlist)).toBe(false);
    expect(isAllowed("@mod:example.org (Mod)", allowlist)).toBe(false);
  });

  it.each(["", "mod", "@mod", "mod:example.org", "@:example.org", "@mod:", "@*:staff.example.org:", "#mod:example.org", "!mod:example.org", "@m od:example.org"])(
    "refuses the malformed sender %j",
    (sender) => {
      expect(isAllowed(sender, allowlist)).toBe(false);
    },
  );

  it("allows nobody with an empty allowlist", () => {
    expect(isAllowed("@mod:example.org", [])).toBe(false);
  });
});
