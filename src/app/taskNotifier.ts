import type { Logger } from "pino";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import { renderFinished, renderProgress, renderStuck } from "../render/taskMessages.js";
import type { AcceptanceNotifier } from "../tasks/launcher.js";
import type { TaskNotifier } from "../tasks/tracker.js";
import type { TaskRecord } from "../tasks/types.js";
import type { Clock } from "../util/clock.js";

/** Tells the management room about tasks: one progress message edited in place, one final notice. */
export class ChatTaskNotifier implements TaskNotifier, AcceptanceNotifier {
  constructor(
    private readonly chat: ChatSender,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  async accepted(task: TaskRecord): Promise<string | undefined> {
    const sent = await this.chat.send(task.managementRoomId as RoomId, renderProgress(task, this.clock.now()), {
      replyTo: task.commandEventId,
    });
    if (!sent.ok) {
      this.log.error({ taskId: task.id, error: sent.error }, "could not post the progress message");
      return undefined;
    }
    return sent.value;
  }

  async progressed(task: TaskRecord): Promise<void> {
    await this.editProgress(task);
  }

  async finished(task: TaskRecord): Promise<boolean> {
    await this.editProgress(task);
    // The transaction id is fixed per task, so a resend after a crash is dropped by the homeserver.
    const sent = await this.chat.send(task.managementRoomId as RoomId, renderFinished(task, this.clock.now()), {
      replyTo: task.commandEventId,
      transactionId: `warden-final-${task.id}`,
    });
    if (!sent.ok) this.log.error({ taskId: task.id, error: sent.error }, "could not send the final notification");
    return sent.ok;
  }

  async stuck(task: TaskRecord): Promise<void> {
    const sent = await this.chat.send(task.managementRoomId as RoomId, renderStuck(task, this.clock.now()), {
      replyTo: task.commandEventId,
    });
    if (!sent.ok) this.log.error({ taskId: task.id, error: sent.error }, "could not send the stuck warning");
  }

  private async editProgress(task: TaskRecord): Promise<void> {
    if (task.progressEventId === undefined) return;
    const edited = await this.chat.edit(task.managementRoomId as RoomId, task.progressEventId, renderProgress(task, this.clock.now()));
    // A failed edit is cosmetic: the final notification still carries the result.
    if (!edited.ok) this.log.warn({ taskId: task.id, error: edited.error }, "could not edit the progress message");
  }
}
