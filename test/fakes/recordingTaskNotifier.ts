import type { AcceptanceNotifier } from "../../src/tasks/launcher.js";
import type { TaskNotifier } from "../../src/tasks/tracker.js";
import type { TaskRecord } from "../../src/tasks/types.js";
import type { Clock } from "../../src/util/clock.js";

export type NotifierMethod = "accepted" | "progressed" | "finished" | "stuck";

export interface NotifierCall {
  readonly method: NotifierMethod;
  /** The task as it was handed over (a copy, so later changes do not rewrite history). */
  readonly task: TaskRecord;
  /** The clock's time of the call. */
  readonly at: number;
}

/** What `finished` does on one call: report delivered (true), not delivered (false), or throw. */
export type FinishedAnswer = boolean | Error;

/**
 * Records every notification the tracker or the launcher asks for. `finished` answers from
 * `finishedAnswers` in order (delivered once they run out), so a failing room can be scripted.
 */
export class RecordingTaskNotifier implements TaskNotifier, AcceptanceNotifier {
  readonly calls: NotifierCall[] = [];
  readonly finishedAnswers: FinishedAnswer[] = [];
  /** The event id `accepted` returns for the progress message; undefined models a failed send. */
  progressEventId: string | undefined = "$progress";

  constructor(private readonly clock: Clock) {}

  of(method: NotifierMethod): TaskRecord[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.task);
  }

  accepted(task: TaskRecord): Promise<string | undefined> {
    this.record("accepted", task);
    return Promise.resolve(this.progressEventId);
  }

  progressed(task: TaskRecord): Promise<void> {
    this.record("progressed", task);
    return Promise.resolve();
  }

  finished(task: TaskRecord): Promise<boolean> {
    this.record("finished", task);
    const answer = this.finishedAnswers.shift() ?? true;
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }

  stuck(task: TaskRecord): Promise<void> {
    this.record("stuck", task);
    return Promise.resolve();
  }

  private record(method: NotifierMethod, task: TaskRecord): void {
    this.calls.push({ method, task: structuredClone(task), at: this.clock.now() });
  }
}
