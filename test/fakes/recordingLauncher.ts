import type { LaunchOutcome, TaskLauncher, TaskRequest } from "../../src/tasks/launcher.js";
import type { TaskRecord } from "../../src/tasks/types.js";
import type { Clock } from "../../src/util/clock.js";
import { submittingTaskOf } from "./submittingLauncher.js";

/**
 * Records launch requests without running them. A test that wants to see what would reach the
 * homeserver calls `submit` of a recorded request itself, after the command has finished.
 */
export class RecordingLauncher implements Pick<TaskLauncher, "launch" | "existing"> {
  readonly requests: TaskRequest[] = [];
  /** When set, every launch joins this task instead of starting one. */
  joinExisting: TaskRecord | undefined;
  /** When set, a task of the same kind runs on every target and does less: every launch is refused as busy. */
  busyWith: TaskRecord | undefined;
  private counter = 0;

  constructor(private readonly clock: Clock) {}

  existing(): Exclude<LaunchOutcome, { kind: "started" }> | undefined {
    if (this.joinExisting !== undefined) return { kind: "joined", task: this.joinExisting };
    if (this.busyWith !== undefined) return { kind: "busy", task: this.busyWith };
    return undefined;
  }

  launch(request: TaskRequest): Promise<LaunchOutcome> {
    this.requests.push(request);
    const existing = this.existing();
    if (existing !== undefined) return Promise.resolve(existing);
    this.counter += 1;
    const now = this.clock.now();
    const task = submittingTaskOf(request, `${request.kind.charAt(0)}-${this.counter.toString(16).padStart(6, "0")}`, { createdAt: now, statusChangedAt: now });
    return Promise.resolve({ kind: "started", task });
  }
}
