import { describe, expect, it } from "vitest";
import type { Command } from "../../../../src/commands/spec.js";
import { statusCommand } from "../../../../src/commands/jobs/status.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";
import { sampleTask } from "../../../fakes/sampleTask.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { ALL_OPTIONS, SPAMMER, takedown, takedownUser } from "../../tasks/takedowns/harness.js";

const DAY = 86_400_000;

function statusSetup(): { fakes: CommandFakes; status: Command } {
  const fakes = commandFakes();
  return { fakes, status: statusCommand(fakes.dependencies) };
}

describe("!status", () => {
  it("lists tasks in flight and those finished in the last 7 days, newest finished first", async () => {
    const { fakes, status } = statusSetup();
    const running = sampleTask({ id: "p-000001", status: "active", createdAt: FIXED_NOW - 3 * DAY });
    const submitting = sampleTask({ id: "s-000002", kind: "shutdown", status: "submitting", createdAt: FIXED_NOW - 10 * DAY });
    const oldDone = sampleTask({ id: "p-000003", status: "complete", createdAt: FIXED_NOW - 9 * DAY, finishedAt: FIXED_NOW - 8 * DAY });
    const recentDone = sampleTask({ id: "p-000004", status: "complete", createdAt: FIXED_NOW - 6 * DAY, finishedAt: FIXED_NOW - 6 * DAY });
    const recentFailed = sampleTask({ id: "s-000005", kind: "shutdown", status: "failed", createdAt: FIXED_NOW - 2 * DAY, finishedAt: FIXED_NOW - DAY });
    const lateFinish = sampleTask({ id: "p-000006", status: "unknown", createdAt: FIXED_NOW - 20 * DAY, finishedAt: FIXED_NOW - DAY / 2 });
    fakes.store.tasks.push(running, submitting, oldDone, recentDone, recentFailed, lateFinish);

    const outcome = await runCommand(status, "");
    expect(outcome.kind).toBe("status-list");
    if (outcome.kind !== "status-list") return;
    expect(outcome.inFlight.map((task) => task.id)).toEqual(["p-000001", "s-000002"]);
    expect(outcome.recent.map((task) => task.id)).toEqual(["s-000005", "p-000004", "p-000006"]);
  });

  it("shows a running takedown as one line, not its redactions, and a takedown by its t- id", async () => {
    const { fakes, status } = statusSetup();
    const record = takedown([takedownUser(SPAMMER)]);
    await fakes.takedownStore.save(record);
    await fakes.takedownStore.save({ ...takedown([takedownUser(SPAMMER)], ALL_OPTIONS, "t-000002"), status: "finished", finalNotificationSent: true });
    fakes.store.tasks.push(sampleTask({ id: "r-000001", kind: "redact", status: "active", parameters: { takedownId: record.id } }));

    const outcome = await runCommand(status, "");
    expect(outcome).toMatchObject({ kind: "status-list", inFlight: [], takedowns: [record] });
    expect(renderOutcome(outcome, "!", FIXED_NOW)?.plain).toContain("t-000001: takedown of @spammer:example.org, 0 of 5 steps ended");

    expect(await runCommand(status, "t-000001")).toEqual({ kind: "takedown-status", record });
    expect(await runCommand(status, "t-000001 --page 2")).toEqual({ kind: "takedown-status", record, page: 2 });
    expect(await runCommand(status, "t-00000f")).toEqual({ kind: "refused", reason: "there is no takedown t-00000f (finished takedowns are kept for 30 days)." });
  });

  it("orders the jobs in flight usefully: running first, then queued, then still being sent, each oldest first", async () => {
    const { fakes, status } = statusSetup();
    const task = (id: string, status: "active" | "scheduled" | "submitting", ageDays: number) =>
      sampleTask({ id, status, createdAt: FIXED_NOW - ageDays * DAY });
    fakes.store.tasks.push(
      task("p-00000a", "scheduled", 1),
      task("p-00000b", "active", 1),
      task("p-00000c", "submitting", 3),
      task("p-00000d", "scheduled", 2),
      task("p-00000e", "active", 2),
    );
    const outcome = await runCommand(status, "");
    expect(outcome.kind === "status-list" && outcome.inFlight.map((entry) => entry.id)).toEqual(["p-00000e", "p-00000b", "p-00000d", "p-00000a", "p-00000c"]);
  });

  it("pages one task's lists with --page N", async () => {
    const { fakes, status } = statusSetup();
    const task = sampleTask({ id: "s-3f9a2c", kind: "shutdown" });
    fakes.store.tasks.push(task);
    expect(await runCommand(status, "s-3f9a2c --page 3")).toEqual({ kind: "status-one", task, page: 3 });
  });

  it.each(["0", "-1", "two", "1.5"])("refuses --page %j", (word) => {
    const { status } = statusSetup();
    expect(parseProblem(status, `s-3f9a2c --page "${word}"`)).toMatchObject({ argument: "--page", expected: "a page number, 1 or more" });
  });

  it("refuses --page without a task id", () => {
    const { status } = statusSetup();
    expect(parseProblem(status, "--page 2")).toMatchObject({ argument: "--page" });
  });

  it("shows one known task in full", async () => {
    const { fakes, status } = statusSetup();
    const task = sampleTask({ id: "p-3f9a2c" });
    fakes.store.tasks.push(task);
    expect(await runCommand(status, "p-3f9a2c")).toEqual({ kind: "status-one", task });
  });

  it("shows a redaction by its r- id", async () => {
    const { fakes, status } = statusSetup();
    const task = sampleTask({ id: "r-00c0de", kind: "redact", roomId: "@spammer:example.org", roomLabel: "@spammer:example.org" });
    fakes.store.tasks.push(task);
    expect(await runCommand(status, "r-00c0de")).toEqual({ kind: "status-one", task });
  });

  it("refuses an unknown task id with a hint", async () => {
    const { status } = statusSetup();
    const outcome = await runCommand(status, "s-abcdef");
    expect(outcome.kind === "refused" && outcome.reason).toBe("there is no task s-abcdef.");
  });

  it.each(["3f9a2c", "p-3f9a2", "p-3F9A2C", "x-3f9a2c", "p-3f9a2cd", "p_3f9a2c"])("names [task-id] for %j", (word) => {
    const { status } = statusSetup();
    expect(parseProblem(status, word)).toEqual({
      argument: "[task-id]",
      given: word,
      expected: "a task id such as p-3f9a2c (p- for purges, s- for shutdowns, r- for redactions), a wave id such as w-4c1e0a or a takedown id such as t-4c1e0a",
    });
  });
});
