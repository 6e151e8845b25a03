import type { PreviewLine } from "../../model/commandSpec.js";
import type { RetentionMedia, RetentionMediaPart, RetentionMediaPlan, RetentionMediaRun } from "../../model/retention.js";
import { formatUtc } from "../../util/duration.js";
import { textLine, type Line } from "../budget.js";
import { truncate } from "../html.js";

/**
 * The media step of a retention run, in words: shared by the run's board and summary
 * (render/waves.ts), !retention and its previews and dry runs (render/retention.ts).
 */

/** A failure reason may name the worker routes (MEDIA_NOT_SERVED): long, but the moderator needs all of it. */
const MAX_REASON = 700;
/** Ages as the config wrote them: "365d" (the config allows no more), cut in case a caller passes more. */
const MAX_AGE = 40;

function files(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? "" : "s"}`;
}

/** Which local files: "last used before <time>, larger than N bytes, profile pictures and room avatars kept". */
function localRule(beforeTs: number, plan: Pick<RetentionMediaPlan, "keepProfiles" | "sizeOver">): string {
  const size = plan.sizeOver > 0 ? `, larger than ${plan.sizeOver} bytes` : "";
  const profiles = plan.keepProfiles ? "profile pictures and room avatars kept" : "profile pictures and room avatars too";
  return `last used before ${formatUtc(beforeTs)}${size}; ${profiles}`;
}

function remoteRule(beforeTs: number): string {
  return `last used before ${formatUtc(beforeTs)}`;
}

function partText(part: RetentionMediaPart, noun: string, verb: string, rule: string, maxReason: number): string {
  if (part.files.ok) return `${files(part.files.value, noun)} ${verb} (${rule})`;
  return `${noun}s not ${verb} (${rule}): ${truncate(part.files.error, maxReason)}`;
}

/** "12 local files deleted (...); 40 cached remote files dropped (...)", or each part's failure and why. */
export function mediaRunText(run: RetentionMediaRun, maxReason = MAX_REASON): string {
  const parts: string[] = [];
  if (run.local !== undefined) parts.push(partText(run.local, "local file", "deleted", localRule(run.local.beforeTs, run), maxReason));
  if (run.remote !== undefined) parts.push(partText(run.remote, "cached remote file", "dropped", remoteRule(run.remote.beforeTs), maxReason));
  return parts.join("; ");
}

/**
 * The line a run's report gives its media step; it replaces the reminder that purging leaves
 * media alone. A board repeats it on every page of !status: it passes a shorter `maxReason`.
 */
export function mediaRunLine(run: RetentionMediaRun, maxReason = MAX_REASON): Line {
  return textLine(`Media (server-wide, ${formatUtc(run.at)}): ${mediaRunText(run, maxReason)}.`);
}

/** The step without its rules, for !retention: "12 local files deleted, 40 cached remote files dropped". */
export function mediaTallyText(run: RetentionMediaRun): string {
  const tally = (part: RetentionMediaPart, noun: string, verb: string): string =>
    part.files.ok ? `${files(part.files.value, noun)} ${verb}` : `${noun}s not ${verb}: ${truncate(part.files.error, MAX_REASON)}`;
  const parts: string[] = [];
  if (run.local !== undefined) parts.push(tally(run.local, "local file", "deleted"));
  if (run.remote !== undefined) parts.push(tally(run.remote, "cached remote file", "dropped"));
  return parts.join(", ");
}

/** What a run would delete, by rule: Synapse counts files only as it deletes them. */
export function mediaPlanLines(plan: RetentionMediaPlan): PreviewLine[] {
  const lines: PreviewLine[] = [];
  if (plan.local !== undefined) {
    lines.push({ label: "Local media", value: `files uploaded to this server, ${localRule(plan.local, plan)}; protected and quarantined files kept` });
  }
  if (plan.remote !== undefined) {
    lines.push({ label: "Remote media", value: `this server's cached copies of other servers' files, ${remoteRule(plan.remote)} (their servers keep the originals)` });
  }
  lines.push({
    label: "Media",
    value:
      "deleted server-wide, whatever rooms the policy selects; used means downloaded, or uploaded if never downloaded. Synapse gives no count in advance: the run's report says how many files went",
  });
  return lines;
}

/** The policy's media rule with its ages (for !retention, where no run's times apply yet). */
export function mediaPolicyText(media: RetentionMedia): string {
  const parts: string[] = [];
  if (media.local !== undefined) {
    const size = media.sizeOver > 0 ? `, larger than ${media.sizeOver} bytes` : "";
    parts.push(`local files unused for ${truncate(media.local.text, MAX_AGE)}${size} deleted (${media.keepProfiles ? "profile pictures and room avatars kept" : "profile pictures and room avatars too"})`);
  }
  if (media.remote !== undefined) parts.push(`cached remote files unused for ${truncate(media.remote.text, MAX_AGE)} dropped`);
  return `media, server-wide: ${parts.join(", ")}`;
}
