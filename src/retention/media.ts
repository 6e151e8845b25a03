import type { Logger } from "pino";
import type { RetentionMedia, RetentionMediaPart, RetentionMediaPlan, RetentionMediaRun } from "../model/retention.js";
import type { AdminError, SynapseAdminClient } from "../synapse/adminClient.js";
import type { Clock } from "../util/clock.js";
import { err, ok, type Result } from "../util/result.js";

/** The two admin calls a media step makes. */
export type MediaRetentionAdmin = Pick<SynapseAdminClient, "deleteOldLocalMedia" | "purgeRemoteMediaCache">;

/** Deleted media IDs written to the log per step: enough to trace a complaint, never a megabyte of log line. */
const LOGGED_IDS = 100;

/** The times a run deletes media before: now minus each age, fixed when the run is planned (as a purge's point). */
export function planMedia(media: RetentionMedia, now: number): RetentionMediaPlan {
  return {
    ...(media.local === undefined ? {} : { local: now - media.local.ms }),
    ...(media.remote === undefined ? {} : { remote: now - media.remote.ms }),
    keepProfiles: media.keepProfiles,
    sizeOver: media.sizeOver,
  };
}

/**
 * One media step: local files, then the remote cache, each asked once. Both calls are
 * synchronous on Synapse's side and select by time, so asking again (a run repeated after a
 * crash) deletes only what is still there: never twice, never more than the rule says. One
 * call failing does not hold back the other, nor the run's purge wave: each failure becomes
 * the part's reason.
 */
export async function runMediaStep(admin: MediaRetentionAdmin, plan: RetentionMediaPlan, clock: Clock, log: Logger, policy: string): Promise<RetentionMediaRun> {
  const at = clock.now();
  const local = plan.local === undefined ? undefined : await deleteLocal(admin, plan, plan.local, log, policy);
  const remote = plan.remote === undefined ? undefined : await purgeRemote(admin, plan.remote, log, policy);
  return { at, ...(local === undefined ? {} : { local }), ...(remote === undefined ? {} : { remote }), keepProfiles: plan.keepProfiles, sizeOver: plan.sizeOver };
}

async function deleteLocal(admin: MediaRetentionAdmin, plan: RetentionMediaPlan, beforeTs: number, log: Logger, policy: string): Promise<RetentionMediaPart> {
  const answered = await admin.deleteOldLocalMedia({ beforeTs, sizeGt: plan.sizeOver, keepProfiles: plan.keepProfiles });
  if (!answered.ok) return failed(answered.error, beforeTs, log, policy, "local");
  const { total, deleted_media: ids } = answered.value;
  log.info({ policy, beforeTs, files: total, mediaIds: ids.slice(0, LOGGED_IDS), idsLeftOut: Math.max(0, ids.length - LOGGED_IDS) }, "retention deleted old local media");
  return { beforeTs, files: ok(total) };
}

async function purgeRemote(admin: MediaRetentionAdmin, beforeTs: number, log: Logger, policy: string): Promise<RetentionMediaPart> {
  const answered = await admin.purgeRemoteMediaCache(beforeTs);
  if (!answered.ok) return failed(answered.error, beforeTs, log, policy, "remote");
  log.info({ policy, beforeTs, files: answered.value.deleted }, "retention purged the remote media cache");
  return { beforeTs, files: ok(answered.value.deleted) };
}

function failed(error: AdminError, beforeTs: number, log: Logger, policy: string, part: "local" | "remote"): RetentionMediaPart {
  log.warn({ policy, part, beforeTs, error }, "retention media step failed");
  return { beforeTs, files: failure(error) };
}

/**
 * The moderator's reason. A timeout is not a failure on Synapse's side: it goes on deleting
 * after Warden stops waiting (a first run on a big server may take minutes), so say so.
 */
function failure(error: AdminError): Result<never, string> {
  if (error.kind === "timeout") {
    return err(`${error.userMessage}: Synapse may still be deleting; the next run deletes what is left and counts only that`);
  }
  return err(error.userMessage);
}

/** A media step's end, for the management room and the audit log. */
export interface MediaStepReport {
  readonly policy: string;
  readonly run: RetentionMediaRun;
  /** Who asked: a moderator, or Warden itself for a scheduled run. */
  readonly requester: string;
  /** Why the run started no wave, for a policy with rooms that started none. */
  readonly noWave?: string;
  /**
   * Whether the report must be posted: true when nothing else shows it, that is a scheduled run
   * that started no wave. A wave's board and summary carry its run's media step, and a
   * moderator's run is answered with it.
   */
  readonly announce: boolean;
}

export interface MediaStepReporter {
  /** Never rejects: a report that cannot be posted is logged, and the run goes on. */
  mediaStepEnded(report: MediaStepReport): Promise<void>;
}
