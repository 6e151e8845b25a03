import { describe, expect, it } from "vitest";
import type { Command } from "../../../../src/commands/spec.js";
import { tasksCommand } from "../../../../src/commands/homeserver/tasks.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { parseProblem, runCommand } from "../../../fakes/runCommand.js";
import { sampleTask } from "../../../fakes/sampleTask.js";

function tasksSetup(): { fakes: CommandFakes; tasks: Command } {
  const fakes = commandFakes();
  return { fakes, tasks: tasksCommand(fakes.dependencies) };
}

describe("!tasks", () => {
  it("lists every homeserver task, queued and running first, then newest first, marking Warden's own", async () => {
    const { fakes, tasks } = tasksSetup();
    fakes.store.tasks.push(
      sampleTask({ id: "p-aaaaaa", homeserverTaskId: "purge-by-warden" }),
      sampleTask({ id: "s-bbbbbb", kind: "shutdown", homeserverTaskId: "delete-by-warden" }),
      sampleTask({ id: "p-cccccc", status: "submitting" }),
    );
    fakes.admin.scheduled.push(
      { id: "old-done", action: "purge_room", status: "complete", timestamp_ms: FIXED_NOW - 5_000_000, resource_id: "!x:example.org", result: null, error: null },
      { id: "purge-by-warden", action: "purge_history", status: "active", timestamp_ms: FIXED_NOW - 9_000_000, resource_id: "!spam:example.org" },
      { id: "profile", action: "update_join_states", status: "scheduled", timestamp_ms: FIXED_NOW + 60_000, resource_id: "@alice:example.org" },
      { id: "delete-by-warden", action: "shutdown_and_purge_room", status: "failed", timestamp_ms: FIXED_NOW - 1_000, resource_id: "!y:example.org", error: "boom" },
      { id: "no-resource", action: "something_new", status: "cancelled", timestamp_ms: FIXED_NOW - 2_000, error: "" },
    );

    const outcome = await runCommand(tasks, "");

    expect(fakes.admin.roomCalls).toEqual([{ method: "scheduledTasks" }]);
    expect(outcome).toEqual({
      kind: "homeserver-tasks",
      tasks: [
        { id: "profile", action: "update_join_states", status: "scheduled", timestampMs: FIXED_NOW + 60_000, resourceId: "@alice:example.org" },
        {
          id: "purge-by-warden",
          action: "purge_history",
          status: "active",
          timestampMs: FIXED_NOW - 9_000_000,
          resourceId: "!spam:example.org",
          wardenTaskId: "p-aaaaaa",
        },
        {
          id: "delete-by-warden",
          action: "shutdown_and_purge_room",
          status: "failed",
          timestampMs: FIXED_NOW - 1_000,
          resourceId: "!y:example.org",
          error: "boom",
          wardenTaskId: "s-bbbbbb",
        },
        { id: "no-resource", action: "something_new", status: "cancelled", timestampMs: FIXED_NOW - 2_000 },
        { id: "old-done", action: "purge_room", status: "complete", timestampMs: FIXED_NOW - 5_000_000, resourceId: "!x:example.org" },
      ],
    });
  });

  it("answers with an empty list when the homeserver has no tasks", async () => {
    const { tasks } = tasksSetup();
    expect(await runCommand(tasks, "")).toEqual({ kind: "homeserver-tasks", tasks: [] });
  });

  it("refuses with the homeserver's reason when the list cannot be read", async () => {
    const { fakes, tasks } = tasksSetup();
    fakes.admin.failures.set("scheduledTasks", adminError("unauthorized", 401));
    expect(await runCommand(tasks, "")).toEqual({
      kind: "refused",
      reason: "could not read the homeserver's task list: the homeserver no longer accepts Warden's access token (it was logged out or is wrong)",
    });
  });

  it("takes no arguments and no options", () => {
    const { tasks } = tasksSetup();
    expect(parseProblem(tasks, "p-3f9a2c")).toEqual({ argument: "arguments", given: "p-3f9a2c", expected: "at most 0 arguments; quote text that contains spaces" });
    expect(parseProblem(tasks, "--all")).toEqual({ argument: "--all", expected: "no options: this command takes none" });
  });
});
