import type { ScheduledTasksBody, SynapseAdminClient } from "../../synapse/adminClient.js";
import type { TaskStore } from "../../store/tasks.js";
import { ok } from "../../util/result.js";
import { present, type HomeserverTask } from "../../model/lookups.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome } from "../../model/outcomes.js";

export interface TasksDependencies {
  readonly admin: Pick<SynapseAdminClient, "scheduledTasks">;
  readonly store: Pick<TaskStore, "ofHomeserverJob">;
}

/** Synapse's task statuses that are not over yet; these come first in the reply. */
const PENDING = new Set(["scheduled", "active"]);

export function tasksCommand(dependencies: TasksDependencies) {
  return defineCommand<Record<string, never>>({
    name: "tasks",
    summary: "List the homeserver's own task queue (purges, room deletes, redactions and more), whoever started them.",
    details: [
      "Tasks still queued or running come first, then the others, newest first; Synapse keeps finished tasks for about 7 days.",
      "A task started by Warden is marked with Warden's task id; the others were started by another admin tool or by Synapse itself.",
    ],
    positionals: [],
    flags: [],
    examples: ["!tasks"],
    parse() {
      return ok({});
    },
    async execute(): Promise<CommandOutcome> {
      const listed = await dependencies.admin.scheduledTasks();
      if (!listed.ok) return { kind: "refused", reason: `could not read the homeserver's task list: ${listed.error.userMessage}` };
      // The newest of Warden's tasks that follows each job (a job joined by a later command has two).
      const tasks = listed.value.scheduled_tasks.map((task) => homeserverTask(task, dependencies.store.ofHomeserverJob(task.id).at(-1)));
      tasks.sort((a, b) => Number(PENDING.has(b.status)) - Number(PENDING.has(a.status)) || b.timestampMs - a.timestampMs);
      return { kind: "homeserver-tasks", tasks };
    },
  });
}

function homeserverTask(task: ScheduledTasksBody["scheduled_tasks"][number], wardenTaskId: string | undefined): HomeserverTask {
  return {
    id: task.id,
    action: task.action,
    status: task.status,
    timestampMs: task.timestamp_ms,
    ...present("resourceId", task.resource_id),
    ...(task.error === null || task.error === undefined || task.error === "" ? {} : { error: task.error }),
    ...present("wardenTaskId", wardenTaskId),
  };
}
