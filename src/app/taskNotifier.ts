import type { Logger } from "pino";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import { renderFinished, renderProgress, renderStuck } from "../render/taskMessages.js";
import type { AcceptanceNotifier } from "../tasks/launcher.js";
import type { TaskNotifier } from "../tasks/tracker.js";
import type { TaskRecord } from "../tasks/types.js";
import type { Clock } from "../util/clock.js";
import type { AuditSink } from "../audit/auditLog.js";

/**
 * How often a final notification is tried before Warden gives up on it. The tracker spaces the
 * tries with its back-off (about two minutes for all of them); 429s are waited out inside each try.
 */
export const FINAL_NOTIFICATION_TRIES = 10;

/**
 * Tells the management room about tasks: one progress message edited in place, one final
 * notice. Progress edits never hold up tracking: while one edit is still being sent (for
 * instance waiting out a 429), later status changes replace each other and only the newest
 * is sent next, so a rate-limited room gets one merged edit instead of a backlog.
 */
export class ChatTaskNotifier implements TaskNotifier, AcceptanceNotifier {
  private readonly editsInFlight = new Map<string, Promise<void>>();
  private readonly pendingEdits = new Map<string, TaskRecord>();
  /** Final notifications tried and not yet delivered, per task (in memory: a restart starts again). */
  private readonly finalTries = new Map<string, number>();

  constructor(
    private readonly chat: ChatSender,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly audit?: AuditSink,
    /** The command prefix, for the hint that names !status. */
    private readonly prefix = "!",
  ) {}

  async accepted(task: TaskRecord): Promise<string | undefined> {
    const sent = await this.chat.send(task.managementRoomId as RoomId, renderProgress(task, this.clock.now(), this.prefix), {
      replyTo: task.commandEventId,
    });
    if (!sent.ok) {
      this.log.error({ taskId: task.id, error: sent.error }, "could not post the progress message");
      return undefined;
    }
    return sent.value;
  }

  progressed(task: TaskRecord): Promise<void> {
    this.queueEdit(task);
    return Promise.resolve();
  }

  /**
   * See TaskNotifier.finished: true once delivered, or once given up for good (refused as too
   * large even in its shorter form, or undelivered after FINAL_NOTIFICATION_TRIES tries), which
   * is logged as an error and written to the audit log. The progress message gets its final
   * edit on the first try only, so a room that refuses the notification is not edited again
   * at every retry.
   */
  async finished(task: TaskRecord): Promise<boolean> {
    const tries = (this.finalTries.get(task.id) ?? 0) + 1;
    // The transaction id is fixed per task, so a resend after a crash is dropped by the homeserver.
    const sent = await this.chat.send(task.managementRoomId as RoomId, renderFinished(task, this.clock.now(), this.prefix), {
      replyTo: task.commandEventId,
      transactionId: `warden-final-${task.id}`,
    });
    // The requester hears first; the progress message's last edit follows (once, not at every
    // try). It replaces any edit still waiting and goes out after the one in flight. Sending it
    // before the final message cost a whole round trip of lag on a busy homeserver (bench:lag).
    if (tries === 1) this.queueEdit(task);
    if (sent.ok) {
      this.finalTries.delete(task.id);
      this.recordFinish(task);
      return true;
    }
    if (sent.error.kind === "too-large" || tries >= FINAL_NOTIFICATION_TRIES) {
      this.finalTries.delete(task.id);
      this.log.error({ taskId: task.id, tries, error: sent.error }, "gave up on the final notification: it could not be delivered");
      this.recordFinish(task, `the final notification could not be delivered after ${tries} ${tries === 1 ? "try" : "tries"} (${sent.error.detail})`);
      return true;
    }
    this.finalTries.set(task.id, tries);
    this.log.warn({ taskId: task.id, tries, error: sent.error }, "could not send the final notification; will try again");
    return false;
  }

  async stuck(task: TaskRecord): Promise<void> {
    const sent = await this.chat.send(task.managementRoomId as RoomId, renderStuck(task, this.clock.now()), {
      replyTo: task.commandEventId,
    });
    if (!sent.ok) this.log.error({ taskId: task.id, error: sent.error }, "could not send the stuck warning");
  }

  private recordFinish(task: TaskRecord, undelivered?: string): void {
    const detail = [task.reason, undelivered].filter((part): part is string => part !== undefined).join("; ");
    try {
      this.audit?.record({
        at: this.clock.now(),
        type: "task-finished",
        actor: task.requester,
        command: task.kind,
        taskId: task.id,
        target: task.roomLabel,
        outcome: task.status,
        ...(detail === "" ? {} : { detail }),
      });
    } catch (error) {
      this.log.error({ err: error, taskId: task.id }, "could not append to the audit log");
    }
  }

  private queueEdit(task: TaskRecord): void {
    if (task.progressEventId === undefined) return;
    this.pendingEdits.set(task.id, task);
    if (this.editsInFlight.has(task.id)) return;
    const drain = async (): Promise<void> => {
      for (let next = this.pendingEdits.get(task.id); next !== undefined; next = this.pendingEdits.get(task.id)) {
        this.pendingEdits.delete(task.id);
        await this.editProgress(next);
      }
      this.editsInFlight.delete(task.id);
    };
    this.editsInFlight.set(task.id, drain());
  }

  private async editProgress(task: TaskRecord): Promise<void> {
    if (task.progressEventId === undefined) return;
    const edited = await this.chat.edit(task.managementRoomId as RoomId, task.progressEventId, renderProgress(task, this.clock.now(), this.prefix));
    // A failed edit is cosmetic: the final notification still carries the result.
    if (!edited.ok) this.log.warn({ taskId: task.id, error: edited.error }, "could not edit the progress message");
  }
}
