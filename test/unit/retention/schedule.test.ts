import { describe, expect, it } from "vitest";
import { alignUp, firstRun, nextAfter, reconcile } from "../../../src/retention/schedule.js";

const H = 3_600_000;
const D = 24 * H;
/** 2025-01-15 00:00 UTC */
const DAY = Date.UTC(2025, 0, 15);

describe("alignUp", () => {
  it("finds the next time of day, the same instant included", () => {
    expect(alignUp(DAY + 12 * H, "03:30", D)).toBe(DAY + D + 3.5 * H);
    expect(alignUp(DAY + 3.5 * H, "03:30", D)).toBe(DAY + 3.5 * H);
    expect(alignUp(DAY + 3.5 * H + 1, "03:30", 7 * D)).toBe(DAY + D + 3.5 * H);
  });

  it("steps from the time of day by an interval that divides a day", () => {
    expect(alignUp(DAY + 12 * H, "03:30", 6 * H)).toBe(DAY + 15.5 * H);
    expect(alignUp(DAY + 1 * H, "03:30", 6 * H)).toBe(DAY + 3.5 * H);
    expect(alignUp(DAY + 23 * H, "03:30", 6 * H)).toBe(DAY + D + 3.5 * H);
  });
});

describe("firstRun", () => {
  it("is one interval after now without at, the grid's next slot with it", () => {
    expect(firstRun({ everyMs: D }, DAY + 12 * H)).toBe(DAY + D + 12 * H);
    expect(firstRun({ everyMs: D, at: "13:00" }, DAY + 12 * H)).toBe(DAY + 13 * H);
  });
});

describe("nextAfter", () => {
  it("is one interval after the slot", () => {
    expect(nextAfter({ everyMs: D }, DAY, DAY + 5)).toBe(DAY + D);
    expect(nextAfter({ everyMs: 7 * D, at: "03:30" }, DAY + 3.5 * H, DAY + 3.5 * H)).toBe(DAY + 7 * D + 3.5 * H);
  });

  it("after a long outage: a full interval from now without at; the grid's next slot past now with it", () => {
    expect(nextAfter({ everyMs: D }, DAY, DAY + 3 * D + H)).toBe(DAY + 4 * D + H);
    expect(nextAfter({ everyMs: D, at: "00:00" }, DAY, DAY + 3 * D + H)).toBe(DAY + 4 * D);
    expect(nextAfter({ everyMs: 7 * D, at: "00:00" }, DAY, DAY + 10 * D)).toBe(DAY + 14 * D);
  });

  it("is later than now when the next slot falls exactly on now", () => {
    expect(nextAfter({ everyMs: D }, DAY, DAY + D)).toBe(DAY + 2 * D);
    expect(nextAfter({ everyMs: D, at: "00:00" }, DAY, DAY + D)).toBe(DAY + 2 * D);
  });

  it("moves onto a changed time of day", () => {
    expect(nextAfter({ everyMs: D, at: "04:00" }, DAY + 3.5 * H, DAY + 3.5 * H)).toBe(DAY + D + 4 * H);
  });
});

describe("reconcile", () => {
  it("keeps a stored run ahead, and one in the past (due at once)", () => {
    expect(reconcile({ everyMs: D }, DAY + 5 * H, DAY)).toBe(DAY + 5 * H);
    expect(reconcile({ everyMs: D }, DAY - 5 * D, DAY)).toBe(DAY - 5 * D);
  });

  it("starts afresh when the stored run is more than one interval away (every was shortened)", () => {
    expect(reconcile({ everyMs: H }, DAY + 20 * H, DAY)).toBe(DAY + H);
    expect(reconcile({ everyMs: 6 * H, at: "03:30" }, DAY + D + 3.5 * H, DAY + 4 * H)).toBe(DAY + 9.5 * H);
  });

  it("keeps a run stored exactly one interval ahead, as a run just taken leaves it", () => {
    expect(reconcile({ everyMs: D, at: "00:00" }, DAY + D, DAY)).toBe(DAY + D);
  });

  it("moves a stored run onto the grid when at changed", () => {
    expect(reconcile({ everyMs: D, at: "04:00" }, DAY + D + 3.5 * H, DAY + 12 * H)).toBe(DAY + D + 4 * H);
  });

  it("schedules a policy seen for the first time", () => {
    expect(reconcile({ everyMs: D }, undefined, DAY)).toBe(DAY + D);
  });
});
