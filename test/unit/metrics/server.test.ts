import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { WardenMetrics } from "../../../src/metrics/metrics.js";
import { startMetricsServer } from "../../../src/metrics/server.js";
import type { HealthVerdict } from "../../../src/metrics/health.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";

let server: Server | undefined;

afterEach(() => {
  server?.close();
  server = undefined;
});

async function serve(verdict: HealthVerdict): Promise<string> {
  const metrics = new WardenMetrics({ defaultMetrics: false });
  metrics.commandRan("help", "help-all", 0.01);
  server = await startMetricsServer({ host: "127.0.0.1", port: 0 }, metrics, () => verdict, new MemoryLogger().log);
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

describe("the metrics server", () => {
  it("serves Prometheus text on /metrics", async () => {
    const base = await serve({ healthy: true, reason: "ok" });
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    expect(await response.text()).toContain('warden_commands_total{command="help",outcome="help-all"} 1');
  });

  it("answers /healthz with 200, or 503 and a short JSON reason", async () => {
    const healthy = await fetch(`${await serve({ healthy: true, reason: "ok" })}/healthz`);
    expect([healthy.status, await healthy.json()]).toEqual([200, { status: "ok", reason: "ok" }]);
    server?.close();
    const sick = await fetch(`${await serve({ healthy: false, reason: "the last admin call failed" })}/healthz`);
    expect([sick.status, await sick.json()]).toEqual([503, { status: "unhealthy", reason: "the last admin call failed" }]);
  });

  it("serves nothing else", async () => {
    const base = await serve({ healthy: true, reason: "ok" });
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: "POST" })).status).toBe(405);
  });
});
