import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../src/config.js";
import { HealthState } from "../../../src/metrics/health.js";
import { instrumentCommand, MeteredTaskNotifier } from "../../../src/metrics/instrument.js";
import { WardenMetrics } from "../../../src/metrics/metrics.js";
import { parseListenAddress } from "../../../src/metrics/server.js";
import { defineCommand } from "../../../src/commands/spec.js";
import { endpointGroup } from "../../../src/synapse/http.js";
import { ok } from "../../../src/util/result.js";
import { FixedClock } from "../../fakes/fixedClock.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { sampleTask } from "../../fakes/sampleTask.js";

const BASE = { homeserverUrl: "https://matrix.example.org", accessToken: "t", managementRoom: "!m:example.org", allowlist: ["@a:example.org"] };

/** The value of one sample line of the Prometheus text, by its full name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics config", () => {
  it("is off by default and takes host:port when set", () => {
    const off = parseConfig(BASE, "c.yaml", {});
    expect(off.ok && off.value.metrics).toBeUndefined();
    const on = parseConfig({ ...BASE, metrics: { listen: "127.0.0.1:9464" } }, "c.yaml", {});
    expect(on.ok ? on.value.metrics : on.error).toEqual({ listen: { host: "127.0.0.1", port: 9464 } });
  });

  it("refuses an address without a port, and unknown keys", () => {
    const bad = parseConfig({ ...BASE, metrics: { listen: "localhost" } }, "c.yaml", {});
    expect(bad.ok ? "accepted" : bad.error).toContain("metrics.listen: expected host:port");
    const unknown = parseConfig({ ...BASE, metrics: { listen: "127.0.0.1:1", path: "/m" } }, "c.yaml", {});
    expect(unknown.ok ? "accepted" : unknown.error).toContain("path: unknown key");
  });

  it("reads IPv6 and refuses impossible ports", () => {
    expect(parseListenAddress("[::1]:9464")).toEqual({ host: "::1", port: 9464 });
    expect(parseListenAddress("0.0.0.0:0")).toBeUndefined();
    expect(parseListenAddress("host:70000")).toBeUndefined();
  });
});

describe("WardenMetrics", () => {
  it("exposes every Warden series, default process metrics and a zero wave queue", async () => {
    const metrics = new WardenMetrics();
    metrics.commandRan("purge", "task-started", 0.2);
    metrics.jobReached("purge", "scheduled");
    metrics.jobEnded("purge", "complete", 12, 0.5);
    metrics.adminRequest("rooms", "2xx", true);
    metrics.reportsSeen(3);
    const text = await metrics.text();

    expect(sample(text, 'warden_commands_total{command="purge",outcome="task-started"}')).toBe(1);
    expect(sample(text, 'warden_command_duration_seconds_count{command="purge"}')).toBe(1);
    expect(sample(text, 'warden_jobs_total{kind="purge",state="complete"}')).toBe(1);
    expect(sample(text, 'warden_job_duration_seconds_sum{kind="purge",state="complete"}')).toBe(12);
    expect(sample(text, 'warden_job_completion_lag_seconds_count{kind="purge"}')).toBe(1);
    expect(sample(text, 'warden_admin_requests_total{group="rooms",status="2xx"}')).toBe(1);
    expect(sample(text, "warden_homeserver_reachable")).toBe(1);
    expect(sample(text, "warden_wave_queue_length")).toBe(0);
    expect(sample(text, "warden_reports_seen_total")).toBe(3);
    expect(text).toContain("process_cpu_user_seconds_total");
  });

  it("reads the wave queue length from its source at scrape time", async () => {
    let length = 4;
    const metrics = new WardenMetrics({ defaultMetrics: false, waveQueueLength: () => length });
    expect(sample(await metrics.text(), "warden_wave_queue_length")).toBe(4);
    length = 1;
    expect(sample(await metrics.text(), "warden_wave_queue_length")).toBe(1);
  });

  it("groups admin paths by their first segment, never by an id", () => {
    expect(endpointGroup("/_synapse/admin/v1/rooms/!abc%3Aexample.org/members")).toBe("rooms");
    expect(endpointGroup("/_synapse/admin/v1/event_reports/12")).toBe("event_reports");
    expect(endpointGroup("/_synapse/admin/v2/rooms/delete_status/x")).toBe("rooms");
    expect(endpointGroup("/somewhere/else")).toBe("other");
  });
});

describe("instrumentation", () => {
  it("counts and times a command's execution and its preview", async () => {
    const clock = new FixedClock();
    const metrics = new WardenMetrics({ defaultMetrics: false });
    const command = instrumentCommand(
      defineCommand<null>({
        name: "probe",
        summary: "",
        details: [],
        positionals: [],
        flags: [],
        examples: [],
        parse: () => ok(null),
        execute: () => {
          clock.advance(1500);
          return Promise.resolve({ kind: "refused", reason: "no" });
        },
        confirmation: { kind: () => "shutdown", preview: () => Promise.resolve(ok({ title: "t", lines: [] })) },
      }),
      metrics,
      clock,
    );
    const context = { requester: "@a:x" as never, commandEventId: "$e", managementRoomId: "!m:x" as never, prefix: "!" };
    await command.execute(null, context);
    await command.confirmation?.preview(null, context);
    const text = await metrics.text();

    expect(sample(text, 'warden_commands_total{command="probe",outcome="refused"}')).toBe(1);
    expect(sample(text, 'warden_commands_total{command="probe",outcome="preview"}')).toBe(1);
    expect(sample(text, 'warden_command_duration_seconds_sum{command="probe"}')).toBe(1.5);
  });

  it("counts a job's states and its end once, when the final notice is delivered", async () => {
    const clock = new FixedClock();
    const metrics = new WardenMetrics({ defaultMetrics: false });
    const inner = new RecordingTaskNotifier(clock);
    inner.finishedAnswers.push(false, true);
    const notifier = new MeteredTaskNotifier(inner, metrics, clock);
    const done = sampleTask({ status: "complete", finishedAt: clock.now() - 2000 });
    await notifier.accepted(sampleTask({ status: "submitting" }));
    await notifier.progressed(sampleTask({ status: "active" }));
    expect(await notifier.finished(done)).toBe(false);
    expect(await notifier.finished(done)).toBe(true);
    const text = await metrics.text();

    expect(sample(text, 'warden_jobs_total{kind="purge",state="submitting"}')).toBe(1);
    expect(sample(text, 'warden_jobs_total{kind="purge",state="active"}')).toBe(1);
    expect(sample(text, 'warden_jobs_total{kind="purge",state="complete"}')).toBe(1);
    expect(sample(text, 'warden_job_duration_seconds_sum{kind="purge",state="complete"}')).toBe(58);
    expect(sample(text, 'warden_job_completion_lag_seconds_sum{kind="purge"}')).toBe(2);
    expect(inner.of("finished")).toHaveLength(2);
  });
});

describe("HealthState", () => {
  it("is healthy only when the last sync and the last admin call both succeeded recently", () => {
    const clock = new FixedClock();
    const health = new HealthState(clock, 60_000);
    expect(health.verdict()).toEqual({ healthy: false, reason: "no sync has succeeded yet" });
    health.syncSucceeded();
    expect(health.verdict().reason).toBe("no admin call has been made yet");
    health.adminCallEnded(true);
    expect(health.verdict()).toEqual({ healthy: true, reason: "ok" });
    health.adminCallEnded(false);
    expect(health.verdict()).toEqual({ healthy: false, reason: "the last admin call failed" });
    health.adminCallEnded(true);
    clock.advance(61_000);
    expect(health.verdict()).toEqual({ healthy: false, reason: "no successful sync for 61 s" });
    health.syncSucceeded();
    expect(health.verdict()).toEqual({ healthy: false, reason: "no admin call for 61 s" });
  });
});
