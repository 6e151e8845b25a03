import { describe, expect, it } from "vitest";
import { parseMediaTarget, parseMxcArgument } from "../../../../src/commands/parsing/mediaTargets.js";

describe("media targets", () => {
  it("tells a room, an alias, a user and a file apart", () => {
    expect(parseMediaTarget("<target>", "!abc:example.org")).toEqual({ ok: true, value: { kind: "room", room: { kind: "id", roomId: "!abc:example.org" } } });
    expect(parseMediaTarget("<target>", "#spam:example.org")).toEqual({ ok: true, value: { kind: "room", room: { kind: "alias", alias: "#spam:example.org" } } });
    expect(parseMediaTarget("<target>", "@abuse:example.org")).toEqual({ ok: true, value: { kind: "user", userId: "@abuse:example.org" } });
    expect(parseMediaTarget("<target>", "mxc://example.org/abc")).toEqual({ ok: true, value: { kind: "mxc", mxc: { origin: "example.org", mediaId: "abc" }, text: "mxc://example.org/abc" } });
  });

  it("names the bad word and the forms it takes: a broken mxc URI is answered as an mxc URI, a bare word with every form", () => {
    const badMxc = parseMediaTarget("<target>", "mxc://example.org/a.png");
    expect(badMxc).toEqual({ ok: false, error: { argument: "<target>", given: "mxc://example.org/a.png", expected: "a content URI mxc://<server>/<media id> (letters, digits, - and _ only)" } });
    const badUser = parseMediaTarget("<target>", "@abuse");
    expect(badUser.ok ? undefined : badUser.error.expected).toBe("a full user ID such as @abuse:example.org");
    const word = parseMediaTarget("<target>", "spam");
    expect(word.ok ? undefined : word.error.expected).toMatch(/^a room ID .*, or a user ID \(@abuse:example.org\), or a content URI mxc:/);
  });

  it("takes only the kinds a command accepts, and says which those are", () => {
    const room = parseMediaTarget("<user|mxc>", "!abc:example.org", ["user", "mxc"]);
    expect(room).toEqual({ ok: false, error: { argument: "<user|mxc>", given: "!abc:example.org", expected: "a user ID (@abuse:example.org), or a content URI mxc://<server>/<media id> (letters, digits, - and _ only)" } });
    const user = parseMediaTarget("<room|mxc>", "@abuse:example.org", ["room", "mxc"]);
    expect(user.ok).toBe(false);
    const file = parseMediaTarget("<room|user>", "mxc://example.org/abc", ["room", "user"]);
    expect(file.ok).toBe(false);
    expect(parseMxcArgument("<mxc>", "!abc:example.org").ok).toBe(false);
  });
});
