import type { Preview } from "../model/commandSpec.js";
import type { OutgoingMessage } from "../matrix/chat.js";
import { formatDuration } from "../util/duration.js";
import { listLines, type ListLimits } from "./budget.js";
import { code, escapeHtml } from "./html.js";

/** A preview's lines are few, but a value may itself be a list (a redaction's rooms): most of the budget. */
const PREVIEW_LIMITS: ListLimits = { entries: 50, bytes: 24 * 1024 };

export type PreviewState =
  | { readonly state: "waiting"; readonly id: string; readonly windowMs: number; readonly prefix: string; readonly requester: string }
  | { readonly state: "dry-run" }
  | { readonly state: "confirmed"; readonly by: string }
  | { readonly state: "expired"; readonly windowMs: number };

/** A preview of a destructive command: what it would do, then what happens next. */
export function renderPreview(preview: Preview, state: PreviewState, record: Record<string, unknown>): OutgoingMessage {
  const full = previewMessage(preview.title, preview.lines, state, record);
  // The shorter form drops the details but keeps what the moderator must do (or what happened).
  return { ...full, short: previewMessage(preview.title, [], state, record) };
}

function previewMessage(title: string, lines: Preview["lines"], state: PreviewState, record: Record<string, unknown>): OutgoingMessage {
  const plain: string[] = [`Preview: ${title}`];
  const html: string[] = [`<b>Preview</b>: ${escapeHtml(title)}`];
  for (const line of listLines(lines, (entry) => ({ plain: `${entry.label}: ${entry.value}`, html: `${escapeHtml(entry.label)}: ${escapeHtml(entry.value)}` }), PREVIEW_LIMITS)) {
    plain.push(line.plain);
    html.push(line.html);
  }
  switch (state.state) {
    case "waiting": {
      const within = formatDuration(state.windowMs);
      plain.push(`Nothing is done yet. ${state.requester}: react with ✅ to this message, or send ${state.prefix}confirm ${state.id}, within ${within}.`);
      html.push(
        `<b>Nothing is done yet.</b> ${escapeHtml(state.requester)}: react with ✅ to this message, or send ${code(`${state.prefix}confirm ${state.id}`)}, within ${escapeHtml(within)}.`,
      );
      break;
    }
    case "dry-run":
      plain.push("Dry run: nothing was done.");
      html.push("<b>Dry run</b>: nothing was done.");
      break;
    case "confirmed":
      plain.push(`Confirmed by ${state.by}; running.`);
      html.push(`<b>Confirmed</b> by ${escapeHtml(state.by)}; running.`);
      break;
    case "expired":
      plain.push(`Expired: not confirmed within ${formatDuration(state.windowMs)}; nothing was done. Send the command again if it is still wanted.`);
      html.push(`<b>Expired</b>: not confirmed within ${escapeHtml(formatDuration(state.windowMs))}; nothing was done. Send the command again if it is still wanted.`);
      break;
  }
  return { plain: plain.join("\n"), html: html.join("<br>\n"), record };
}
