import type { Logger } from "pino";
import type { AuditSink } from "../audit/auditLog.js";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import { countRooms, describeSelection, failedStep, type WaveView } from "../model/waves.js";
import { renderStepFailures, renderWaveBoard, renderWaveFinished, renderWaveMainPhaseEnded } from "../render/waves.js";
import type { WaveNotifier } from "../tasks/waves/engine.js";
import type { Clock } from "../util/clock.js";

/** Summary tries before Warden gives up on it (logged and written to the audit log), as for a task's final message. */
const SUMMARY_TRIES = 10;

/** Scheduled retention runs carry a stand-in ("retention:<name>:<time>"), not an event to reply to. */
function answersEvent(commandEventId: string): boolean {
  return commandEventId.startsWith("$");
}

/**
 * A wave in the management room: its board, posted as the answer to the command and edited as
 * the wave moves, and its summary, which mentions the requester. A wave Warden started itself
 * (a retention run) has no command to answer: its board stands alone.
 */
export class ChatWaveNotifier implements WaveNotifier {
  private readonly tries = new Map<string, number>();

  constructor(
    private readonly chat: Pick<ChatSender, "send" | "edit">,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Warden's own account: the requester of the waves it starts itself, who is not notified. */
    private readonly selfUserId: string,
    private readonly audit?: AuditSink,
    private readonly prefix = "!",
  ) {}

  async posted(view: WaveView): Promise<string | undefined> {
    const { wave } = view;
    const sent = await this.chat.send(wave.managementRoomId as RoomId, renderWaveBoard(view, this.prefix), answersEvent(wave.commandEventId) ? { replyTo: wave.commandEventId } : {});
    if (!sent.ok) {
      this.log.error({ waveId: wave.id, error: sent.error }, "could not post the wave's board");
      return undefined;
    }
    return sent.value;
  }

  async moved(view: WaveView): Promise<void> {
    const { wave } = view;
    if (wave.boardEventId === undefined) return;
    const edited = await this.chat.edit(wave.managementRoomId as RoomId, wave.boardEventId, renderWaveBoard(view, this.prefix));
    // A failed edit is cosmetic: the summary carries the result, and the next edit catches up.
    if (!edited.ok) this.log.warn({ waveId: wave.id, error: edited.error }, "could not edit the wave's board");
  }

  async finished(view: WaveView): Promise<boolean> {
    const { wave } = view;
    // A wave without a board spoke through its tasks' own final messages: only the record is left,
    // unless a room stopped at a step before its job, which left no task to tell it.
    const untold = wave.board === false && view.rooms.some((room) => failedStep(room) !== undefined);
    if (wave.board === false && !untold) {
      this.record(view);
      return true;
    }
    const tries = (this.tries.get(wave.id) ?? 0) + 1;
    // The transaction id is fixed per wave, so a resend after a crash is dropped by the homeserver.
    const summary = untold ? renderStepFailures(view, this.prefix) : renderWaveFinished(view, this.prefix);
    // A wave Warden started itself (a scheduled retention run) notifies nobody: there is no one who asked.
    const message = wave.requester === this.selfUserId ? { ...summary, mentions: [] } : summary;
    const sent = await this.chat.send(wave.managementRoomId as RoomId, message, {
      ...(answersEvent(wave.commandEventId) ? { replyTo: wave.commandEventId } : {}),
      transactionId: `warden-wave-final-${wave.id}`,
    });
    if (tries === 1) await this.moved(view);
    if (sent.ok || sent.error.kind === "too-large" || tries >= SUMMARY_TRIES) {
      this.tries.delete(wave.id);
      if (!sent.ok) this.log.error({ waveId: wave.id, tries, error: sent.error }, "gave up on the wave's summary: it could not be delivered");
      this.record(view, sent.ok ? undefined : `the summary could not be delivered (${sent.error.detail})`);
      return true;
    }
    this.tries.set(wave.id, tries);
    this.log.warn({ waveId: wave.id, tries, error: sent.error }, "could not send the wave's summary; will try again");
    return false;
  }

  async mainPhaseEnded(view: WaveView): Promise<boolean> {
    const { wave } = view;
    const key = `main ${wave.id}`;
    const tries = (this.tries.get(key) ?? 0) + 1;
    const rendered = renderWaveMainPhaseEnded(view, this.prefix);
    const message = wave.requester === this.selfUserId ? { ...rendered, mentions: [] } : rendered;
    const sent = await this.chat.send(wave.managementRoomId as RoomId, message, {
      ...(answersEvent(wave.commandEventId) ? { replyTo: wave.commandEventId } : {}),
      transactionId: `warden-wave-main-phase-${wave.id}`,
    });
    if (tries === 1) await this.moved(view);
    if (sent.ok || sent.error.kind === "too-large" || tries >= SUMMARY_TRIES) {
      this.tries.delete(key);
      if (!sent.ok) this.log.error({ waveId: wave.id, tries, error: sent.error }, "gave up on the message that the wave's main phase ended");
      return true;
    }
    this.tries.set(key, tries);
    this.log.warn({ waveId: wave.id, tries, error: sent.error }, "could not send the message that the wave's main phase ended; will try again");
    return false;
  }

  private record(view: WaveView, undelivered?: string): void {
    const { wave } = view;
    const main = countRooms(view.rooms, "main", this.clock.now());
    const purge = countRooms(view.rooms, "purge", this.clock.now());
    const counts = `${main.done} done, ${main.failed} failed, ${main.skipped} skipped, ${main.cancelled} not sent${purge.total > 0 ? `; purge phase ${purge.done} done, ${purge.failed} failed, ${purge.cancelled} not sent` : ""}`;
    try {
      this.audit?.record({
        at: this.clock.now(),
        type: "task-finished",
        actor: wave.requester,
        command: `wave ${wave.kind}`,
        taskId: wave.id,
        target: `${describeSelection(wave.selection)} (${main.total} rooms)`,
        outcome: wave.cancelledBy === undefined ? "finished" : `cancelled by ${wave.cancelledBy}`,
        detail: [counts, undelivered].filter((part): part is string => part !== undefined).join("; "),
      });
    } catch (error) {
      this.log.error({ err: error, waveId: wave.id }, "could not append to the audit log");
    }
  }
}
