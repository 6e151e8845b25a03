import { randomBytes } from "node:crypto";
import pLimit from "p-limit";
import type { Logger } from "pino";
import { isAllowed, type AllowlistEntry } from "../access/allowlist.js";
import { classifyEvent, type EventFacts } from "../access/commandEvent.js";
import type { ChatSender, OutgoingMessage } from "../matrix/chat.js";
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
  renderUnexpectedError,
  renderUnknownCommand,
} from "../render/replies.js";
import type { Clock } from "../util/clock.js";
import { formatDuration } from "../util/duration.js";
import type { Command, CommandContext } from "./spec.js";
import type { CommandOutcome } from "../model/outcomes.js";
import { CONFIRM_REACTIONS, type ConfirmationFlow } from "./confirmation/confirmationFlow.js";
import type { AuditEntry, AuditSink } from "../audit/auditLog.js";
import { StoreError } from "../store/errors.js";
import { closestCommand } from "./table.js";
import { MAX_COMMAND_LENGTH, splitWords } from "./parsing/words.js";

/** What still holds when an audit entry could not be stored. */
const AUDIT_FALLBACK = "This room's history still shows what happened; Warden's audit log will not.";

export interface IncomingEvent extends EventFacts {
  readonly eventId: string;
  readonly originServerTs: number;
}

export interface DispatcherOptions {
  readonly table: readonly Command[];
  readonly prefix: string;
  readonly allowlist: readonly AllowlistEntry[];
  readonly managementRoomId: RoomId;
  readonly selfUserId: string;
  readonly chat: Pick<ChatSender, "send">;
  readonly handled: { claim(eventId: string): Promise<boolean> };
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
}

/**
 * Takes each event from the management room through the same steps: is it a command, was it
 * seen before, may this sender command Warden, does it parse, then run it and answer.
 */
export class CommandDispatcher {
  private readonly limit;

  constructor(private readonly options: DispatcherOptions) {
    this.limit = pLimit(options.concurrency);
  }

  /** Resolves when the event has been fully handled (answered or ignored). Never throws. */
  handle(event: IncomingEvent): Promise<void> {
    return this.limit(() => this.handleNow(event)).catch((error: unknown) => {
      this.options.log.error({ eventId: event.eventId, err: error }, "handling an event failed");
    });
  }

  private async handleNow(event: IncomingEvent): Promise<void> {
    const { log, prefix } = this.options;
    const candidate = classifyEvent(event, {
      managementRoomId: this.options.managementRoomId,
      selfUserId: this.options.selfUserId,
      prefix,
    });
    if (candidate.kind === "ignore") {
      log.trace({ eventId: event.eventId, reason: candidate.reason }, "event ignored");
      return;
    }
    const claimed = await this.claim(event);
    if (claimed === undefined) return;
    if (!claimed) {
      log.info({ eventId: event.eventId }, "command event seen before; not run again");
      return;
    }
    if (this.options.ignoreBefore !== undefined && event.originServerTs < this.options.ignoreBefore) {
      log.info({ eventId: event.eventId, sender: event.sender }, "command from before startup without a sync token; not run");
      return;
    }
    if (!isAllowed(event.sender, this.options.allowlist)) {
      log.warn({ eventId: event.eventId, sender: event.sender }, "refused a sender not on the allowlist");
      this.record({ type: "refused-sender", actor: event.sender, eventId: event.eventId });
      await this.reply(event, renderSenderRefused(event.sender));
      return;
    }
    const age = this.options.clock.now() - event.originServerTs;
    if (age > this.options.maxCommandAgeMs) {
      log.info({ eventId: event.eventId, ageMs: age }, "stale command not run");
      await this.reply(event, renderStaleCommand(formatDuration(age)));
      return;
    }
    if (candidate.kind === "edit") {
      log.info({ eventId: event.eventId, sender: event.sender }, "edited command not run");
      await this.reply(event, renderEditIgnored(prefix));
      return;
    }
    const exposed = this.options.refusalReason?.();
    if (exposed !== undefined) {
      log.warn({ eventId: event.eventId, sender: event.sender }, "command refused: management room exposed");
      await this.reply(event, renderExposedRefusal(exposed));
      return;
    }
    if (candidate.text.length > MAX_COMMAND_LENGTH) {
      await this.reply(event, renderTooLong(MAX_COMMAND_LENGTH));
      return;
    }
    await this.run(event, candidate.text);
  }

  private async run(event: IncomingEvent, text: string): Promise<void> {
    const { log, prefix, table } = this.options;
    const [word = "", ...rest] = text.split(/\s+/);
    const name = word.toLowerCase();
    const command = table.find((candidate) => candidate.name === name);
    if (command === undefined) {
      await this.reply(event, renderUnknownCommand(word, closestCommand(word, table), prefix));
      return;
    }
    const words = splitWords(text.slice(word.length).trim(), command);
    const parsed = words.ok ? command.parse(words.value) : words;
    if (!parsed.ok) {
      log.info({ eventId: event.eventId, command: command.name, argument: parsed.error.argument }, "bad arguments");
      await this.reply(event, renderArgumentProblem(parsed.error, command, prefix));
      return;
    }
    log.info({ eventId: event.eventId, command: command.name, sender: event.sender, words: rest.length }, "running command");
    const context: CommandContext = {
      requester: event.sender as UserId,
      commandEventId: event.eventId,
      managementRoomId: this.options.managementRoomId,
      prefix,
    };
    await this.guarded(event, command.name, async () => {
      const gated = words.ok ? await this.options.confirmations?.gate(command, parsed.value, words.value, context) : undefined;
      return gated ?? (await command.execute(parsed.value, context));
    });
  }

  /**
   * A ✅ reaction to a preview confirms it, exactly like !confirm <id> from the same person.
   * Other reactions, and reactions to anything else, are ignored.
   */
  handleReaction(event: IncomingEvent): Promise<void> {
    return this.limit(async () => {
      const confirmations = this.options.confirmations;
      if (confirmations === undefined || event.roomId !== this.options.managementRoomId || event.sender === this.options.selfUserId) return;
      const target = reactionTarget(event.content);
      if (target === undefined || !CONFIRM_REACTIONS.has(target.key)) return;
      const id = confirmations.confirmationForPreview(target.eventId);
      if (id === undefined || !(await this.options.handled.claim(event.eventId))) return;
      const asReply = { ...event, eventId: target.eventId };
      if (!isAllowed(event.sender, this.options.allowlist)) {
        this.options.log.warn({ eventId: event.eventId, sender: event.sender }, "refused a reaction from a sender not on the allowlist");
        this.record({ type: "refused-sender", actor: event.sender, eventId: event.eventId });
        await this.reply(asReply, renderSenderRefused(event.sender));
        return;
      }
      // The same guard as a typed !confirm: nothing destructive runs from an exposed room.
      const exposed = this.options.refusalReason?.();
      if (exposed !== undefined) {
        this.options.log.warn({ eventId: event.eventId, sender: event.sender }, "reaction refused: management room exposed");
        await this.reply(asReply, renderExposedRefusal(exposed));
        return;
      }
      await this.guarded(asReply, "confirm", () => confirmations.confirm(id, event.sender), event.sender);
    }).catch((error: unknown) => {
      this.options.log.error({ eventId: event.eventId, err: error }, "handling a reaction failed");
    });
  }

  /** Runs an executor, answers with its outcome, records it, and turns a thrown bug into a referenced reply. */
  private async guarded(event: IncomingEvent, commandName: string, run: () => Promise<CommandOutcome | "shown">, actor = event.sender): Promise<void> {
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
        ...(outcome !== "shown" && outcome.kind === "refused" ? { detail: outcome.reason } : {}),
      });
      if (outcome === "shown") return;
      const reply = renderOutcome(outcome, prefix, this.options.clock.now());
      if (reply !== undefined) {
        await this.reply(event, { ...reply, record: reply.record ?? { type: "reply", command: commandName, requester: actor, outcome: kind } });
      }
    } catch (error) {
      const reference = randomBytes(4).toString("hex");
      log.error({ eventId: event.eventId, command: commandName, reference, err: error }, "command failed unexpectedly");
      this.record({ type: "command", actor, command: commandName, eventId: event.eventId, outcome: "error", detail: reference });
      await this.reply(event, error instanceof StoreError ? renderNotRecorded(error, reference) : renderUnexpectedError(reference));
    }
  }

  /**
   * Records the event as taken. If that fails the command must not run (a redelivery would run
   * it again): the sender is told why, and undefined is returned.
   */
  private async claim(event: IncomingEvent): Promise<boolean | undefined> {
    try {
      return await this.options.handled.claim(event.eventId);
    } catch (error) {
      const reference = randomBytes(4).toString("hex");
      this.options.log.error({ eventId: event.eventId, reference, err: error }, "could not record the command event; not run");
      const failure = error instanceof StoreError ? error : new StoreError(`command event ${event.eventId} as handled`, String(error));
      await this.reply(event, renderNotRecorded(failure.withAfterwards("The command was not run; send it again once that is fixed."), reference));
      return undefined;
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

  private async reply(event: IncomingEvent, message: OutgoingMessage): Promise<void> {
    const sent = await this.options.chat.send(this.options.managementRoomId, message, { replyTo: event.eventId });
    if (!sent.ok) this.options.log.error({ eventId: event.eventId, error: sent.error }, "could not send a reply");
  }
}

function reactionTarget(content: unknown): { eventId: string; key: string } | undefined {
  if (content === null || typeof content !== "object" || !Object.prototype.hasOwnProperty.call(content, "m.relates_to")) return undefined;
  const relation = (content as Record<string, unknown>)["m.relates_to"];
  if (relation === null || typeof relation !== "object") return undefined;
  const { rel_type: type, event_id: eventId, key } = relation as Record<string, unknown>;
  return type === "m.annotation" && typeof eventId === "string" && typeof key === "string" ? { eventId, key } : undefined;
}
