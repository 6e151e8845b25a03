import pLimit from "p-limit";
import { parseMxc, type Mxc, type UserId } from "../../matrix/ids.js";
import type { MediaFile, MediaPage, MediaSize } from "../../model/media.js";
import type { CommandOutcome, Refusal } from "../../model/outcomes.js";
import type { RoomArgument } from "../parsing/arguments.js";
import type { MediaTarget } from "../parsing/mediaTargets.js";
import { resolveRoom } from "../parsing/targets.js";
import type { CommandContext } from "../spec.js";
import { failsEveryCall, fileOf, findFile, MEDIA_CALLS_PARALLEL, notHeldText, USER_MEDIA_PAGE, userMediaRefusal, type MediaAdmin, type MediaDependencies } from "./files.js";

/** Files a page of !media shows: each line is long (URI, size, type, uploader, time, state). */
export const MEDIA_PAGE_SIZE = 20;

/**
 * Files whose sizes are added up, at most. A room's list can name tens of thousands of files and
 * has no sizes, so each size is a request of its own; a user's list has sizes, 100 a request.
 */
export const SIZE_READS = 500;

export interface LookRequest {
  readonly target: MediaTarget;
  /** The target as the moderator typed it, for the next-page command. */
  readonly text: string;
  readonly page: number;
}

/** !media <room|user|mxc>: read-only; nothing is fetched but the homeserver's records of the files. */
export function lookAtMedia(request: LookRequest, context: CommandContext, dependencies: MediaDependencies): Promise<CommandOutcome> {
  const { target } = request;
  switch (target.kind) {
    case "room":
      return lookAtRoom(target.room, request, context, dependencies);
    case "user":
      return lookAtUser(target.userId, request, context, dependencies);
    case "mxc":
      return lookAtFile(target.mxc, target.text, dependencies);
  }
}

function refused(reason: string, hint?: string): Refusal {
  return { kind: "refused", reason, ...(hint === undefined ? {} : { hint }) };
}

function pageCount(files: number): number {
  return Math.max(1, Math.ceil(files / MEDIA_PAGE_SIZE));
}

/** A page past the last: how many there are, and the command for the last one. */
function pastLast(request: LookRequest, files: number, whose: string, prefix: string): Refusal {
  const pages = pageCount(files);
  if (files === 0) return refused(`there is no page ${request.page}: ${whose} has no media files.`);
  return refused(
    `there is no page ${request.page}: ${files === 1 ? "the 1 file" : `the ${files} files`} of ${whose} make${files === 1 ? "s" : ""} ${pages} page${pages === 1 ? "" : "s"} of ${MEDIA_PAGE_SIZE}.`,
    `${prefix}media ${request.text} --page ${pages} shows the last.`,
  );
}

function listing(request: LookRequest, files: number, entries: readonly MediaFile[], prefix: string): MediaPage {
  const pages = pageCount(files);
  return {
    page: request.page,
    pages,
    pageSize: MEDIA_PAGE_SIZE,
    entries,
    ...(request.page < pages ? { nextPageCommand: `${prefix}media ${request.text} --page ${request.page + 1}` } : {}),
  };
}

function sizeOf(files: readonly (MediaFile | undefined)[], total: number): MediaSize {
  let bytes = 0;
  let unknown = 0;
  for (const file of files) {
    if (file?.bytes === undefined) unknown++;
    else bytes += file.bytes;
  }
  return { read: true, bytes, unknown, ...(total > SIZE_READS ? { boundedAt: SIZE_READS } : {}) };
}

function unique(uris: readonly string[]): string[] {
  return [...new Set(uris)];
}

async function lookAtRoom(room: RoomArgument, request: LookRequest, context: CommandContext, dependencies: MediaDependencies): Promise<CommandOutcome> {
  const { admin, serverName } = dependencies;
  const resolved = await resolveRoom(room, dependencies.targets.directory);
  if (!resolved.ok) return resolved.error;
  const { roomId, label } = resolved.value;
  const listed = await admin.roomMedia(roomId);
  if (!listed.ok) return refused(`could not list the media of ${label}: ${listed.error.userMessage}`);
  // Synapse lists the URIs its messages name, newest message first: a file posted twice is named twice.
  const local = unique(listed.value.local);
  const remote = unique(listed.value.remote);
  const uris = unique([...local, ...remote]);
  if (uris.length === 0) {
    // Synapse lists no media for a room it does not know rather than saying so.
    const details = await admin.roomDetails(roomId);
    if (!details.ok && details.error.kind === "not-found") {
      return refused(`${label} is not a room this homeserver knows (a room deleted from its database has no media list any more).`);
    }
  }
  if (request.page > pageCount(uris.length)) return pastLast(request, uris.length, label, context.prefix);
  const onPage = uris.slice((request.page - 1) * MEDIA_PAGE_SIZE, request.page * MEDIA_PAGE_SIZE);
  const sized = uris.slice(0, SIZE_READS);
  const read = await readFiles(admin, unique([...sized, ...onPage]), serverName);
  const size: MediaSize = read.stopped === undefined ? sizeOf(sized.map((uri) => read.files.get(uri)), uris.length) : { read: false, why: read.stopped };
  return {
    kind: "media-room",
    label,
    local: local.length,
    remote: remote.length,
    size,
    listing: listing(request, uris.length, onPage.map((uri) => read.files.get(uri) ?? { uri }), context.prefix),
  };
}

/**
 * Each file's record (size, type, uploader, state), a few at a time. Stops asking once the
 * homeserver shows it cannot answer any (Synapse before 1.140 has no media info; a media worker
 * not routed): the caller then lists URIs only and says why.
 */
async function readFiles(admin: MediaAdmin, uris: readonly string[], serverName: string): Promise<{ files: Map<string, MediaFile>; stopped?: string }> {
  const limit = pLimit(MEDIA_CALLS_PARALLEL);
  const files = new Map<string, MediaFile>();
  let stopped: string | undefined;
  await Promise.all(
    uris.map((uri) =>
      limit(async () => {
        if (stopped !== undefined) return;
        const mxc = parseMxc(uri);
        if (mxc === undefined) {
          files.set(uri, { uri, unread: "not a content URI Warden can look up" });
          return;
        }
        const found = await findFile(admin, mxc);
        if (found.ok) files.set(uri, found.value === undefined ? { uri, unread: notHeldWhy(mxc, serverName) } : { ...found.value, uri });
        else if (failsEveryCall(found.error)) stopped ??= found.error.userMessage;
        else files.set(uri, { uri, unread: found.error.userMessage });
      }),
    ),
  );
  return { files, ...(stopped === undefined ? {} : { stopped }) };
}

/** A message names a file this server does not hold (any more). */
function notHeldWhy(mxc: Mxc, serverName: string): string {
  return mxc.origin === serverName ? "this server no longer holds it (deleted)" : "never cached here (or its cached copy was purged)";
}

async function lookAtUser(userId: UserId, request: LookRequest, context: CommandContext, dependencies: MediaDependencies): Promise<CommandOutcome> {
  const { admin, serverName } = dependencies;
  const first = await admin.userMedia(userId, { from: 0, limit: USER_MEDIA_PAGE });
  if (!first.ok) return userMediaRefusal(userId, first.error, serverName, "list the uploads", context.prefix);
  const uploads = first.value.total;
  if (request.page > pageCount(uploads)) return pastLast(request, uploads, userId, context.prefix);
  // The total size needs every file's record: read newest first, 100 a request, up to the bound.
  const read = first.value.media.map((item) => fileOf(item, serverName));
  let next = first.value.next_token;
  while (read.length < Math.min(uploads, SIZE_READS) && next !== undefined && next !== null) {
    const more = await admin.userMedia(userId, { from: next, limit: Math.min(USER_MEDIA_PAGE, SIZE_READS - read.length) });
    if (!more.ok) return userMediaRefusal(userId, more.error, serverName, "read all the uploads", context.prefix);
    if (more.value.media.length === 0) break;
    read.push(...more.value.media.map((item) => fileOf(item, serverName)));
    next = more.value.next_token;
  }
  const start = (request.page - 1) * MEDIA_PAGE_SIZE;
  let entries = read.slice(start, start + MEDIA_PAGE_SIZE);
  if (start + MEDIA_PAGE_SIZE > read.length && read.length < uploads) {
    // A page beyond the files read for the size: asked for on its own.
    const page = await admin.userMedia(userId, { from: start, limit: MEDIA_PAGE_SIZE });
    if (!page.ok) return userMediaRefusal(userId, page.error, serverName, "list the uploads", context.prefix);
    entries = page.value.media.map((item) => fileOf(item, serverName));
  }
  return { kind: "media-user", userId, uploads, size: sizeOf(read, uploads), listing: listing(request, uploads, entries, context.prefix) };
}

async function lookAtFile(mxc: Mxc, text: string, dependencies: MediaDependencies): Promise<CommandOutcome> {
  const { admin, serverName } = dependencies;
  const found = await findFile(admin, mxc);
  if (!found.ok) return refused(`could not look up ${text}: ${found.error.userMessage}`);
  if (found.value === undefined) return refused(`${notHeldText(text, mxc.origin, serverName)}.`);
  return { kind: "media-file", file: { ...found.value, uri: text }, local: mxc.origin === serverName };
}
