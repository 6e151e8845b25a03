import type { LaunchOutcome, TaskLauncher, TaskRequest } from "../../src/tasks/launcher.js";
import type { TaskRecord } from "../../src/tasks/types.js";

/** Failures after which the real launcher leaves the task "submitting" (the job may have started). */
const UNCERTAIN = ["timeout", "unreachable", "server-error", "bad-response"];

/**
 * Submits like the real launcher, without a store: a refused request ends the task as failed,
 * an unclear one leaves it submitting. With `joined` set, every launch joins that task instead.
 */
export class SubmittingLauncher implements Pick<TaskLauncher, "launch"> {
  readonly requests: TaskRequest[] = [];
  joined: TaskRecord | undefined;
  /** With `busy` set, every launch meets that task, which does less: nothing is submitted. */
  busy: TaskRecord | undefined;

  async launch(request: TaskRequest): Promise<LaunchOutcome> {
    this.requests.push(request);
    if (this.joined !== undefined) return { kind: "joined", task: this.joined };
    if (this.busy !== undefined) return { kind: "busy", task: this.busy };
    const task = submittingTaskOf(request, `t-${this.requests.length}`);
    const submitted = await request.submit();
    if (submitted.ok) return { kind: "started", task: { ...task, status: "scheduled", homeserverTaskId: submitted.value } };
    if (UNCERTAIN.includes(submitted.error.kind)) return { kind: "started", task };
    return { kind: "started", task: { ...task, status: "failed", reason: submitted.error.userMessage } };
  }
}

/** The task a launcher records for a request before it is sent: "submitting", at time 0. */
export function submittingTaskOf(request: TaskRequest, id: string, change: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    kind: request.kind,
    roomId: request.roomId,
    roomLabel: request.roomLabel,
    requester: request.requester,
    managementRoomId: request.managementRoomId,
    commandEventId: request.commandEventId,
    parameters: request.parameters,
    status: "submitting",
    createdAt: 0,
    statusChangedAt: 0,
    finalNotificationSent: false,
    ...change,
  };
}
