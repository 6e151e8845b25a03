import type { TaskStore } from "../../store/tasks.js";
import type { TaskRecord, TaskStatus } from "../../tasks/types.js";
import type { Clock } from "../../util/clock.js";
import { err, ok } from "../../util/result.js";
import { textFlag } from "../parsing/words.js";
import { defineCommand } from "../spec.js";
import { type CommandOutcome } from "../../model/outcomes.js";
import type { WaveControl } from "../../model/waves.js";
import type { TakedownStore } from "../../store/takedowns.js";

const RECENT_MS = 7 * 24 * 3600 * 1000;
/** Far more pages than any task's lists fill; only keeps the number an exact integer. */
const LAST_PAGE = 100_000;

/** In-flight order: what the homeserver is working on, then what waits for it, then what Warden is still sending. */
const IN_FLIGHT_RANK: Partial<Record<TaskStatus, number>> = { active: 0, scheduled: 1, submitting: 2 };

export interface StatusDependencies {
  readonly store: Pick<TaskStore, "get" | "running" | "endedOnTheirOwn">;
  readonly waves: Pick<WaveControl, "view" | "active">;
  readonly takedownStore: Pick<TakedownStore, "get" | "unfinished">;
  readonly clock: Clock;
}

export function statusCommand(dependencies: StatusDependencies) {
  return defineCommand<{ readonly taskId?: string; readonly page?: number }>({
    name: "status",
    summary: "List jobs in flight and those finished in the last 7 days, or show one job in full (its long lists page by page).",
    details: [
      "In flight, running jobs come first, then queued ones, each oldest first. Long lists are cut short with a count of the rest;",
      "a job's full lists (users kicked, failed redactions, ...) are shown page by page with --page.",
    ],
    positionals: [{ name: "task-id", description: "a task id such as p-3f9a2c, as shown when the job was accepted, a wave id such as w-4c1e0a, or a takedown id such as t-4c1e0a", optional: true }],
    flags: [{ name: "page", kind: "text", valueName: "N", description: "with a task or wave id: page N of the job's lists (users kicked, failed redactions, ...) or of the wave's rooms" }],
    examples: ["!status", "!status p-3f9a2c", "!status s-3f9a2c --page 2", "!status w-4c1e0a --page 3", "!status t-4c1e0a"],
    parse(words) {
      const taskId = words.positionals[0];
      const pageText = textFlag(words, "page");
      if (taskId === undefined) {
        return pageText === undefined ? ok({}) : err({ argument: "--page", given: pageText, expected: "a task id before it: --page pages one job's lists" });
      }
      if (!/^[psrwt]-[0-9a-f]{6}$/.test(taskId)) {
        return err({
          argument: "[task-id]",
          given: taskId,
          expected: "a task id such as p-3f9a2c (p- for purges, s- for shutdowns, r- for redactions), a wave id such as w-4c1e0a or a takedown id such as t-4c1e0a",
        });
      }
      if (pageText === undefined) return ok({ taskId });
      const page = /^\d{1,6}$/.test(pageText) ? Number(pageText) : Number.NaN;
      if (!Number.isInteger(page) || page < 1 || page > LAST_PAGE) {
        return err({ argument: "--page", given: pageText, expected: "a page number, 1 or more" });
      }
      return ok({ taskId, page });
    },
    execute(args, context) {
      if (args.taskId?.startsWith("t-") === true) {
        const record = dependencies.takedownStore.get(args.taskId);
        return Promise.resolve<CommandOutcome>(
          record === undefined ? { kind: "refused", reason: `there is no takedown ${args.taskId} (finished takedowns are kept for 30 days).` } : { kind: "takedown-status", record, ...(args.page === undefined ? {} : { page: args.page }) },
        );
      }
      if (args.taskId?.startsWith("w-") === true) {
        const view = dependencies.waves.view(args.taskId);
        return Promise.resolve<CommandOutcome>(
          view === undefined
            ? { kind: "refused", reason: `there is no wave ${args.taskId} (finished waves are kept for 30 days).` }
            : { kind: "wave-status", view, ...(args.page === undefined ? {} : { page: args.page }) },
        );
      }
      if (args.taskId !== undefined) {
        const task = dependencies.store.get(args.taskId);
        return Promise.resolve<CommandOutcome>(
          task === undefined
            ? { kind: "refused", reason: `there is no task ${args.taskId}.`, hint: `${context.prefix}status lists the known tasks.` }
            : { kind: "status-one", task, ...(args.page === undefined ? {} : { page: args.page }) },
        );
      }
      const since = dependencies.clock.now() - RECENT_MS;
      // A wave's tasks are shown as their wave, a takedown's redactions as their takedown: one line, not one per room or user.
      const onTheirOwn = (task: TaskRecord): boolean => typeof task.parameters["waveId"] !== "string" && typeof task.parameters["takedownId"] !== "string";
      const takedowns = dependencies.takedownStore.unfinished().filter((record) => record.status === "running");
      const waves = dependencies.waves
        .active()
        .map((wave) => dependencies.waves.view(wave.id))
        .filter((view) => view !== undefined);
      return Promise.resolve<CommandOutcome>({
        kind: "status-list",
        ...(waves.length === 0 ? {} : { waves }),
        ...(takedowns.length === 0 ? {} : { takedowns }),
        inFlight: dependencies.store.running().filter(onTheirOwn).sort(inFlightOrder),
        // The store lists oldest first: reversed, the newest come first.
        recent: dependencies.store.endedOnTheirOwn(since).reverse(),
      });
    },
  });
}

function inFlightOrder(a: TaskRecord, b: TaskRecord): number {
  return (IN_FLIGHT_RANK[a.status] ?? 3) - (IN_FLIGHT_RANK[b.status] ?? 3) || a.createdAt - b.createdAt;
}
