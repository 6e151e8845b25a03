import { describe, expect, it } from "vitest";
import { latencySummary, percentile } from "../../../bench/measure.js";

describe("the benchmarks' percentiles", () => {
  it("take the nearest rank, whatever order the values came in", () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 0.5)).toBe(5);
    expect(percentile(values, 0.95)).toBe(10);
    expect(percentile(values, 0)).toBe(1);
    expect(percentile([], 0.5)).toBeNaN();
  });
});

describe("a latency summary", () => {
  it("gives the count, p50, p95 and the slowest", () => {
    const values = Array.from({ length: 100 }, (_, index) => index + 1);
    expect(latencySummary(values)).toEqual({ count: 100, p50: 50, p95: 95, max: 100 });
  });

  it("is NaN throughout for no values rather than a made-up zero", () => {
    const empty = latencySummary([]);
    expect(empty.count).toBe(0);
    expect([empty.p50, empty.p95, empty.max].every(Number.isNaN)).toBe(true);
  });
});
