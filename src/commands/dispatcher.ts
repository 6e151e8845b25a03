import { randomBytes } from "node:crypto";
import { takedownAuditDetail } from "../render/users/takedown.js";
import pLimit from "p-limit";
import type { Logger } from "pino";
import { isAllowed, type AllowlistEntry } from "../access/allowlist.js";
import { classifyEvent, type CommandCandidate, type EventFacts } from "../access/commandEvent.js";
import { answerTransactionId, type ChatSender, type OutgoingMessage } from "../matrix/chat.js";
import type { RoomId, UserId } from "../matrix/ids.js";
import {
  renderArgumentProblem,
  renderEditIgnored,
  renderExposedRefusal,
  renderNotRecorded,
  renderOutcome,
  renderSenderRefused,
  renderStaleCommand,
  renderTooLong,
  renderUnansweredStale,
  renderUnexpectedError,
  renderUnknownCommand,
} from "../render/replies.js";
import type { Clock } from "../util/clock.js";
import { formatDuration } from "../util/duration.js";
import type { Command, CommandContext } from "./spec.js";
import type { CommandOutcome } from "../model/outcomes.js";
import { CONFIRM_REACTIONS, type ConfirmationFlow } from "./confirmation/confirmationFlow.js";
import type { AuditEntry, AuditSink } from "../audit/auditLog.js";
import type { CommandJournal, ReceivedEvent } from "../model/commandJournal.js";
import { StoreError } from "../store/errors.js";
import { closestCommand } from "./table.js";
import { MAX_COMMAND_LENGTH, splitWords } from "./parsing/words.js";
import { describeSelection } from "../model/waves.js";
import { mediaActionAudit } from "../model/mediaActions.js";
import { accountActionAudit } from "../model/restrictions.js";
import { reportLabel } from "../model/reports.js";

/** What still holds when an audit entry could not be stored. */
const AUDIT_FALLBACK = "This room's history still shows what happened; Warden's audit log will not.";

export interface IncomingEvent extends EventFacts, ReceivedEvent {}

export type { CommandJournal } from "../model/commandJournal.js";

export interface DispatcherOptions {
  readonly table: readonly Command[];
  readonly prefix: string;
  readonly allowlist: readonly AllowlistEntry[];
  readonly managementRoomId: RoomId;
  readonly selfUserId: string;
  readonly chat: Pick<ChatSender, "send">;
  readonly journal: CommandJournal;
  /** True when a task was started for this command event: the task's own messages answer it. */
  readonly hasTaskFor?: (commandEventId: string) => boolean;
  /** How long to wait before the one retry of a failed "received" write. */
  readonly retryReceiveAfterMs?: number;
  readonly clock: Clock;
  readonly log: Logger;
  /** Events sent before this are backlog (no sync token at startup) and are never run. */
  readonly ignoreBefore?: number;
  /** Commands older than this when they arrive were sent while Warden was down: answered, not run. */
  readonly maxCommandAgeMs: number;
  readonly concurrency: number;
  /** Previews and confirmations of destructive commands; without it every command runs at once. */
  readonly confirmations?: Pick<ConfirmationFlow, "gate" | "confirm" | "confirmationForPreview">;
  readonly audit?: AuditSink;
  /** Why commands are refused right now (an exposed management room), or undefined. */
  readonly refusalReason?: () => string | undefined;
  /**
   * The command a reaction on a report card stands for (the card names each emoji), or
   * undefined. Such a command runs like a typed one, but always through its preview.
   */
  readonly cardAction?: (cardEventId: string, key: string, by: string) => string | undefined;
}

/** How a command left the dispatcher: whether its answer (or, by design, no answer) is settled. */
type Handled = "answered" | "unanswered";

/**
 * Takes each event from the management room through the same steps: is it a command, was it
 * seen before, may this sender command Warden, does it parse, then run it and answer.
 *
 * Exactly one answer per command, whatever stops Warden: each command is recorded as received
 * the moment the sync delivers it (outside the concurrency limit, so a slow command never holds
 * up the record of the next), and the sync position is stored only once every command it
 * delivered is recorded (whenRecorded). A command is marked answered once its answer is in the
 * room. What a crash leaves received-but-unanswered, the next start finishes (recover). Every
 * answer to a command is sent with a transaction id derived from the command's event id, so if
 * Warden dies between sending an answer and marking it, the homeserver drops the second send.
 */
export class CommandDispatcher {
  private readonly limit;
  /** Records of "received" still being written; the sync position waits for them. */
  private readonly recording = new Set<Promise<unknown>>();
  /** Every command taken and not finished, for the drain on shutdown. */
  private readonly working = new Set<Promise<unknown>>();
  /** A command that could be neither recorded nor answered: the sync position must stay before it. */
  private lost: string | undefined;
  private taking = true;

  constructor(private readonly options: DispatcherOptions) {
    this.limit = pLimit(options.concurrency);
  }

  /** Resolves when the event has been fully handled (answered or ignored). Never throws. */
  handle(event: IncomingEvent): Promise<void> {
    const { log } = this.options;
    const candidate = this.classify(event);
    if (candidate.kind === "ignore") {
      log.trace({ eventId: event.eventId, reason: candidate.reason }, "event ignored");
      return Promise.resolve();
    }
    if (!this.taking) {
      // Not recorded, and the sync position is no longer stored: the next start receives it again.
      log.info({ eventId: event.eventId }, "stopping; command left for the next start");
      return Promise.resolve();
    }
    const received = this.receive(event);
    this.track(this.recording, received);
    const done = received.then((fresh) => (fresh ? this.limit(() => this.settle(event, candidate, false)) : undefined));
    this.track(this.working, done);
    return done.catch((error: unknown) => {
      log.error({ eventId: event.eventId, err: error }, "handling an event failed");
    });
  }

  /**
   * Resolves once every command delivered so far is recorded as received (or, when that write
   * failed, answered with the reason). Rejects when one could be neither: the sync position
   * must then never pass it, so that the next start receives it again.
   */
  async whenRecorded(): Promise<void> {
    while (this.recording.size > 0) await Promise.allSettled([...this.recording]);
    if (this.lost !== undefined) throw new Error(`command ${this.lost} was neither recorded nor answered; the sync position stays before it`);
  }

  /**
   * Finishes what an earlier run left: commands it received and never answered. A command that
   * started a task is answered by the task (the tracker resumes it); any other is handled again
   * now, which means run if it is still young enough, and otherwise told it is too old.
   * Resolves once they are queued; handle() calls made afterwards queue behind them.
   */
  async recover(): Promise<number> {
    const { journal, log } = this.options;
    const pending = await journal.unanswered();
    for (const event of pending) {
      if (this.options.hasTaskFor?.(event.eventId) === true) {
        log.info({ eventId: event.eventId }, "command of an earlier run is answered by its task");
        await journal.answered(event.eventId);
        continue;
      }
      const candidate = this.classify(event);
      log.info({ eventId: event.eventId, sender: event.sender }, "answering a command an earlier run received but did not answer");
      const done = this.limit(() => this.settle(event, candidate, true)).catch((error: unknown) => {
        log.error({ eventId: event.eventId, err: error }, "handling a recovered command failed");
      });
      this.track(this.working, done);
    }
    return pending.length;
  }

  /** Stops taking commands: later events are left unrecorded for the next start. */
  stopTaking(): void {
    this.taking = false;
  }

  /** Resolves when every command taken so far is finished. */
  async idle(): Promise<void> {
    while (this.working.size > 0) await Promise.allSettled([...this.working]);
  }

  /** Commands taken and not yet finished. */
  inFlight(): number {
    return this.working.size;
  }

  private classify(event: IncomingEvent): CommandCandidate {
    return classifyEvent(event, { managementRoomId: this.options.managementRoomId, selfUserId: this.options.selfUserId, prefix: this.options.prefix });
  }

  private track(set: Set<Promise<unknown>>, promise: Promise<unknown>): void {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    set.add(settled);
    void settled.then(() => set.delete(settled));
  }

  /**
   * Records the command as received; true when it is new and must be handled. A write that
   * fails twice is answered with the reason and the command is not run: running it without a
   * record could run it again after a restart.
   */
  private async receive(event: IncomingEvent): Promise<boolean> {
    const { journal, log } = this.options;
    let failure: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, this.options.retryReceiveAfterMs ?? 250));
      try {
        const fresh = await journal.receive(event);
        if (!fresh) log.info({ eventId: event.eventId }, "command event seen before; not run again");
        return fresh;
      } catch (error) {
        failure = error;
      }
    }
    const reference = randomBytes(4).toString("hex");
    log.error({ eventId: event.eventId, reference, err: failure }, "could not record a command as received; not run");
    const problem = failure instanceof StoreError ? failure : new StoreError(`command event ${event.eventId} as received`, failure instanceof Error ? failure.message : String(failure));
    const told = renderNotRecorded(problem.withAfterwards("The command was not run; send it again once that is fixed."), reference);
    // A transaction id of its own: should a restart ever run this command after all, its answer must not be dropped as a repeat of this one.
    if (!(await this.reply(event, told, null))) {
      this.lost ??= event.eventId;
      throw new Error(`command ${event.eventId} could not be recorded nor answered`);
    }
    return false;
  }

  /** Handles a received command and marks it answered once its answer is in the room. */
  private async settle(event: IncomingEvent, candidate: CommandCandidate, recovered: boolean): Promise<void> {
    const handled = await this.handleNow(event, candidate, recovered);
    if (handled === "unanswered") return; // left received: the next start answers it
    try {
      await this.options.journal.answered(event.eventId);
    } catch (error) {
      // The answer is in the room; after a restart it is sent again with the same transaction id, which the homeserver drops.
      this.options.log.error({ eventId: event.eventId, err: error }, "could not record a command as answered");
    }
  }

  private async handleNow(event: IncomingEvent, candidate: CommandCandidate, recovered: boolean): Promise<Handled> {
    const { log, prefix } = this.options;
    if (candidate.kind === "ignore") return "answered";
    // A recovered command was received live by an earlier run, whatever its sync token says now.
    if (!recovered && this.options.ignoreBefore !== undefined && event.originServerTs < this.options.ignoreBefore) {
      log.info({ eventId: event.eventId, sender: event.sender }, "command from before startup without a sync token; not run");
      return "answered";
    }
    if (!isAllowed(event.sender, this.options.allowlist)) {
      log.warn({ eventId: event.eventId, sender: event.sender }, "refused a sender not on the allowlist");
      this.record({ type: "refused-sender", actor: event.sender, eventId: event.eventId });
      return this.answer(event, renderSenderRefused(event.sender));
    }
    const age = this.options.clock.now() - event.originServerTs;
    if (age > this.options.maxCommandAgeMs) {
      log.info({ eventId: event.eventId, ageMs: age, recovered }, "stale command not run");
      const ageText = formatDuration(age);
      return this.answer(event, recovered ? renderUnansweredStale(ageText, formatDuration(this.options.maxCommandAgeMs)) : renderStaleCommand(ageText));
    }
    if (candidate.kind === "edit") {
      log.info({ eventId: event.eventId, sender: event.sender }, "edited command not run");
      return this.answer(event, renderEditIgnored(prefix));
    }
    const exposed = this.options.refusalReason?.();
    if (exposed !== undefined) {
      log.warn({ eventId: event.eventId, sender: event.sender }, "command refused: management room exposed");
      return this.answer(event, renderExposedRefusal(exposed));
    }
    if (candidate.text.length > MAX_COMMAND_LENGTH) return this.answer(event, renderTooLong(MAX_COMMAND_LENGTH));
    return this.run(event, candidate.text);
  }

  private async run(event: IncomingEvent, text: string, forcePreview = false): Promise<Handled> {
    const { log, prefix, table } = this.options;
    const [word = "", ...rest] = text.split(/\s+/);
    const name = word.toLowerCase();
    const command = table.find((candidate) => candidate.name === name);
    if (command === undefined) return this.answer(event, renderUnknownCommand(word, closestCommand(word, table), prefix));
    const words = splitWords(text.slice(word.length).trim(), command);
    const parsed = words.ok ? command.parse(words.value) : words;
    if (!parsed.ok) {
      log.info({ eventId: event.eventId, command: command.name, argument: parsed.error.argument }, "bad arguments");
      return this.answer(event, renderArgumentProblem(parsed.error, command, prefix));
    }
    log.info({ eventId: event.eventId, command: command.name, sender: event.sender, words: rest.length }, "running command");
    const context: CommandContext = {
      requester: event.sender as UserId,
      commandEventId: event.eventId,
      managementRoomId: this.options.managementRoomId,
      prefix,
    };
    return this.guarded(event, command.name, async () => {
      const gated = words.ok ? await this.options.confirmations?.gate(command, parsed.value, words.value, context, forcePreview) : undefined;
      return gated ?? (await command.execute(parsed.value, context));
    });
  }

  /**
   * A ✅ reaction to a preview confirms it, exactly like !confirm <id> from the same person.
   * Other reactions, and reactions to anything else, are ignored.
   */
  handleReaction(event: IncomingEvent): Promise<void> {
    if (!this.taking) return Promise.resolve();
    const done = this.limit(async () => {
      const confirmations = this.options.confirmations;
      if (confirmations === undefined || event.roomId !== this.options.managementRoomId || event.sender === this.options.selfUserId) return;
      const target = reactionTarget(event.content);
      if (target === undefined) return;
      const action = this.options.cardAction?.(target.eventId, target.key, event.sender);
      if (action !== undefined) {
        await this.runCardAction(event, target.eventId, action);
        return;
      }
      if (!CONFIRM_REACTIONS.has(target.key)) return;
      const id = confirmations.confirmationForPreview(target.eventId);
      if (id === undefined || !(await this.options.journal.claim(event.eventId))) return;
      // The answer replies to the preview; its transaction id is the reaction's own.
      const asReply = { ...event, eventId: target.eventId };
      if (!isAllowed(event.sender, this.options.allowlist)) {
        this.options.log.warn({ eventId: event.eventId, sender: event.sender }, "refused a reaction from a sender not on the allowlist");
        this.record({ type: "refused-sender", actor: event.sender, eventId: event.eventId });
        await this.answer(asReply, renderSenderRefused(event.sender), event.eventId);
        return;
      }
      // The same guard as a typed !confirm: nothing destructive runs from an exposed room.
      const exposed = this.options.refusalReason?.();
      if (exposed !== undefined) {
        this.options.log.warn({ eventId: event.eventId, sender: event.sender }, "reaction refused: management room exposed");
        await this.answer(asReply, renderExposedRefusal(exposed), event.eventId);
        return;
      }
      await this.guarded(asReply, "confirm", () => confirmations.confirm(id, event.sender), event.sender, event.eventId);
    });
    this.track(this.working, done);
    return done.catch((error: unknown) => {
      this.options.log.error({ eventId: event.eventId, err: error }, "handling a reaction failed");
    });
  }

  /** A reaction on a report card: the command it names, from an allowlisted sender, once, always previewed. */
  private async runCardAction(event: IncomingEvent, cardEventId: string, text: string): Promise<void> {
    if (!(await this.options.journal.claim(event.eventId))) return;
    // Answers reply to the card; their transaction id is the reaction's own.
    const asReply = { ...event, eventId: cardEventId };
    if (!isAllowed(event.sender, this.options.allowlist)) {
      this.options.log.warn({ eventId: event.eventId, sender: event.sender }, "refused a reaction from a sender not on the allowlist");
      this.record({ type: "refused-sender", actor: event.sender, eventId: event.eventId });
      await this.answer(asReply, renderSenderRefused(event.sender), event.eventId);
      return;
    }
    const exposed = this.options.refusalReason?.();
    if (exposed !== undefined) {
      await this.answer(asReply, renderExposedRefusal(exposed), event.eventId);
      return;
    }
    this.options.log.info({ eventId: event.eventId, cardEventId, sender: event.sender }, "report card reaction");
    // Answers (a preview, or a refusal) reply to the card the reaction was on.
    await this.run(asReply, text.slice(this.options.prefix.length), true);
  }

  /** Runs an executor, answers with its outcome, records it, and turns a thrown bug into a referenced reply. */
  private async guarded(
    event: IncomingEvent,
    commandName: string,
    run: () => Promise<CommandOutcome | "shown">,
    actor = event.sender,
    answering = event.eventId,
  ): Promise<Handled> {
    const { log, prefix } = this.options;
    try {
      const outcome = await run();
      const kind = outcome === "shown" ? "preview" : outcome.kind;
      log.info({ eventId: event.eventId, command: commandName, outcome: kind }, "command finished");
      this.record({
        type: "command",
        actor,
        command: commandName,
        eventId: event.eventId,
        outcome: kind,
        ...(outcome !== "shown" && "task" in outcome ? { taskId: outcome.task.id, target: outcome.task.roomLabel } : {}),
        ...(outcome !== "shown" && outcome.kind === "wave-started"
          ? { taskId: outcome.wave.id, target: `${describeSelection(outcome.wave.selection)} (${outcome.wave.leftOut.length} left out)` }
          : {}),
        ...(outcome !== "shown" && outcome.kind === "takedown-started"
          ? { taskId: outcome.record.id, target: outcome.record.users.map((user) => user.userId).join(", "), detail: takedownAuditDetail(outcome.record) }
          : {}),
        ...(outcome !== "shown" && outcome.kind === "report-changed" ? { target: `report ${reportLabel(outcome.report)}`, detail: outcome.change } : {}),
        ...(outcome !== "shown" && outcome.kind === "refused" ? { detail: outcome.reason } : {}),
        ...(outcome !== "shown" && outcome.kind === "media-action" ? mediaActionAudit(outcome) : {}),
        ...(outcome !== "shown" && outcome.kind === "account-action" ? accountActionAudit(outcome) : {}),
      });
      // The preview is the answer (the confirmation flow posted it), and a started task answers with its own messages.
      if (outcome === "shown") return "answered";
      const reply = renderOutcome(outcome, prefix, this.options.clock.now());
      if (reply === undefined) return "answered";
      return await this.answer(event, { ...reply, record: reply.record ?? { type: "reply", command: commandName, requester: actor, outcome: kind } }, answering);
    } catch (error) {
      const reference = randomBytes(4).toString("hex");
      log.error({ eventId: event.eventId, command: commandName, reference, err: error }, "command failed unexpectedly");
      this.record({ type: "command", actor, command: commandName, eventId: event.eventId, outcome: "error", detail: reference });
      return this.answer(event, error instanceof StoreError ? renderNotRecorded(error, reference) : renderUnexpectedError(reference), answering);
    }
  }

  private record(entry: Omit<AuditEntry, "at">): void {
    try {
      this.options.audit?.record({ at: this.options.clock.now(), ...entry });
    } catch (error) {
      // The room's history stays the audit trail even if the database cannot be written.
      const reference = randomBytes(4).toString("hex");
      this.options.log.error({ err: error, reference }, "could not append to the audit log");
      if (error instanceof StoreError) {
        void this.options.chat.send(this.options.managementRoomId, renderNotRecorded(error.withAfterwards(AUDIT_FALLBACK), reference));
      }
    }
  }

  private async answer(event: IncomingEvent, message: OutgoingMessage, answering = event.eventId): Promise<Handled> {
    return (await this.reply(event, message, answering)) ? "answered" : "unanswered";
  }

  /**
   * Replies to `event`. The transaction id is derived from the event being answered (null: a
   * fresh one), so the homeserver keeps at most one answer to it even when a restart sends it again.
   */
  private async reply(event: IncomingEvent, message: OutgoingMessage, answering: string | null = event.eventId): Promise<boolean> {
    const sent = await this.options.chat.send(this.options.managementRoomId, message, {
      replyTo: event.eventId,
      ...(answering === null ? {} : { transactionId: answerTransactionId(answering) }),
    });
    if (!sent.ok) this.options.log.error({ eventId: event.eventId, error: sent.error }, "could not send a reply");
    return sent.ok;
  }
}

function reactionTarget(content: unknown): { eventId: string; key: string } | undefined {
  if (content === null || typeof content !== "object" || !Object.prototype.hasOwnProperty.call(content, "m.relates_to")) return undefined;
  const relation = (content as Record<string, unknown>)["m.relates_to"];
  if (relation === null || typeof relation !== "object") return undefined;
  const { rel_type: type, event_id: eventId, key } = relation as Record<string, unknown>;
  return type === "m.annotation" && typeof eventId === "string" && typeof key === "string" ? { eventId, key } : undefined;
}
