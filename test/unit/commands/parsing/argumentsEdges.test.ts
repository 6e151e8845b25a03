import { describe, expect, it } from "vitest";
import { parsePurgePoint, parseRoomOnly, ROOM_EXPECTED } from "../../../../src/commands/parsing/arguments.js";
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
