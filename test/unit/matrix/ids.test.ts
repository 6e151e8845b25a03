import { describe, expect, it } from "vitest";
import { asEventId, asRoomAlias, asRoomId, asUserId, serverNameOf, type UserId } from "../../../src/matrix/ids.js";

describe("asRoomId", () => {
  it.each(["!abc:example.org", "!abc:example.org:8448", "!abc:[2001:db8::1]:8448", "!abc:1.2.3.4", "!opaque_v12_id"])("accepts %s", (text) => {
    expect(asRoomId(text)).toBe(text);
  });
  it.each(["abc:example.org", "#abc:example.org", "!:example.org", "!a b:example.org", " !abc:example.org", "!abc:example.org ", "!abc:exa_mple.org", "!abc:"])(
    "refuses %j",
    (text) => {
      expect(asRoomId(text)).toBeUndefined();
    },
  );
});

describe("asRoomAlias", () => {
  it.each(["#spam:example.org", "#spam:example.org:8448", "#a.b-c_d=e:example.org"])("accepts %s", (text) => {
    expect(asRoomAlias(text)).toBe(text);
  });
  it.each(["#spam", "#:example.org", "spam:example.org", "!spam:example.org", "#sp am:example.org", "#spam:"])("refuses %j", (text) => {
    expect(asRoomAlias(text)).toBeUndefined();
  });
});

describe("asUserId and serverNameOf", () => {
  it.each([
    ["@alice:example.org", "example.org"],
    ["@alice:example.org:8448", "example.org:8448"],
    ["@alice:[::1]", "[::1]"],
  ])("accepts %s on %s", (text, server) => {
    const userId = asUserId(text);
    expect(userId).toBe(text);
    expect(serverNameOf(text as UserId)).toBe(server);
  });
  it.each(["alice", "@alice", "@:example.org", "@al ice:example.org", "@alice:example.org\n", "@alice:example.org/x"])("refuses %j", (text) => {
    expect(asUserId(text)).toBeUndefined();
  });
});

describe("asEventId", () => {
  it.each(["$abc", "$abc:example.org", "$a+b/c="])("accepts %s", (text) => {
    expect(asEventId(text)).toBe(text);
  });
  it.each(["$", "abc", "$a b", "$abc\n", " $abc"])("refuses %j", (text) => {
    expect(asEventId(text)).toBeUndefined();
  });
});
