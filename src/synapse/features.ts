import type { AdminError } from "./errors.js";

/**
 * Admin endpoints that arrived in a known Synapse release (read in element-hq/synapse's
 * changelog and git history), so a command can say "needs Synapse X or later" instead of
 * failing on an older homeserver. Endpoints older than every Synapse Warden supports are not
 * listed.
 */
export const FEATURE_VERSIONS = {
  /** PUT /_synapse/admin/v1/suspend/<user_id> (MSC3823, June 2024). */
  suspend: "1.110",
  /** POST /_synapse/admin/v1/user/<user_id>/redact and its status. */
  redact: "1.116",
  /** sent_invite_count and cumulative_joined_room_count (December 2024). */
  userActivityCounts: "1.122",
  /** GET /_synapse/admin/v1/media/<origin>/<media_id>. */
  mediaInfo: "1.140",
  /** GET /_synapse/admin/v1/users/<user_id>/memberships. */
  userMemberships: "1.145",
  /** GET/DELETE /_synapse/admin/v1/user_reports. */
  userReports: "1.152",
  /** GET /_synapse/admin/v1/scheduled_tasks reads every `status` given, not only the first. */
  taskListStatuses: "1.163",
} as const;
export type Feature = keyof typeof FEATURE_VERSIONS;

const FEATURE_NAMES: Record<Feature, string> = {
  suspend: "account suspension",
  redact: "the user-redact API",
  userActivityCounts: "invite and join counts",
  mediaInfo: "media info",
  userMemberships: "the membership history of a user",
  userReports: "reports about users",
  taskListStatuses: "listing the task queue by several statuses",
};

/** "1.163.2", "1.152.0rc1", "1.110.0 (b=main, ...)" → [1, 163]; undefined when it is not Synapse's form. */
export function parseSynapseVersion(text: string): readonly [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(text.trim());
  if (match === null) return undefined;
  return [Number(match[1]), Number(match[2])];
}

/**
 * Whether a homeserver of this version serves the feature. An unreadable or unknown version
 * counts as serving it: the endpoint's own M_UNRECOGNIZED answer is checked as well (see
 * unsupportedAnswer), so a wrong guess costs one request, not a refused command.
 */
export function supports(version: string | undefined, feature: Feature): boolean {
  if (version === undefined) return true;
  const have = parseSynapseVersion(version);
  const need = parseSynapseVersion(FEATURE_VERSIONS[feature]);
  if (have === undefined || need === undefined) return true;
  return have[0] > need[0] || (have[0] === need[0] && have[1] >= need[1]);
}

/** The sentence a moderator reads when the homeserver lacks the feature. */
export function needsText(feature: Feature, version?: string): string {
  const running = version === undefined ? "" : ` (this homeserver runs ${version})`;
  return `${FEATURE_NAMES[feature]} needs Synapse ${FEATURE_VERSIONS[feature]} or later${running}`;
}

/**
 * Whether an admin error is the homeserver saying it has no such endpoint: 404 or 405 with
 * M_UNRECOGNIZED (or a bare 404 without errcode from a proxy in front of an old Synapse).
 */
export function unsupportedAnswer(error: AdminError): boolean {
  return error.errcode === "M_UNRECOGNIZED" || (error.status === 405 && error.errcode === undefined);
}

/** What Warden knows of the homeserver's version, read at start (undefined until then, or if unreadable). */
export interface HomeserverVersion {
  current(): string | undefined;
}

/** The version read at start (and again by the admin probe), shared with every command that checks a feature. */
export class KnownVersion implements HomeserverVersion {
  private version: string | undefined;
  set(version: string): void {
    this.version = version;
  }
  current(): string | undefined {
    return this.version;
  }
}
