import type { Logger } from "pino";
import type { AuditSink } from "../audit/auditLog.js";
import type { ChatSender } from "../matrix/chat.js";
import type { RoomId } from "../matrix/ids.js";
import { renderRetention } from "../render/retention.js";
import { mediaTallyText } from "../render/media/retentionMedia.js";
import type { MediaStepReport, MediaStepReporter } from "../retention/media.js";

/**
 * A retention run's media step, told to the management room when nothing else tells it (see
 * MediaStepReport.announce), and written to the audit log always: deleted media cannot be
 * brought back, and a media-only policy's steps leave no wave behind to read them from.
 */
export class ChatMediaStepReporter implements MediaStepReporter {
  constructor(
    private readonly chat: Pick<ChatSender, "send">,
    private readonly managementRoomId: RoomId,
    private readonly log: Logger,
    private readonly audit?: AuditSink,
    private readonly prefix = "!",
  ) {}

  async mediaStepEnded(report: MediaStepReport): Promise<void> {
    const { policy, run } = report;
    this.record(report);
    if (!report.announce) return;
    const message = renderRetention({ kind: "retention-media-run", policy, media: run, ...(report.noWave === undefined ? {} : { noWave: report.noWave }) }, this.prefix);
    // A notice: nobody asked for a scheduled run, so it notifies nobody.
    const sent = await this.chat.send(this.managementRoomId, message, { transactionId: `warden-retention-media-${policy}-${run.at}` });
    if (!sent.ok) this.log.error({ policy, error: sent.error }, "could not post a retention run's media report");
  }

  private record(report: MediaStepReport): void {
    const { run } = report;
    const failed = [run.local, run.remote].some((part) => part !== undefined && !part.files.ok);
    try {
      this.audit?.record({
        at: run.at,
        type: "task-finished",
        actor: report.requester,
        command: "retention media",
        target: `the whole server's media (retention policy ${report.policy})`,
        outcome: failed ? "failed in part" : "finished",
        detail: mediaTallyText(run),
      });
    } catch (error) {
      this.log.error({ err: error, policy: report.policy }, "could not append to the audit log");
    }
  }
}
