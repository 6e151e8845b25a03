import type { OutgoingMessage } from "../../matrix/chat.js";
import type { Preview, PreviewLine } from "../../model/commandSpec.js";
import {
  MEDIA_DELETE_LIMIT,
  type MediaDeletionPlan,
  type MediaDeletionReport,
  type MediaFile,
  type MediaNotDeleted,
  type MediaOutcome,
  type MediaPage,
  type MediaSize,
  type MediaUserScope,
} from "../../model/media.js";
import { formatUtc } from "../../util/duration.js";
import { inlineList, LONG_LIST_LIMITS, listLines, recordEntries, textLine, type Line, type ListLimits } from "../budget.js";
import { code, escapeHtml, truncate } from "../html.js";

/** Matrix IDs and content URIs are at most 255 bytes; a longer one is cut like any untrusted text. */
export const MAX_ID = 255;
/** A list inside one line of a reply or preview: a share of the message, however many files. */
const INLINE_LIMITS: ListLimits = { entries: 20, bytes: 4 * 1024 };
/** A deletion's files left alone, per kind (protected, gone, failed): a few reasons, each with its first files. */
const REASON_LIMITS: ListLimits = { entries: 5, bytes: 6 * 1024 };
const FILES_PER_REASON: ListLimits = { entries: 10, bytes: 1024 };

const UNITS = ["KiB", "MiB", "GiB", "TiB"] as const;

/** "512 B", "12.3 KiB", "4.0 MiB": binary units, one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  let value = bytes / 1024;
  let unit = 0;
  // Rounded as shown, so 1,048,575 bytes reads "1.0 MiB" rather than "1024.0 KiB".
  while (Number(value.toFixed(1)) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit] ?? "TiB"}`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Types and names come from whoever uploaded the file: one line, bounded. */
function untrusted(text: string, max = 80): string {
  return truncate(text.replace(/\s+/g, " ").trim(), max);
}

/** The lines of a media message as one message; `short` for where a short form is wanted. */
export function joined(lines: readonly Line[], short?: readonly Line[], record?: Record<string, unknown>): OutgoingMessage {
  const join = (some: readonly Line[]): OutgoingMessage => ({ plain: some.map((line) => line.plain).join("\n"), html: some.map((line) => line.html).join("<br>\n") });
  return { ...join(lines), ...(short === undefined ? {} : { short: join(short) }), ...(record === undefined ? {} : { record }) };
}

function heading(text: string): Line {
  return { plain: text, html: `<b>${escapeHtml(text)}</b>` };
}

/** The facts of a file after its URI, in the order the moderator scans them. */
function facts(file: MediaFile, withUploader: boolean): string[] {
  if (file.unread !== undefined) return [`details not read: ${untrusted(file.unread, 300)}`];
  return [
    ...(file.bytes === undefined ? [] : [formatBytes(file.bytes)]),
    ...(file.type === undefined ? [] : [untrusted(file.type, 60)]),
    ...(withUploader && file.uploader !== undefined ? [truncate(file.uploader, MAX_ID)] : []),
    ...(file.uploadedAt === undefined ? [] : [formatUtc(file.uploadedAt)]),
    ...(file.quarantinedBy === undefined ? [] : [`quarantined by ${truncate(file.quarantinedBy, MAX_ID)}`]),
    ...(file.protected === true ? ["protected"] : []),
  ];
}

/** " · 2.0 KiB · image/png · @abuse:example.org · …": what follows a file's URI wherever a media message names one. */
function factsAfter(file: MediaFile, withUploader: boolean): string {
  const rest = facts(file, withUploader);
  return rest.length === 0 ? "" : ` · ${rest.join(" · ")}`;
}

/** One file as plain text, its URI then its facts: a preview line's value (!quarantine). */
export function fileText(file: MediaFile): string {
  return `${truncate(file.uri, MAX_ID)}${factsAfter(file, true)}`;
}

/** One file as a line of a list (!media). */
function fileLine(file: MediaFile, withUploader: boolean): Line {
  const uri = truncate(file.uri, MAX_ID);
  const after = factsAfter(file, withUploader);
  return { plain: `- ${uri}${after}`, html: `• ${code(uri)}${escapeHtml(after)}` };
}

/** A total size as the media replies give it: bytes, and how much of the set it covers. */
export function sizeText(size: MediaSize): string {
  if (!size.read) return `total size unknown: ${truncate(size.why, 1_000)}`;
  const bounded = size.boundedAt === undefined ? "" : ` in the first ${size.boundedAt} (Warden adds up at most ${size.boundedAt} files' sizes)`;
  const unknown = size.unknown === 0 ? "" : `, not counting ${plural(size.unknown, "file")} whose size could not be read`;
  return `${formatBytes(size.bytes)}${bounded}${unknown}`;
}

/** The page's files, then how to get the next page (or that this is the last). */
function pageLines(listing: MediaPage, files: number, order: string, withUploader: boolean): Line[] {
  if (files === 0) return [];
  const first = (listing.page - 1) * listing.pageSize + 1;
  const last = first + listing.entries.length - 1;
  const lines: Line[] = [textLine(`Files ${first}-${last} of ${files} (page ${listing.page} of ${listing.pages}), ${order}:`)];
  lines.push(...listLines(listing.entries, (file) => fileLine(file, withUploader), LONG_LIST_LIMITS));
  if (listing.nextPageCommand !== undefined) {
    lines.push({ plain: `Next page: ${listing.nextPageCommand}`, html: `Next page: ${code(listing.nextPageCommand)}` });
  } else if (listing.pages > 1) {
    lines.push(textLine("That is the last page."));
  }
  return lines;
}

/** Replies for !media: a room's or a user's files, one file, or what a deletion did. */
export function renderMedia(outcome: MediaOutcome): OutgoingMessage {
  switch (outcome.kind) {
    case "media-room": {
      const label = truncate(outcome.label, MAX_ID);
      const files = outcome.local + outcome.remote;
      const title =
        files === 0
          ? heading(`Media of ${label}: no files (no message of the room names one).`)
          : heading(
              `Media of ${label}: ${plural(files, "file")} (${outcome.local} of this server, ${outcome.remote} of other servers), ${sizeText(outcome.size)}.`,
            );
      return joined([title, ...pageLines(outcome.listing, files, "this server's first, then other servers', each newest message first", true)], [title]);
    }
    case "media-user": {
      const title =
        outcome.uploads === 0
          ? heading(`Uploads of ${outcome.userId}: none.`)
          : heading(`Uploads of ${outcome.userId}: ${plural(outcome.uploads, "file")}, ${sizeText(outcome.size)}.`);
      return joined([title, ...pageLines(outcome.listing, outcome.uploads, "newest first", false)], [title]);
    }
    case "media-file":
      return renderFile(outcome.file, outcome.local);
    case "media-deleted":
      return renderDeletion(outcome);
  }
}

function renderFile(file: MediaFile, local: boolean): OutgoingMessage {
  const uri = truncate(file.uri, MAX_ID);
  const origin = /^mxc:\/\/([^/]+)\//.exec(file.uri)?.[1] ?? "another server";
  const line = (label: string, value: string): Line => textLine(`${label}: ${value}`);
  return joined([
    { plain: `File ${uri} (${local ? "uploaded to this server" : `a file of ${origin}, cached here`})`, html: `<b>File</b> ${code(uri)} (${escapeHtml(local ? "uploaded to this server" : `a file of ${origin}, cached here`)})` },
    line("Size", file.bytes === undefined ? "not reported" : `${formatBytes(file.bytes)} (${file.bytes} bytes)`),
    line("Type", file.type === undefined ? "not reported" : untrusted(file.type, 120)),
    ...(local ? [line("Uploaded by", file.uploader === undefined ? "not reported" : truncate(file.uploader, MAX_ID))] : []),
    line(local ? "Uploaded" : "Cached", file.uploadedAt === undefined ? "not reported" : formatUtc(file.uploadedAt)),
    line("Quarantined", file.quarantinedBy === undefined ? "no" : `yes, by ${truncate(file.quarantinedBy, MAX_ID)}`),
    // Only local files can be protected: Synapse reports nothing for a remote one.
    ...(local ? [line("Protected from quarantine", file.protected === true ? "yes (Warden never deletes it)" : "no")] : []),
  ]);
}

function sized(uri: string, bytes: number | undefined): string {
  return bytes === undefined ? uri : `${uri} (${formatBytes(bytes)})`;
}

/** Files left alone, grouped by why, so a thousand files failed for one reason read as one line. */
function notDeletedLines(files: readonly MediaNotDeleted[], heading: (why: string, count: number) => string, other: string): Line[] {
  const byWhy = new Map<string, string[]>();
  for (const file of files) {
    const uris = byWhy.get(file.why);
    if (uris === undefined) byWhy.set(file.why, [file.uri]);
    else uris.push(file.uri);
  }
  const line = ([why, uris]: [string, string[]]): Line => textLine(`${heading(untrusted(why, 700), uris.length)}: ${inlineList(uris, FILES_PER_REASON)}`);
  return listLines([...byWhy], line, REASON_LIMITS, textLine(other), "more reasons");
}

/** Uploads beyond what one deletion looks at, in one line however many users: they stay. */
function leftText(users: readonly MediaUserScope[]): string | undefined {
  const left = users.filter((user) => user.looked < user.uploads);
  if (left.length === 0) return undefined;
  const parts = left.map((user) => `${plural(user.uploads - user.looked, user.looked === 0 ? "upload" : "older upload")} of ${user.userId}`);
  return `${inlineList(parts, INLINE_LIMITS)}: not in this deletion (at most ${MEDIA_DELETE_LIMIT} files per command); send the command again for them`;
}

function renderDeletion(report: MediaDeletionReport): OutgoingMessage {
  const count = report.deleted.length;
  const title = heading(count === 0 ? "Deleted no file." : `Deleted ${plural(count, "file")} (${formatBytes(report.bytes)}).`);
  const lines: Line[] = [title];
  if (count > 0) lines.push(textLine(`Deleted: ${inlineList(report.deleted.map((file) => sized(file.uri, file.bytes)), INLINE_LIMITS)}`));
  lines.push(
    ...notDeletedLines(report.protectedFiles, (why, n) => `Kept, ${why} (${n})`, "(files kept)"),
    ...notDeletedLines(report.gone, (why, n) => `Not deleted, ${why} (${n})`, "(files not deleted)"),
    ...notDeletedLines(report.failed, (why, n) => `Failed (${n}): ${why}`, "(files that failed)"),
  );
  const left = leftText(report.users);
  if (left !== undefined) lines.push(textLine(`Left for later: ${left}.`));
  const counts = textLine(
    `Not deleted: ${report.protectedFiles.length} protected, ${report.gone.length} not on this server any more, ${report.failed.length} failed.`,
  );
  const record = {
    type: "media-deleted",
    deleted: count,
    bytes: report.bytes,
    protected: report.protectedFiles.length,
    gone: report.gone.length,
    failed: report.failed.length,
    deleted_media: recordEntries(report.deleted.map((file) => file.uri)),
  };
  return joined(lines, [title, counts], record);
}

function optionalLine(label: string, value: string | undefined): PreviewLine[] {
  return value === undefined ? [] : [{ label, value }];
}

/** What a !media delete will do, shown before anything is deleted. */
export function deletionPreview(plan: MediaDeletionPlan): Preview {
  const bytes = plan.files.reduce((sum, { file }) => sum + (file.bytes ?? 0), 0);
  const unknown = plan.files.filter(({ file }) => file.bytes === undefined).length;
  const files = plural(plan.files.length, "file");
  const lines: PreviewLine[] = [
    { label: "Deletes", value: `${files}, ${formatBytes(bytes)}${unknown === 0 ? "" : ` (and ${unknown} of unknown size)`}, from this homeserver's disk, for good` },
    ...(plan.users.length === 0
      ? []
      : [{ label: "Uploads of", value: inlineList(plan.users.map((user) => `${user.userId} (${plural(user.uploads, "file")})`), INLINE_LIMITS) }]),
    { label: "Files", value: inlineList(plan.files.map(({ file }) => sized(file.uri, file.bytes)), INLINE_LIMITS) },
    ...(plan.protectedFiles.length === 0
      ? []
      : [{ label: "Kept, protected", value: `${plural(plan.protectedFiles.length, "file")}: ${inlineList(plan.protectedFiles.map((file) => file.uri), INLINE_LIMITS)}` }]),
    ...(plan.notHeld.length === 0 ? [] : [{ label: "Not on this server", value: inlineList(plan.notHeld, INLINE_LIMITS) }]),
    ...optionalLine("Left for later", leftText(plan.users)),
    { label: "Messages that show them", value: "stay, without the file" },
    { label: "A file uploaded after this preview", value: "stays: only the files counted here are deleted" },
    { label: "A file protected since this preview", value: "stays: each file is looked up again just before it is deleted" },
  ];
  return { title: `delete ${files} (${formatBytes(bytes)}) of this homeserver`, lines };
}
