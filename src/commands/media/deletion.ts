import pLimit from "p-limit";
import { formatMxc, type UserId } from "../../matrix/ids.js";
import { present } from "../../model/lookups.js";
import {
  MEDIA_DELETE_LIMIT,
  type MediaDeletionPlan,
  type MediaDeletionReport,
  type MediaFile,
  type MediaNotDeleted,
  type MediaUserScope,
  type PlannedMediaFile,
} from "../../model/media.js";
import type { Refusal } from "../../model/outcomes.js";
import { inlineList } from "../../render/budget.js";
import { err, ok, type Result } from "../../util/result.js";
import type { MediaTarget } from "../parsing/mediaTargets.js";
import { failsEveryCall, fileOf, findFile, MEDIA_CALLS_PARALLEL, USER_MEDIA_PAGE, userMediaRefusal, type MediaDependencies } from "./files.js";

/** What !media delete takes: a local user (their uploads) or one local file. */
export type DeletionTarget = Extract<MediaTarget, { kind: "user" | "mxc" }>;

function refused(reason: string): Refusal {
  return { kind: "refused", reason };
}

/**
 * Works out, before anything is deleted, exactly which files a deletion deletes: every named
 * file and every upload of every named user (newest first, up to MEDIA_DELETE_LIMIT files in
 * all), less the protected ones. The preview shows this plan and the confirmed run deletes these
 * files by id and no others, so a file uploaded after the preview stays.
 */
export async function planDeletion(targets: readonly DeletionTarget[], dependencies: MediaDependencies, prefix: string): Promise<Result<MediaDeletionPlan, Refusal>> {
  const { admin } = dependencies;
  const files: PlannedMediaFile[] = [];
  const protectedFiles: MediaFile[] = [];
  const notHeld: string[] = [];
  const users: MediaUserScope[] = [];
  const seen = new Set<string>();
  const add = (planned: PlannedMediaFile): void => {
    if (seen.has(planned.file.uri)) return;
    seen.add(planned.file.uri);
    // Synapse's delete by id ignores protection: Warden is what keeps protected files.
    if (planned.file.protected === true) protectedFiles.push(planned.file);
    else files.push(planned);
  };
  for (const target of targets) {
    if (target.kind === "mxc") {
      const uri = formatMxc(target.mxc);
      if (seen.has(uri) || notHeld.includes(uri)) continue;
      const found = await findFile(admin, target.mxc);
      if (!found.ok) return err(refused(`could not look up ${uri}, so nothing was deleted: ${found.error.userMessage}`));
      if (found.value === undefined) notHeld.push(uri);
      else add({ mxc: target.mxc, file: { ...found.value, uri } });
      continue;
    }
    if (users.some((user) => user.userId === target.userId)) continue;
    const read = await readUploads(target.userId, MEDIA_DELETE_LIMIT - seen.size, dependencies, prefix);
    if (!read.ok) return read;
    users.push(read.value.scope);
    for (const planned of read.value.files) add(planned);
  }
  if (files.length === 0) return err(refused(`nothing to delete: ${nothingReasons(users, protectedFiles, notHeld)}.`));
  return ok({ files, protectedFiles, notHeld, users });
}

/** A user's uploads, newest first (Synapse's order), at most `room` of them; always their total. */
async function readUploads(
  userId: UserId,
  room: number,
  dependencies: MediaDependencies,
  prefix: string,
): Promise<Result<{ files: PlannedMediaFile[]; scope: MediaUserScope }, Refusal>> {
  const { admin, serverName } = dependencies;
  const files: PlannedMediaFile[] = [];
  let from = 0;
  let uploads: number;
  for (;;) {
    // At least one file is asked for even when the limit is reached: the answer carries the total.
    const page = await admin.userMedia(userId, { from, limit: Math.max(1, Math.min(USER_MEDIA_PAGE, room - files.length)) });
    if (!page.ok) return err(userMediaRefusal(userId, page.error, serverName, "list the uploads", prefix));
    uploads = page.value.total;
    const taken = page.value.media.slice(0, Math.max(0, room - files.length));
    files.push(...taken.map((item) => ({ mxc: { origin: serverName, mediaId: item.media_id }, file: fileOf(item, serverName) })));
    const next = page.value.next_token;
    if (taken.length === 0 || files.length >= room || next === undefined || next === null) break;
    from = next;
  }
  return ok({ files, scope: { userId, uploads, looked: files.length } });
}

function nothingReasons(users: readonly MediaUserScope[], protectedFiles: readonly MediaFile[], notHeld: readonly string[]): string {
  const parts = [
    ...users.filter((user) => user.uploads === 0).map((user) => `${user.userId} has no uploads`),
    ...(protectedFiles.length === 0
      ? []
      : [`${protectedFiles.length === 1 ? "1 file is" : `${protectedFiles.length} files are`} protected, and Warden never deletes protected media (${inlineList(protectedFiles.map((file) => file.uri))})`]),
    ...notHeld.map((uri) => `this server holds no file ${uri}`),
  ];
  return parts.join("; ");
}

type FileResult =
  | { readonly kind: "deleted"; readonly uri: string; readonly bytes?: number }
  | { readonly kind: "protected" | "gone" | "failed"; readonly uri: string; readonly why: string };

/**
 * Deletes the planned files one by one by id, a few at a time. Each is looked up again first:
 * Synapse's delete ignores protection, and a moderator may have protected a file since the preview.
 * Once a call shows that every further one would fail (the media API not served, the token no
 * longer an admin's), the remaining files are not tried.
 */
export async function runDeletion(plan: MediaDeletionPlan, dependencies: MediaDependencies, commandEventId: string): Promise<MediaDeletionReport> {
  const { admin, log } = dependencies;
  const limit = pLimit(MEDIA_CALLS_PARALLEL);
  let stopped: string | undefined;
  const deleteOne = async ({ mxc, file }: PlannedMediaFile): Promise<FileResult> => {
    const { uri } = file;
    if (stopped !== undefined) return { kind: "failed", uri, why: `not tried: ${stopped}` };
    const found = await findFile(admin, mxc);
    if (!found.ok) {
      if (failsEveryCall(found.error)) stopped ??= found.error.userMessage;
      return { kind: "failed", uri, why: `could not check that it is still unprotected: ${found.error.userMessage}` };
    }
    const now = found.value;
    if (now === undefined) return { kind: "gone", uri, why: "gone since the preview" };
    if (now.protected === true) return { kind: "protected", uri, why: "protected since the preview" };
    const deleted = await admin.deleteMedia(mxc);
    if (!deleted.ok) {
      if (deleted.error.kind === "not-found") return { kind: "gone", uri, why: "gone since the preview" };
      if (failsEveryCall(deleted.error)) stopped ??= deleted.error.userMessage;
      return { kind: "failed", uri, why: deleted.error.userMessage };
    }
    if (!deleted.value.deleted_media.includes(mxc.mediaId)) return { kind: "failed", uri, why: "the homeserver did not report it deleted" };
    return { kind: "deleted", uri, ...present("bytes", now.bytes ?? file.bytes) };
  };
  const results = await Promise.all(plan.files.map((planned) => limit(() => deleteOne(planned))));

  const deleted: { uri: string; bytes?: number }[] = [];
  const ran: Record<"protected" | "gone" | "failed", MediaNotDeleted[]> = { protected: [], gone: [], failed: [] };
  for (const result of results) {
    if (result.kind === "deleted") deleted.push(result);
    else ran[result.kind].push({ uri: result.uri, why: result.why });
  }
  const report: MediaDeletionReport = {
    deleted,
    bytes: deleted.reduce((sum, file) => sum + (file.bytes ?? 0), 0),
    protectedFiles: [...plan.protectedFiles.map((file) => ({ uri: file.uri, why: "protected at the preview" })), ...ran.protected],
    gone: [...plan.notHeld.map((uri) => ({ uri, why: "this server holds no such file" })), ...ran.gone],
    failed: ran.failed,
    users: plan.users,
  };
  // The log keeps every deleted URI: the room shows only the first ones, and a deleted file cannot be looked up again.
  log.info(
    {
      commandEventId,
      deleted: report.deleted.length,
      bytes: report.bytes,
      protected: report.protectedFiles.length,
      gone: report.gone.length,
      failed: report.failed.length,
      deletedMedia: report.deleted.map((file) => file.uri),
    },
    "media deleted",
  );
  if (report.failed.length > 0) log.warn({ commandEventId, failed: report.failed }, "media files not deleted");
  return report;
}
