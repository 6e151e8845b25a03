import type { TaskStore } from "../../tasks/store.js";
import { isFinal } from "../../tasks/types.js";
import type { Clock } from "../../util/clock.js";
import { err, ok } from "../../util/result.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome } from "../../model/outcomes.js";

const RECENT_MS = 7 * 24 * 3600 * 1000;

export interface StatusDependencies {
  readonly store: Pick<TaskStore, "all" | "get">;
  readonly clock: Clock;
}

export function statusCommand(dependencies: StatusDependencies) {
  return defineCommand<{ readonly taskId?: string }>({
    name: "status",
    summary: "List jobs in flight and those finished in the last 7 days, or show one job in full.",
    details: [],
    positionals: [{ name: "task-id", description: "a task id such as p-3f9a2c, as shown when the job was accepted", optional: true }],
    flags: [],
    examples: ["!status", "!status p-3f9a2c"],
    parse(words) {
      const taskId = words.positionals[0];
      if (taskId === undefined) return ok({});
      if (!/^[psr]-[0-9a-f]{6}$/.test(taskId)) {
        return err({ argument: "[task-id]", given: taskId, expected: "a task id such as p-3f9a2c (p- for purges, s- for shutdowns, r- for redactions)" });
      }
      return ok({ taskId });
    },
    execute(args, context) {
      if (args.taskId !== undefined) {
        const task = dependencies.store.get(args.taskId);
        return Promise.resolve<CommandOutcome>(
          task === undefined
            ? { kind: "refused", reason: `there is no task ${args.taskId}.`, hint: `${context.prefix}status lists the known tasks.` }
            : { kind: "status-one", task },
        );
      }
      const since = dependencies.clock.now() - RECENT_MS;
      const all = dependencies.store.all();
      return Promise.resolve<CommandOutcome>({
        kind: "status-list",
        inFlight: all.filter((task) => !isFinal(task.status)),
        recent: all.filter((task) => isFinal(task.status) && (task.finishedAt ?? task.createdAt) >= since).reverse(),
      });
    },
  });
}
