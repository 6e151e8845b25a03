import { describe, expect, it } from "vitest";
import { failureNotes, methodTable, ratio, selectedDatabases, selectedMethods, targetLines, type Method, type MethodOutcome } from "../../../bench/waveReport.js";
import type { EndpointLatency, UserLatency } from "../../../bench/userLatency.js";

const endpoint = (p50: number, p95: number, max: number, failed = 0): EndpointLatency => ({ count: 60, p50, p95, max, failed });
const user = (messagesP95: number, syncP95: number): UserLatency => ({ messages: endpoint(10, messagesP95, messagesP95 + 5), sync: endpoint(5, syncP95, syncP95 + 5) });
const idle = user(20, 10);

describe("which methods and databases a run covers", () => {
  it("is everything by default, in the canonical order whatever order was asked", () => {
    expect(selectedMethods({})).toEqual(["a", "b", "c", "d"]);
    expect(selectedMethods({ BENCH_WAVE_ONLY: " D, a " })).toEqual(["a", "d"]);
    expect(selectedDatabases({})).toEqual(["sqlite", "postgres"]);
    expect(selectedDatabases({ BENCH_WAVE_DATABASES: "PostgreSQL,sqlite" })).toEqual(["sqlite", "postgres"]);
    expect(selectedDatabases({ BENCH_WAVE_DATABASES: "postgres" })).toEqual(["postgres"]);
  });

  it("stops at a word it does not know, naming it, instead of quietly measuring less", () => {
    expect(() => selectedDatabases({ BENCH_WAVE_DATABASES: "sqlite,mysql" })).toThrow("BENCH_WAVE_DATABASES takes a comma-separated subset of sqlite,postgres, not mysql");
    expect(() => selectedMethods({ BENCH_WAVE_ONLY: "e" })).toThrow("BENCH_WAVE_ONLY takes a comma-separated subset of a,b,c,d, not e");
  });
});

describe("a ratio", () => {
  it("has two decimals, and is a dash when either side is missing or empty", () => {
    expect(ratio(29.8, 25.6)).toBe("1.16 ×");
    expect(ratio(1, undefined)).toBe("–");
    expect(ratio(Number.NaN, 2)).toBe("–");
    expect(ratio(1, 0)).toBe("–");
  });
});

describe("a database's table", () => {
  const outcomes = new Map<Method, MethodOutcome>([
    ["a", { wallMs: 20_000, user: user(200, 40) }],
    ["b", { wallMs: 80_000, user: user(30, 12) }],
    ["d", { wallMs: 24_000, user: user(36, 25) }],
  ]);

  it("starts with the idle baseline, then each method with its wall time, ratios and the user's latency against idle", () => {
    expect(methodTable(["a", "b", "c", "d"], outcomes, idle, 15_000)).toEqual([
      "| method | wall time (s) | ratio to (a) | ratio to (b) | user /messages p50 / p95 / max (ms) | /messages p95 ÷ idle | user /sync p50 / p95 / max (ms) | /sync p95 ÷ idle |",
      "|---|---:|---:|---:|---:|---:|---:|---:|",
      "| idle, nothing running (15.0 s) | – | – | – | 10 / 20 / 25 | 1.00 × | 5 / 10 / 15 | 1.00 × |",
      "| (a) fire-all, then poll all | 20.0 | 1.00 × | 0.25 × | 10 / 200 / 205 | 10.00 × | 5 / 40 / 45 | 4.00 × |",
      "| (b) one at a time | 80.0 | 4.00 × | 1.00 × | 10 / 30 / 35 | 1.50 × | 5 / 12 / 17 | 1.20 × |",
      "| (c) Warden wave, maxConcurrentJobs 5 | broken | – | – | – | – | – | – |",
      "| (d) Warden wave, default (2) | 24.0 | 1.20 × | 0.30 × | 10 / 36 / 41 | 1.80 × | 5 / 25 / 30 | 2.50 × |",
    ]);
  });

  it("shows a window without samples as dashes, not as zero milliseconds", () => {
    const silent: UserLatency = { messages: { count: 0, p50: Number.NaN, p95: Number.NaN, max: Number.NaN, failed: 0 }, sync: endpoint(5, 10, 15) };
    const [, , idleRow] = methodTable([], new Map(), silent, 15_000);
    expect(idleRow).toBe("| idle, nothing running (15.0 s) | – | – | – | – / – / – | – | 5 / 10 / 15 | 1.00 × |");
  });

  it("notes the windows in which some of the user's requests failed, and only those", () => {
    const failing = new Map<Method, MethodOutcome>([["a", { wallMs: 1, user: { messages: endpoint(1, 2, 3, 2), sync: endpoint(1, 2, 3, 1) } }]]);
    expect(failureNotes(["a", "b"], failing, idle)).toEqual(["note: (a) fire-all, then poll all: 2 of 60 /messages and 1 of 60 /sync requests failed"]);
  });
});

describe("the targets", () => {
  it("measure (c) against fire-all, and the user's p95 at the default against idle, per endpoint", () => {
    const outcomes = new Map<Method, MethodOutcome>([
      ["a", { wallMs: 20_000 }],
      ["c", { wallMs: 21_000 }],
      ["d", { wallMs: 30_000, user: user(40, 25) }],
    ]);
    expect(targetLines(outcomes, idle)).toEqual([
      "- (c) wall time ≤ 1.1 × (a): 1.05 ×, met",
      "- (d) the user's p95 ≤ 2 × idle: /messages 2.00 ×, met; /sync 2.50 ×, NOT met",
    ]);
  });

  it("say what was not measured when a method did not run or broke", () => {
    expect(targetLines(new Map([["a", { wallMs: 1 }]]), idle)).toEqual([
      "- (c) wall time ≤ 1.1 × (a): not measured",
      "- (d) the user's p95 ≤ 2 × idle: /messages not measured; /sync not measured",
    ]);
  });
});
