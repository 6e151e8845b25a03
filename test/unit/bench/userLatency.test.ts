import { describe, expect, it } from "vitest";
import { userLatency, type UserSample } from "../../../bench/userLatency.js";

describe("the ordinary user's latency in a window", () => {
  const sample = (endpoint: UserSample["endpoint"], at: number, ms: number, failed = false): UserSample => ({ endpoint, at, ms, failed });

  it("counts the samples sent inside the window, ends included, per endpoint", () => {
    const samples = [sample("messages", 99, 1_000), sample("messages", 100, 10), sample("sync", 150, 30), sample("messages", 200, 20), sample("sync", 201, 2_000)];
    const latency = userLatency(samples, 100, 200);
    expect(latency.messages).toEqual({ count: 2, p50: 10, p95: 20, max: 20, failed: 0 });
    expect(latency.sync).toEqual({ count: 1, p50: 30, p95: 30, max: 30, failed: 0 });
  });

  it("keeps a failed request's time, since the user waited it, and counts the failure", () => {
    const latency = userLatency([sample("sync", 0, 40), sample("sync", 1, 30_000, true)], 0, 10);
    expect(latency.sync.max).toBe(30_000);
    expect(latency.sync.failed).toBe(1);
  });
});
