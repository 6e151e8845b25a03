import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  parsePurgePoint,
  parseRoomArgument,
  parseUserArgument,
  POINT_EXPECTED,
  ROOM_EXPECTED,
  type PurgePoint,
  type RoomArgument,
} from "../../../../src/commands/parsing/arguments.js";
import type { ArgumentProblem } from "../../../../src/model/commandSpec.js";
import type { Result } from "../../../../src/util/result.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";

const NOW = FIXED_NOW; // 2025-01-15T12:00:00Z
const DAY = 86_400_000;

function point(word: string, now = NOW): Result<PurgePoint, ArgumentProblem> {
  return parsePurgePoint("<point>", word, now);
}

function problemOf<T>(result: Result<T, ArgumentProblem>): ArgumentProblem {
  if (result.ok) throw new Error(`expected a problem, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function valueOf<T>(result: Result<T, ArgumentProblem>): T {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.error)}`);
  return result.value;
}

// Date-times without a zone must be read as UTC whatever zone the process runs in, so the
// whole file runs in a zone far from UTC: a parser that reads local time would be 13 h off.
const originalTz = process.env["TZ"];
beforeAll(() => {
  process.env["TZ"] = "Pacific/Auckland";
});
afterAll(() => {
  if (originalTz === undefined) delete process.env["TZ"];
  else process.env["TZ"] = originalTz;
});

describe("parsePurgePoint: accepted forms", () => {
  it("runs in a zone that is not UTC (so the UTC tests below mean something)", () => {
    expect(new Date(2024, 4, 1, 12, 0).getTime()).not.toBe(Date.UTC(2024, 4, 1, 12, 0));
  });

  it.each([
    ["$abcDEF123:example.org", "$abcDEF123:example.org"],
    ["$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg", "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"],
    ["$a+b/c=", "$a+b/c="],
  ])("reads the event ID %s", (word, eventId) => {
    expect(valueOf(point(word))).toEqual({ kind: "event", eventId });
  });

  it.each([
    ["https://matrix.to/#/!room:example.org/$event1", "!room:example.org", "$event1"],
    ["https://matrix.to/#/!room:example.org/$event1?via=example.org&via=other.org", "!room:example.org", "$event1"],
    ["https://matrix.to/#/%21room%3Aexample.org/%24event1%3Aexample.org?via=example.org", "!room:example.org", "$event1:example.org"],
    ["https://matrix.to/#/%23spam%3Aexample.org/%24abc%2Fdef%2Bghi", "#spam:example.org", "$abc/def+ghi"],
    ["https://matrix.to/#/#spam:example.org/$event2", "#spam:example.org", "$event2"],
  ])("reads the event permalink %s", (word, room, eventId) => {
    expect(valueOf(point(word))).toEqual({ kind: "event", eventId });
  });

  it.each([
    ["1700000000000", 1_700_000_000_000],
    ["100000000000", 100_000_000_000],
    [String(NOW), NOW],
    ["01700000000000", 1_700_000_000_000],
  ])("reads the epoch time in milliseconds %s exactly", (word, timestamp) => {
    expect(valueOf(point(word))).toEqual({ kind: "time", timestamp, form: "epoch-ms" });
  });

  it.each([
    ["2024-05-01", Date.UTC(2024, 4, 1)],
    ["2024-02-29", Date.UTC(2024, 1, 29)],
    ["1999-12-31", Date.UTC(1999, 11, 31)],
    ["2024-05-01T12:00Z", Date.UTC(2024, 4, 1, 12, 0)],
    ["2024-05-01T12:00:30Z", Date.UTC(2024, 4, 1, 12, 0, 30)],
    ["2024-05-01T12:00:30.250Z", Date.UTC(2024, 4, 1, 12, 0, 30, 250)],
    ["2024-05-01T12:00+02:00", Date.UTC(2024, 4, 1, 10, 0)],
    ["2024-05-01T12:00-05:30", Date.UTC(2024, 4, 1, 17, 30)],
    ["2024-05-01T12:00:00+0200", Date.UTC(2024, 4, 1, 10, 0)],
    ["2024-05-01t12:00z", Date.UTC(2024, 4, 1, 12, 0)],
  ])("reads the ISO date or date-time %s", (word, timestamp) => {
    expect(valueOf(point(word))).toEqual({ kind: "time", timestamp, form: "iso" });
  });

  it.each([
    ["2024-05-01T12:00", Date.UTC(2024, 4, 1, 12, 0)],
    ["2024-05-01T12:00:30", Date.UTC(2024, 4, 1, 12, 0, 30)],
    ["2024-05-01T23:59:59.999", Date.UTC(2024, 4, 1, 23, 59, 59, 999)],
  ])("reads the date-time %s without a zone as UTC", (word, timestamp) => {
    expect(valueOf(point(word))).toEqual({ kind: "time", timestamp, form: "iso" });
  });

  it.each([
    ["90d", NOW - 90 * DAY],
    ["12h", NOW - 12 * 3_600_000],
    ["2w", NOW - 14 * DAY],
    ["30min", NOW - 30 * 60_000],
    ["45s", NOW - 45_000],
    ["1d", NOW - DAY],
  ])("reads the age %s relative to now", (word, timestamp) => {
    expect(valueOf(point(word))).toEqual({ kind: "time", timestamp, form: "age" });
  });

  it("accepts a time equal to now (not in the future)", () => {
    expect(valueOf(point(String(NOW)))).toEqual({ kind: "time", timestamp: NOW, form: "epoch-ms" });
  });
});

describe("parsePurgePoint: rejections", () => {
  it.each(["1800000000000", "2025-01-16", "2025-01-15T12:00:01Z", "2025-01-15T13:00+00:00", "2025-01-15T12:30"])(
    "refuses the future time %s and says it must be in the past",
    (word) => {
      const problem = problemOf(point(word));
      expect(problem.argument).toBe("<point>");
      expect(problem.given).toBe(word);
      expect(problem.expected).toContain("a time in the past");
      expect(problem.expected).toContain("2025-01-15T12:00:00.000Z");
    },
  );

  it.each([
    ["1700000000", "1700000000000"],
    ["1714521600", "1714521600000"],
    ["99999999999", "99999999999000"],
  ])("refuses %s, which looks like seconds, and suggests the milliseconds form", (word, suggestion) => {
    const problem = problemOf(point(word));
    expect(problem.argument).toBe("<point>");
    expect(problem.given).toBe(word);
    expect(problem.expected).toContain("milliseconds");
    expect(problem.expected).toContain("seconds");
    expect(problem.expected).toContain(suggestion);
  });

  it.each([
    "https://matrix.to/#/!room:example.org",
    "https://matrix.to/#/!room:example.org?via=example.org",
    "https://matrix.to/#/%23spam%3Aexample.org",
  ])("refuses the room-only link %s and says an event link is needed", (word) => {
    const problem = problemOf(point(word));
    expect(problem.argument).toBe("<point>");
    expect(problem.given).toBe(word);
    expect(problem.expected).toContain("a link to an event, not to a room");
    expect(problem.expected).toContain(POINT_EXPECTED);
  });

  it.each([
    "yesterday",
    "",
    "$",
    "$ spaced",
    "-5d",
    "1.5d",
    "d30",
    "1234567d",
    "30 d",
    "12:00",
    "2024/05/01",
    "2024-5-1",
    "99999999999999999999",
    "https://matrix.to/#/@user:example.org",
    "https://matrix.to/#/!room:example.org/not-an-event",
    "https://example.com/#/!room:example.org/$event",
  ])("refuses %j and lists every accepted form", (word) => {
    const problem = problemOf(point(word));
    expect(problem.argument).toBe("<point>");
    expect(problem.given).toBe(word);
    expect(problem.expected).toBe(POINT_EXPECTED);
  });

  // "6m" read as minutes destroys the last six minutes of a room whose moderator meant months.
  it.each([
    ["6m", "6min", "180d"],
    ["1m", "1min", "30d"],
    ["30m", "30min", "900d"],
  ])("refuses the ambiguous unit m in %s and suggests %s or %s", (word, minutes, days) => {
    const problem = problemOf(point(word));
    expect(problem.argument).toBe("<point>");
    expect(problem.given).toBe(word);
    expect(problem.expected).toContain("ambiguous");
    expect(problem.expected).toContain(minutes);
    expect(problem.expected).toContain(days);
  });

  // Text after a valid age is not an age: "6mo" is not six minutes, "30days" not thirty days.
  it.each(["6mo", "30days", "5mins", "2wk", "12hours", "45sec", "30x", "7M"])("refuses %s and lists the units", (word) => {
    const problem = problemOf(point(word));
    expect(problem.argument).toBe("<point>");
    expect(problem.given).toBe(word);
    expect(problem.expected).toContain("s, min, h, d, w");
  });

  it.each(["0d", "0s", "000h", "0w", "0min"])("refuses the zero age %s", (word) => {
    const problem = problemOf(point(word));
    expect(problem.argument).toBe("<point>");
    expect(problem.given).toBe(word);
    expect(problem.expected).toContain("an age greater than zero");
  });

  it.each(["2024-13-01", "2024-00-10", "2024-05-32", "2024-05-01T25:00Z", "2024-05-01T12:60Z", "2024-05-01T12:00:61"])(
    "refuses the impossible date %s",
    (word) => {
      const problem = problemOf(point(word));
      expect(problem.argument).toBe("<point>");
      expect(problem.given).toBe(word);
      expect(problem.expected).toContain("a real calendar date");
    },
  );

  // A day that does not exist in its month must not silently become a day of the next month:
  // "2024-02-30" would purge up to 1 March.
  it.each(["2024-02-30", "2023-02-29", "2024-04-31", "2024-06-31T10:00Z", "2024-11-31T10:00"])(
    "refuses the day that its month does not have: %s",
    (word) => {
      const problem = problemOf(point(word));
      expect(problem.argument).toBe("<point>");
      expect(problem.expected).toContain("a real calendar date");
    },
  );

  it("names whatever argument name the command gives it", () => {
    expect(problemOf(parsePurgePoint("<until>", "garbage", NOW)).argument).toBe("<until>");
  });
});

describe("parseRoomArgument", () => {
  function room(word: string): Result<RoomArgument, ArgumentProblem> {
    return parseRoomArgument("<room>", word);
  }

  it.each([
    ["!abc:example.org", "!abc:example.org"],
    ["!abc:example.org:8448", "!abc:example.org:8448"],
    ["!abc:[::1]:8448", "!abc:[::1]:8448"],
    ["!opaqueRoomIdWithoutServer", "!opaqueRoomIdWithoutServer"],
  ])("reads the room ID %s", (word, roomId) => {
    expect(valueOf(room(word))).toEqual({ kind: "id", roomId });
  });

  it.each([
    ["#spam:example.org", "#spam:example.org"],
    ["#spam-room_2:sub.example.org", "#spam-room_2:sub.example.org"],
  ])("reads the alias %s", (word, alias) => {
    expect(valueOf(room(word))).toEqual({ kind: "alias", alias });
  });

  it.each([
    ["https://matrix.to/#/!abc:example.org", { kind: "id", roomId: "!abc:example.org" }],
    ["https://matrix.to/#/%21abc%3Aexample.org?via=example.org", { kind: "id", roomId: "!abc:example.org" }],
    ["https://matrix.to/#/%23spam%3Aexample.org", { kind: "alias", alias: "#spam:example.org" }],
    ["https://matrix.to/#/#spam:example.org?via=a.org&via=b.org", { kind: "alias", alias: "#spam:example.org" }],
    ["https://matrix.to/#/!abc:example.org/$event?via=example.org", { kind: "id", roomId: "!abc:example.org" }],
  ])("reads the permalink %s", (word, expected) => {
    expect(valueOf(room(word))).toEqual(expected);
  });

  it.each([
    "spam",
    "",
    "#spam",
    "#spam:",
    "!abc:exa mple.org",
    "@alice:example.org",
    "$event:example.org",
    "https://matrix.to/#/@alice:example.org",
    "https://matrix.to/#/%ZZbad",
    "https://example.com/#/!abc:example.org",
    "matrix.to/#/!abc:example.org",
  ])("refuses %j, naming <room> and what it expected", (word) => {
    const problem = problemOf(room(word));
    expect(problem).toEqual({ argument: "<room>", given: word, expected: ROOM_EXPECTED });
  });
});

describe("parseUserArgument", () => {
  it("reads a user ID, ignoring surrounding spaces", () => {
    expect(valueOf(parseUserArgument("--notify-as", " @abuse:example.org "))).toBe("@abuse:example.org");
  });

  it.each(["abuse", "@abuse", "#abuse:example.org", "@ab use:example.org", ""])("refuses %j and names the argument", (word) => {
    const problem = problemOf(parseUserArgument("--notify-as", word));
    expect(problem.argument).toBe("--notify-as");
    expect(problem.given).toBe(word);
    expect(problem.expected).toContain("a full user ID");
  });
});
