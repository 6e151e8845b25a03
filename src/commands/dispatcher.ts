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
  renderOutcome,
  renderSenderRefused,
  renderStaleCommand,
  renderTooLong,
  renderUnexpectedError,
  renderUnknownCommand,
} from "../render/replies.js";
import type { Clock } from "../util/clock.js";
import { formatDuration } from "../util/duration.js";
import type { Command } from "./spec.js";
import { closestCommand } from "./table.js";
import { MAX_COMMAND_LENGTH, splitWords } from "./words.js";

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
    if (!(await this.options.handled.claim(event.eventId))) {
      log.info({ eventId: event.eventId }, "command event seen before; not run again");
      return;
    }
    if (this.options.ignoreBefore !== undefined && event.originServerTs < this.options.ignoreBefore) {
      log.info({ eventId: event.eventId, sender: event.sender }, "command from before startup without a sync token; not run");
      return;
    }
    if (!isAllowed(event.sender, this.options.allowlist)) {
      log.warn({ eventId: event.eventId, sender: event.sender }, "refused a sender not on the allowlist");
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
    try {
      const outcome = await command.execute(parsed.value, {
        requester: event.sender as UserId,
        commandEventId: event.eventId,
        managementRoomId: this.options.managementRoomId,
        prefix,
      });
      log.info({ eventId: event.eventId, command: command.name, outcome: outcome.kind }, "command finished");
      const reply = renderOutcome(outcome, prefix, this.options.clock.now());
      if (reply !== undefined) await this.reply(event, reply);
    } catch (error) {
      const reference = randomBytes(4).toString("hex");
      log.error({ eventId: event.eventId, command: command.name, reference, err: error }, "command failed unexpectedly");
      await this.reply(event, renderUnexpectedError(reference));
    }
  }

  private async reply(event: IncomingEvent, message: OutgoingMessage): Promise<void> {
    const sent = await this.options.chat.send(this.options.managementRoomId, message, { replyTo: event.eventId });
    if (!sent.ok) this.options.log.error({ eventId: event.eventId, error: sent.error }, "could not send a reply");
  }
}
