import type { Logger } from "pino";
import { StoreError } from "../store/errors.js";
import type { AdminError } from "../synapse/errors.js";
import type { Clock } from "../util/clock.js";
import type { Result } from "../util/result.js";
import type { TaskStore } from "../store/tasks.js";
import type { TaskTracker } from "./tracker.js";
import { covers } from "./kinds/coverage.js";
import type { TaskKind, TaskParameters, TaskRecord } from "./types.js";

export interface TaskRequest {
  readonly kind: TaskKind;
  readonly roomId: string;
  readonly roomLabel: string;
  readonly requester: string;
  readonly managementRoomId: string;
  readonly commandEventId: string;
  readonly parameters: TaskParameters;
  /** Sends the request that starts the job; resolves to the homeserver's id for it. */
  readonly submit: () => Promise<Result<string, AdminError>>;
}

export type LaunchOutcome =
  | { readonly kind: "started"; readonly task: TaskRecord }
  /** A job of the same kind already runs on the target and does at least what this one asks: followed as this one's. */
  | { readonly kind: "joined"; readonly task: TaskRecord }
  /** A job of the same kind runs on the target and does less: nothing was sent; try again when it ends. */
  | { readonly kind: "busy"; readonly task: TaskRecord };

export interface AcceptanceNotifier {
  /** Posts the message that will be edited as the job moves; resolves to its event id. */
  accepted(task: TaskRecord): Promise<string | undefined>;
}

/** Failures after which the homeserver may still have started the job: look before acting again. */
const UNCERTAIN: ReadonlySet<AdminError["kind"]> = new Set(["timeout", "unreachable", "server-error", "bad-response"]);

/**
 * Starts a homeserver job so that it cannot be lost: the task is written down before the
 * request leaves, and handed to the tracker whatever happens to the request.
 */
export class TaskLauncher {
  constructor(
    private readonly store: TaskStore,
    private readonly tracker: Pick<TaskTracker, "track">,
    private readonly notifier: AcceptanceNotifier,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /**
   * What a launch of this request would meet: a job of the same kind already running on the
   * target, which it would join (it does at least as much) or wait for (it does less), or
   * nothing (undefined: it would start one). Synapse runs one job of a kind per target at a
   * time; joining one that does less would report work as done that nobody did.
   */
  existing(kind: TaskRequest["kind"], roomId: string, parameters: TaskParameters): Exclude<LaunchOutcome, { kind: "started" }> | undefined {
    const running = this.store.inFlightFor(kind, roomId);
    if (running === undefined) return undefined;
    return { kind: covers(running, kind, parameters) ? "joined" : "busy", task: running };
  }

  async launch(request: TaskRequest): Promise<LaunchOutcome> {
    // Checked and inserted with no await in between, so two identical commands cannot both pass.
    const existing = this.existing(request.kind, request.roomId, request.parameters);
    if (existing !== undefined) return existing;
    const now = this.clock.now();
    const task: TaskRecord = {
      id: this.store.newId(request.kind),
      kind: request.kind,
      roomId: request.roomId,
      roomLabel: request.roomLabel,
      requester: request.requester,
      managementRoomId: request.managementRoomId,
      commandEventId: request.commandEventId,
      parameters: request.parameters,
      status: "submitting",
      createdAt: now,
      statusChangedAt: now,
      finalNotificationSent: false,
    };
    await this.store.insert(task);
    this.log.info({ taskId: task.id, kind: task.kind, roomId: task.roomId, requester: task.requester }, "task accepted");

    try {
      const progressEventId = await this.notifier.accepted(task);
      // statusChangedAt of a task still "submitting" is when its request left: recovery looks for
      // jobs the homeserver stamped since then, never earlier.
      await this.store.update(task.id, { ...(progressEventId === undefined ? {} : { progressEventId }), statusChangedAt: this.clock.now() });

      const submitted = await request.submit();
      if (submitted.ok) {
        await this.store.update(task.id, { homeserverTaskId: submitted.value, status: "scheduled", statusChangedAt: this.clock.now() });
        this.log.info({ taskId: task.id, homeserverTaskId: submitted.value }, "homeserver accepted the job");
      } else if (UNCERTAIN.has(submitted.error.kind)) {
        // Left in "submitting": the tracker looks for the job on the homeserver before anything else.
        this.log.warn({ taskId: task.id, error: submitted.error.kind }, "unclear whether the homeserver accepted the job");
      } else {
        const finishedAt = this.clock.now();
        await this.store.update(task.id, {
          status: "failed",
          reason: submitted.error.userMessage,
          statusChangedAt: finishedAt,
          finishedAt,
        });
        this.log.info({ taskId: task.id, error: submitted.error.kind, detail: submitted.error.detail }, "homeserver refused the job");
      }
    } catch (error) {
      if (error instanceof StoreError) throw error.withAfterwards(`Task ${task.id} is recorded; Warden keeps following it and will report how it ends.`);
      throw error;
    } finally {
      // Even when recording the homeserver's answer failed, the job may be running: keep
      // following it (a task still "submitting" is looked up on the homeserver, never resent).
      this.tracker.track(task.id);
    }
    return { kind: "started", task: this.store.get(task.id) ?? task };
  }
}
