import type { Logger } from "pino";
import type { AuditSink } from "../audit/auditLog.js";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import type { TakedownRecord } from "../model/takedowns.js";
import { renderTakedownBoard, renderTakedownFinished, takedownAuditDetail } from "../render/users/takedown.js";
import type { TakedownNotifier } from "../tasks/takedowns/runner.js";
import type { Clock } from "../util/clock.js";

/** Final-message tries before Warden gives up on it (logged and written to the audit log), as for a wave's summary. */
const FINAL_TRIES = 10;

/** A takedown in the management room: its board, answering the command and edited as it moves, and its final message. */
export class ChatTakedownNotifier implements TakedownNotifier {
  private readonly tries = new Map<string, number>();

  constructor(
    private readonly chat: Pick<ChatSender, "send" | "edit">,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly audit?: AuditSink,
    private readonly prefix = "!",
  ) {}

  async posted(record: TakedownRecord): Promise<string | undefined> {
    const sent = await this.chat.send(record.managementRoomId as RoomId, renderTakedownBoard(record, this.prefix, this.clock.now()), {
      replyTo: record.commandEventId,
      transactionId: `warden-takedown-board-${record.id}`,
    });
    if (!sent.ok) {
      this.log.error({ takedownId: record.id, error: sent.error }, "could not post the takedown's board");
      return undefined;
    }
    return sent.value;
  }

  async moved(record: TakedownRecord): Promise<void> {
    if (record.boardEventId === undefined) return;
    const edited = await this.chat.edit(record.managementRoomId as RoomId, record.boardEventId, renderTakedownBoard(record, this.prefix, this.clock.now()));
    // A failed edit is cosmetic: the final message carries the result.
    if (!edited.ok) this.log.warn({ takedownId: record.id, error: edited.error }, "could not edit the takedown's board");
  }

  async finished(record: TakedownRecord): Promise<boolean> {
    const tries = (this.tries.get(record.id) ?? 0) + 1;
    // The transaction id is fixed per takedown, so a resend after a crash is dropped by the homeserver.
    const sent = await this.chat.send(record.managementRoomId as RoomId, renderTakedownFinished(record, this.prefix, this.clock.now()), {
      replyTo: record.commandEventId,
      transactionId: `warden-takedown-final-${record.id}`,
    });
    if (tries === 1) await this.moved(record);
    if (sent.ok || sent.error.kind === "too-large" || tries >= FINAL_TRIES) {
      this.tries.delete(record.id);
      if (!sent.ok) this.log.error({ takedownId: record.id, tries, error: sent.error }, "gave up on the takedown's final message");
      this.record(record, sent.ok ? undefined : `the final message could not be delivered (${sent.error.detail})`);
      return true;
    }
    this.tries.set(record.id, tries);
    this.log.warn({ takedownId: record.id, tries, error: sent.error }, "could not send the takedown's final message; will try again");
    return false;
  }

  private record(record: TakedownRecord, undelivered?: string): void {
    try {
      this.audit?.record({
        at: this.clock.now(),
        type: "task-finished",
        actor: record.requester,
        command: "takedown",
        taskId: record.id,
        target: record.users.map((user) => user.userId).join(", "),
        outcome: "finished",
        detail: [takedownAuditDetail(record), undelivered].filter((part): part is string => part !== undefined).join("; "),
      });
    } catch (error) {
      this.log.error({ err: error, takedownId: record.id }, "could not append to the audit log");
    }
  }
}
