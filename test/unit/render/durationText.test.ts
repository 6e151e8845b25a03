import { describe, expect, it } from "vitest";
import { formatDuration, formatUtc } from "../../../src/util/duration.js";

describe("formatDuration", () => {
  it.each([
    [0, "0 s"],
    [-5_000, "0 s"],
    [42_000, "42 s"],
    [59_499, "59 s"],
    [59_500, "1 min"],
    [185_000, "3 min 5 s"],
    [3_600_000, "1 h"],
    [7_800_000, "2 h 10 min"],
    [7_805_000, "2 h 10 min"],
    [86_400_000, "1 d"],
    [3 * 86_400_000 + 4 * 3_600_000 + 59_000, "3 d 4 h"],
  ])("formats %d ms as %s", (milliseconds, text) => {
    expect(formatDuration(milliseconds)).toBe(text);
  });
});

describe("formatUtc", () => {
  it("writes the instant in UTC without milliseconds", () => {
    expect(formatUtc(Date.UTC(2024, 4, 1, 12, 0, 30, 999))).toBe("2024-05-01 12:00:30 UTC");
  });
});
