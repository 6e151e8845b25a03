import type { Command } from "../commands/spec.js";
import type { AcceptanceNotifier } from "../tasks/launcher.js";
import type { TaskNotifier } from "../tasks/tracker.js";
import type { TaskRecord } from "../tasks/types.js";
import type { Clock } from "../util/clock.js";
import type { WardenMetrics } from "./metrics.js";

/**
 * A command row that counts and times each run, so the dispatcher and the commands stay free
 * of metrics. A preview counts as outcome "preview" (or "refused" when the preview itself is).
 */
export function instrumentCommand(command: Command, metrics: Pick<WardenMetrics, "commandRan">, clock: Clock): Command {
  const timed = async <T>(run: () => Promise<T>, outcomeOf: (value: T) => string): Promise<T> => {
    const started = clock.now();
    try {
      const value = await run();
      metrics.commandRan(command.name, outcomeOf(value), (clock.now() - started) / 1000);
      return value;
    } catch (error) {
      metrics.commandRan(command.name, "error", (clock.now() - started) / 1000);
      throw error;
    }
  };
  const execute = command.execute.bind(command);
  const confirmation = command.confirmation;
  return {
    ...command,
    execute: (args, context) => timed(() => execute(args, context), (outcome) => outcome.kind),
    ...(confirmation === undefined
      ? {}
      : {
          confirmation: {
            ...confirmation,
            preview: (args, context) => timed(() => confirmation.preview(args, context), (preview) => (preview.ok ? "preview" : "refused")),
          },
        }),
  };
}

/** Counts jobs by kind and state and times their end, around the notifier the tracker already calls. */
export class MeteredTaskNotifier implements TaskNotifier, AcceptanceNotifier {
  constructor(
    private readonly inner: TaskNotifier & AcceptanceNotifier,
    private readonly metrics: Pick<WardenMetrics, "jobReached" | "jobEnded">,
    private readonly clock: Clock,
  ) {}

  accepted(task: TaskRecord): Promise<string | undefined> {
    this.metrics.jobReached(task.kind, task.status);
    return this.inner.accepted(task);
  }

  progressed(task: TaskRecord): Promise<void> {
    this.metrics.jobReached(task.kind, task.status);
    return this.inner.progressed(task);
  }

  async finished(task: TaskRecord): Promise<boolean> {
    const delivered = await this.inner.finished(task);
    // The tracker calls again until delivery succeeds: count the end once, when it is delivered.
    if (!delivered) return false;
    const endedAt = task.finishedAt ?? task.statusChangedAt;
    this.metrics.jobEnded(task.kind, task.status, (endedAt - task.createdAt) / 1000, (this.clock.now() - endedAt) / 1000);
    return delivered;
  }

  stuck(task: TaskRecord): Promise<void> {
    this.metrics.jobReached(task.kind, "stuck");
    return this.inner.stuck(task);
  }
}
