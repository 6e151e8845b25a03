import { describe, expect, it } from "vitest";
import { parsePurgePoint, parseRoomOnly, POINT_EXPECTED, ROOM_EXPECTED } from "../../../../src/commands/parsing/arguments.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";

describe("parseRoomOnly", () => {
  it("names <room> and shows an empty word when no room was given", () => {
    const result = parseRoomOnly({ positionals: [], flags: new Map() });
    expect(result).toEqual({ ok: false, error: { argument: "<room>", given: "", expected: ROOM_EXPECTED } });
  });

  it("reads the first positional as the room", () => {
    const result = parseRoomOnly({ positionals: ["!abc:example.org"], flags: new Map() });
    expect(result).toEqual({ ok: true, value: { room: { kind: "id", roomId: "!abc:example.org" } } });
  });
});

describe("parsePurgePoint: the ambiguous unit m", () => {
  function expectedFor(word: string): string {
    const result = parsePurgePoint("<point>", word, FIXED_NOW);
    if (result.ok) throw new Error(`expected a problem for ${word}`);
    return result.error.expected;
  }

  it("speaks of one month, in the singular, for 1m", () => {
    expect(expectedFor("1m")).toMatch(/for about 1 month$/);
  });

  it("speaks of months, in the plural, for more than one", () => {
    expect(expectedFor("6m")).toMatch(/for about 6 months$/);
  });
});

describe("parsePurgePoint: which refusal a near miss gets", () => {
  function expectedFor(word: string): string {
    const result = parsePurgePoint("<point>", word, FIXED_NOW);
    if (result.ok) throw new Error(`expected a problem for ${word}`);
    return result.error.expected;
  }

  // The answer quotes the letters it did not know, the whole of them.
  it.each([
    ["6mo", "mo"],
    ["30days", "days"],
    ["2wk", "wk"],
  ])("names the unknown unit of %s as %s", (word, unit) => {
    expect(expectedFor(word)).toContain(`("${unit}" is not one)`);
  });

  // "30d5" is no age with an unknown unit: telling the moderator "d" is unknown would be false.
  it.each(["30d5", "6mo1", "12h30min"])("answers %s with the forms a point takes, not with an unknown unit", (word) => {
    expect(expectedFor(word)).toBe(POINT_EXPECTED);
  });

  // Text around a date makes it no date at all; "a real calendar date" would send the moderator
  // looking for a wrong day or month.
  it.each(["x2024-01-01", "on2024-01-01T10:00", "2024-01-01T10:00junk", "2024-01-01T10:00Z.", "12024-01-01"])(
    "answers %s with the forms a point takes, not as a wrong calendar date",
    (word) => {
      expect(expectedFor(word)).toBe(POINT_EXPECTED);
    },
  );
});
