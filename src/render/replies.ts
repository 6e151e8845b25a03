import type { ArgumentProblem, CommandSpec } from "../model/commandSpec.js";
import type { CommandOutcome } from "../model/outcomes.js";
import { positionalLabel, usageLine } from "../model/commandSpec.js";
import { renderAudit } from "./audit.js";
import type { OutgoingMessage } from "../matrix/chat.js";
import { code, escapeHtml, truncate } from "./html.js";
import { renderLookup } from "./lookups.js";
import { renderExtremities } from "./extremities.js";
import { renderReportOutcome } from "./reports.js";
import { renderRetention } from "./retention.js";
import { renderMediaAction } from "./media/mediaActions.js";
import { renderMedia } from "./media/media.js";
import { renderAccountAction } from "./users/restrict.js";
import { renderUser } from "./users/user.js";
import { renderWaveOutcome, waveHeadline } from "./waves.js";
import { renderTakedownBoard, takedownHeadline } from "./users/takedown.js";
import type { WaveView } from "../model/waves.js";
import type { TakedownRecord } from "../model/takedowns.js";
import type { TaskRecord } from "../tasks/types.js";
import { detailLines, joinLines, renderTaskPage, summaryLine, type Line } from "./taskMessages.js";
import { inlineList, listLines, textLine } from "./budget.js";

function message(plain: string, html: string): OutgoingMessage {
  return { plain, html };
}

/** Replies for the outcomes that are not task progress (that is taskMessages.ts). */
export function renderOutcome(outcome: CommandOutcome, prefix: string, now: number): OutgoingMessage | undefined {
  switch (outcome.kind) {
    case "task-started":
      return undefined; // the progress message already answers
    case "task-joined":
      return message(
        `A ${outcome.task.kind} of ${outcome.task.roomLabel} is already in progress as task ${outcome.task.id}; nothing new was started. Follow it with ${prefix}status ${outcome.task.id}.`,
        `A ${escapeHtml(outcome.task.kind)} of ${escapeHtml(outcome.task.roomLabel)} is already in progress as task ${code(outcome.task.id)}; nothing new was started. Follow it with ${code(`${prefix}status ${outcome.task.id}`)}.`,
      );
    case "refused": {
      // A reason may quote the homeserver, whose error texts have no length limit.
      const reason = truncate(outcome.reason, 2_000);
      const hint = outcome.hint === undefined ? "" : ` ${truncate(outcome.hint, 1_000)}`;
      return message(`Not done: ${reason}${hint}`, `<b>Not done</b>: ${escapeHtml(reason)}${escapeHtml(hint)}`);
    }
    case "status-list":
      return renderStatusList(outcome.inFlight, outcome.recent, now, outcome.waves ?? [], outcome.takedowns ?? []);
    case "status-one":
      return outcome.page === undefined ? detailLines(outcome.task, now, prefix) : renderTaskPage(outcome.task, outcome.page, prefix);
    case "help-all":
      return renderHelpAll(outcome.commands, prefix);
    case "help-one":
      return renderHelpOne(outcome.command, prefix);
    case "room-info":
    case "room-list":
    case "room-members":
    case "homeserver-tasks":
    case "room-block":
    case "room-admin-granted":
      return renderLookup(outcome, prefix, now);
    case "audit":
      return renderAudit(outcome);
    case "extremities":
    case "extremities-deleted":
      return renderExtremities(outcome, prefix);
    case "report-list":
    case "report-one":
    case "report-changed":
      return renderReportOutcome(outcome, prefix);
    case "wave-started": // the wave's board already answers
    case "wave-status":
    case "wave-cancelled":
      return renderWaveOutcome(outcome, prefix);
    case "retention-list":
    case "retention-changed":
    case "retention-dry-run":
    case "retention-media-run":
      return renderRetention(outcome, prefix);
    case "media-action":
      return renderMediaAction(outcome, prefix);
    case "media-room":
    case "media-user":
    case "media-file":
    case "media-deleted":
      return renderMedia(outcome);
    case "takedown-started": // the takedown's board already answers
      return undefined;
    case "takedown-status":
      return renderTakedownBoard(outcome.record, prefix, now, outcome.page);
    case "account-action":
      return renderAccountAction(outcome, prefix);
    case "user-look":
    case "user-unknown":
      return renderUser(outcome, now);
  }
}

/** Both lists come ordered by the command: in flight running first, then queued, oldest first; finished newest first. */
function renderStatusList(inFlight: readonly TaskRecord[], recent: readonly TaskRecord[], now: number, waves: readonly WaveView[], takedowns: readonly TakedownRecord[]): OutgoingMessage {
  const lines: Line[] = [];
  if (takedowns.length > 0) {
    lines.push({ plain: `Takedowns running (${takedowns.length}):`, html: `<b>Takedowns running (${takedowns.length}):</b>` });
    lines.push(...listLines(takedowns, takedownHeadline, TAKEDOWN_LIST_LIMITS));
  }
  if (waves.length > 0) {
    lines.push({ plain: `Waves running (${waves.length}):`, html: `<b>Waves running (${waves.length}):</b>` });
    lines.push(...listLines(waves, waveHeadline, STATUS_LIST_LIMITS));
  }
  lines.push({ plain: `In flight (${inFlight.length}):`, html: `<b>In flight (${inFlight.length}):</b>` });
  lines.push(...listLines(inFlight, (task) => summaryLine(task, now), STATUS_LIST_LIMITS));
  lines.push({ plain: `Finished in the last 7 days (${recent.length}):`, html: `<b>Finished in the last 7 days (${recent.length}):</b>` });
  lines.push(...listLines(recent, (task) => summaryLine(task, now), STATUS_LIST_LIMITS));
  const message = joinLines(lines);
  return { ...message, short: joinLines([textLine(`In flight: ${inFlight.length}. Finished in the last 7 days: ${recent.length}.`)]) };
}

/** Each of !status's two lists: 30 lines, 12 KiB. */
const STATUS_LIST_LIMITS = { entries: 30, bytes: 12 * 1024 };
/** Running takedowns are few; their share stays small beside the jobs' lists. */
const TAKEDOWN_LIST_LIMITS = { entries: 10, bytes: 3 * 1024 };

function renderHelpAll(commands: readonly CommandSpec[], prefix: string): OutgoingMessage {
  const plain = commands.map((c) => `${usageLine(c, prefix)}\n    ${c.summary}`);
  const html = commands.map((c) => `<li>${code(usageLine(c, prefix))}<br>${escapeHtml(c.summary)}</li>`);
  return message(
    `Warden commands:\n${plain.join("\n")}\nMore on one: ${prefix}help <command>`,
    `<b>Warden commands</b><ul>${html.join("")}</ul>More on one: ${code(`${prefix}help <command>`)}`,
  );
}

export function renderHelpOne(command: CommandSpec, prefix: string): OutgoingMessage {
  const plain: string[] = [usageLine(command, prefix), command.summary, ...command.details];
  const html: string[] = [code(usageLine(command, prefix)), escapeHtml(command.summary), ...command.details.map(escapeHtml)];
  for (const positional of command.positionals) {
    plain.push(`  ${positionalLabel(positional)}: ${positional.description}`);
    html.push(`${code(positionalLabel(positional))}: ${escapeHtml(positional.description)}`);
  }
  for (const flag of command.flags) {
    const form = flag.kind === "boolean" ? `--${flag.name}` : `--${flag.name} ${flag.valueName ?? "TEXT"}`;
    plain.push(`  ${form}: ${flag.description}`);
    html.push(`${code(form)}: ${escapeHtml(flag.description)}`);
  }
  if (command.examples.length > 0) {
    plain.push("Examples:", ...command.examples.map((e) => `  ${e.replace(/^!/, prefix)}`));
    html.push("Examples:", ...command.examples.map((e) => code(e.replace(/^!/, prefix))));
  }
  return message(plain.join("\n"), html.join("<br>\n"));
}

/** A bad argument: names it, shows what was given (marked), what was expected, and the usage. */
export function renderArgumentProblem(problem: ArgumentProblem, command: CommandSpec, prefix: string): OutgoingMessage {
  const given = problem.given === undefined ? "" : ` (got ${JSON.stringify(truncate(problem.given, 120))})`;
  const usage = usageLine(command, prefix);
  return message(
    `Bad ${problem.argument}${given}: expected ${problem.expected}.\nUsage: ${usage}\nSee ${prefix}help ${command.name}`,
    `<b>Bad ${escapeHtml(problem.argument)}</b>${problem.given === undefined ? "" : ` (got <u>${code(truncate(problem.given, 120))}</u>)`}: expected ${escapeHtml(problem.expected)}.<br>\nUsage: ${code(usage)}<br>\nSee ${code(`${prefix}help ${command.name}`)}`,
  );
}

export function renderUnknownCommand(word: string, suggestion: string | undefined, prefix: string): OutgoingMessage {
  const shown = truncate(word, 40);
  const hint = suggestion === undefined ? "" : ` Did you mean ${prefix}${suggestion}?`;
  return message(
    `Unknown command ${JSON.stringify(shown)}.${hint} ${prefix}help lists the commands.`,
    `Unknown command ${code(shown)}.${escapeHtml(hint)} ${code(`${prefix}help`)} lists the commands.`,
  );
}

export function renderSenderRefused(sender: string): OutgoingMessage {
  return message(
    `Refused: ${sender} is not on Warden's allowlist. Nothing was done.`,
    `<b>Refused</b>: ${escapeHtml(sender)} is not on Warden's allowlist. Nothing was done.`,
  );
}

export function renderEditIgnored(prefix: string): OutgoingMessage {
  return message(
    `Edited commands are never run: send the corrected command as a new message (e.g. ${prefix}help).`,
    `Edited commands are never run: send the corrected command as a new message (e.g. ${code(`${prefix}help`)}).`,
  );
}

export function renderStaleCommand(ageText: string): OutgoingMessage {
  return message(
    `Not run: this command was sent ${ageText} ago, while Warden was not running. Send it again if it is still wanted.`,
    `<b>Not run</b>: this command was sent ${escapeHtml(ageText)} ago, while Warden was not running. Send it again if it is still wanted.`,
  );
}

/** A command a previous run received but stopped before answering, now too old to run. */
export function renderUnansweredStale(ageText: string, limitText: string): OutgoingMessage {
  const text = (age: string, limit: string): string =>
    `this command arrived while Warden was stopping or crashing, before it was answered, and is now ${age} old; commands older than ${limit} are never run. Send it again if it is still wanted.`;
  return message(`Not run: ${text(ageText, limitText)}`, `<b>Not run</b>: ${escapeHtml(text(ageText, limitText))}`);
}

export function renderUnexpectedError(reference: string): OutgoingMessage {
  return message(
    `Something went wrong inside Warden (reference ${reference}); nothing more was done. The log has the details under that reference.`,
    `Something went wrong inside Warden (reference ${code(reference)}); nothing more was done. The log has the details under that reference.`,
  );
}

export function renderTooLong(limit: number): OutgoingMessage {
  return message(`Not run: a command may be at most ${limit} characters.`, `<b>Not run</b>: a command may be at most ${limit} characters.`);
}

export function renderRoomExposed(problems: readonly string[]): OutgoingMessage {
  const list = inlineList(problems, undefined, "; ");
  return message(
    `Warning: this management room is exposed: ${list}. Warden refuses every command until the room is invite-only and its history is not world-readable.`,
    `<b>Warning</b>: this management room is exposed: ${escapeHtml(list)}. Warden refuses every command until the room is invite-only and its history is not world-readable.`,
  );
}

export function renderRoomSafeAgain(): OutgoingMessage {
  return message("The management room is private again; Warden accepts commands.", "The management room is private again; Warden accepts commands.");
}

export function renderExposedRefusal(reason: string): OutgoingMessage {
  return message(
    `Refused: the management room is exposed (${reason}). Make it private first.`,
    `<b>Refused</b>: the management room is exposed (${escapeHtml(reason)}). Make it private first.`,
  );
}

/** A write to Warden's database failed: what was not recorded and why, and what still holds. */
export function renderNotRecorded(problem: { readonly message: string; readonly afterwards: string | undefined }, reference: string): OutgoingMessage {
  const afterwards = problem.afterwards === undefined ? "" : ` ${problem.afterwards}`;
  return message(
    `Failed: Warden ${problem.message} (reference ${reference}).${afterwards}`,
    `<b>Failed</b>: Warden ${escapeHtml(problem.message)} (reference ${code(reference)}).${escapeHtml(afterwards)}`,
  );
}
