import type { Logger } from "pino";
import { answerTransactionId, type ChatSender } from "../../matrix/chat.js";
import type { RoomId } from "../../matrix/ids.js";
import { renderPreview, type PreviewState } from "../../render/previews.js";
import type { ConfirmationBook, PendingConfirmation } from "./confirmations.js";
import type { Command, CommandContext } from "../spec.js";
import type { ConfirmationKind, Preview, Words } from "../../model/commandSpec.js";
import type { CommandOutcome } from "../../model/outcomes.js";
import type { FlagSpec } from "../../model/commandSpec.js";

/** Added by the table to every command with a preview. */
export const CONFIRMATION_FLAGS: readonly FlagSpec[] = [
  { name: "yes", kind: "boolean", description: "skip the preview and run at once" },
  { name: "dry-run", kind: "boolean", description: "show the preview and do nothing" },
];

export const CONFIRM_REACTIONS: ReadonlySet<string> = new Set(["✅", "✅\uFE0F", "✔️", "✔"]);

interface Shown {
  readonly preview: Preview;
  readonly record: Record<string, unknown>;
}

/**
 * Stands between parsing and running a destructive command: shows what it would do and runs
 * it only when its requester confirms in time (✅ on the preview, or !confirm <id>).
 */
export class ConfirmationFlow {
  private readonly shown = new Map<string, Shown>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly book: ConfirmationBook,
    private readonly confirmBefore: ReadonlySet<ConfirmationKind>,
    private readonly chat: Pick<ChatSender, "send" | "edit">,
    private readonly managementRoomId: RoomId,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {
    // Expiry is announced by editing the preview; a check every few seconds is plenty.
    this.timer = setInterval(() => void this.expire(), 5_000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * Returns an outcome when the command must not run now (a preview was posted, or the preview
   * itself was refused); undefined when it runs at once.
   */
  async gate(command: Command, args: unknown, words: Words, context: CommandContext, force = false): Promise<"shown" | CommandOutcome | undefined> {
    if (command.confirmation === undefined) return undefined;
    const dryRun = words.flags.get("dry-run") === true;
    if (dryRun && command.confirmation.executesDryRun === true) return undefined;
    const kind = command.confirmation.kind(args);
    const wanted = (kind !== undefined && this.confirmBefore.has(kind)) || command.confirmation.always?.(args) === true;
    // `force`: a reaction on a report card started it, and nothing destructive runs on one click.
    const skip = words.flags.get("yes") === true && command.confirmation.unskippable !== true;
    const ask = force || (wanted && !skip);
    if (!dryRun && !ask) return undefined;
    const preview = await command.confirmation.preview(args, context);
    if (!preview.ok) return preview.error;
    const record = { type: "preview", command: command.name, requester: context.requester, command_event_id: context.commandEventId };
    if (dryRun) {
      await this.post(renderPreview(preview.value, { state: "dry-run" }, { ...record, dry_run: true }), context.commandEventId);
      return "shown";
    }
    const pending = this.book.open(command, args, context);
    const withId = { ...record, confirmation_id: pending.id, expires_at: pending.expiresAt };
    const state: PreviewState = { state: "waiting", id: pending.id, windowMs: this.book.windowMs, prefix: this.prefix, requester: context.requester };
    const eventId = await this.post(renderPreview(preview.value, state, withId), context.commandEventId);
    if (eventId === undefined) {
      // Nobody saw the id, so nobody can confirm it: keeping it would only hold memory until it expires.
      this.book.cancel(pending);
      return { kind: "refused", reason: "the preview could not be posted, so nothing waits for confirmation and nothing was done.", hint: "Send the command again." };
    }
    this.book.attachPreview(pending, eventId);
    this.shown.set(pending.id, { preview: preview.value, record: withId });
    this.log.info({ confirmationId: pending.id, command: command.name, requester: context.requester }, "preview shown; waiting for confirmation");
    return "shown";
  }

  /** A ✅ reaction: the preview it points at, if any. */
  confirmationForPreview(previewEventId: string): string | undefined {
    return this.book.byPreviewEvent(previewEventId)?.id;
  }

  /** Runs the waiting command if `by` may confirm it now; otherwise says why not. */
  async confirm(id: string, by: string): Promise<CommandOutcome> {
    const taken = this.book.take(id, by);
    if (!taken.ok) {
      const refusal = taken.error;
      switch (refusal.kind) {
        case "unknown":
          return { kind: "refused", reason: `there is no preview ${id} waiting for confirmation (previews do not survive a restart).` };
        case "expired":
          return { kind: "refused", reason: `preview ${id} has expired; nothing was done.`, hint: "Send the command again." };
        case "not-requester":
          this.log.warn({ confirmationId: id, by, requester: refusal.pending.context.requester }, "confirmation refused: not the requester");
          return { kind: "refused", reason: `only ${refusal.pending.context.requester}, who asked for it, can confirm ${id}.` };
        case "already-confirmed":
          return { kind: "refused", reason: `${id} was already confirmed; it runs once.` };
      }
    }
    const pending = taken.value;
    this.log.info({ confirmationId: id, command: pending.command.name, by }, "confirmed");
    await this.editPreview(pending, { state: "confirmed", by });
    return pending.command.execute(pending.args, pending.context);
  }

  private async expire(): Promise<void> {
    for (const pending of this.book.expireDue()) {
      this.log.info({ confirmationId: pending.id }, "preview expired");
      await this.editPreview(pending, { state: "expired", windowMs: this.book.windowMs });
    }
  }

  private async editPreview(pending: PendingConfirmation, state: PreviewState): Promise<void> {
    const shown = this.shown.get(pending.id);
    if (shown === undefined || pending.previewEventId === undefined) return;
    if (state.state !== "waiting") this.shown.delete(pending.id);
    const edited = await this.chat.edit(this.managementRoomId, pending.previewEventId, renderPreview(shown.preview, state, { ...shown.record, state: state.state }));
    if (!edited.ok) this.log.warn({ confirmationId: pending.id, error: edited.error }, "could not edit the preview");
  }

  private async post(message: Parameters<ChatSender["send"]>[1], replyTo: string): Promise<string | undefined> {
    // The preview is the command's answer: the same transaction id as any other answer to it.
    const sent = await this.chat.send(this.managementRoomId, message, { replyTo, transactionId: answerTransactionId(replyTo) });
    if (!sent.ok) {
      this.log.error({ error: sent.error }, "could not post a preview");
      return undefined;
    }
    return sent.value;
  }
}
