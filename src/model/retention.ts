import { err, ok, type Result } from "../util/result.js";

/**
 * Retention: purge waves Warden starts by itself, on a schedule, per policy in the config, and
 * the deletion of media by age that a policy may carry. Plain data shared by the config reader, the scheduler, the !retention command and the renderers.
 */

export const RETENTION_SELECTIONS = ["all", "matching", "rooms", "space"] as const;
export type RetentionSelectionKind = (typeof RETENTION_SELECTIONS)[number];

export type RetentionSelection =
  | { readonly kind: "all" }
  | { readonly kind: "matching"; readonly words: string }
  | { readonly kind: "rooms"; readonly rooms: readonly string[] }
  | { readonly kind: "space"; readonly space: string };

export interface RetentionExclude {
  /** Room IDs or aliases never purged by this policy. */
  readonly rooms: readonly string[];
  /** Spaces whose rooms (and the space itself) are never purged by this policy. */
  readonly spaces: readonly string[];
  /** Leave out direct-message rooms (rooms with at most two members that were created as a DM). */
  readonly dm: boolean;
  /** Leave out rooms with a member whose ID matches one of these (anchored) patterns, e.g. "@whatsapp_.*". */
  readonly members: readonly string[];
}

/**
 * A member pattern as the config checks it and the selector applies it: anchored, so
 * "@whatsapp_.*" cannot match in the middle of another user ID. Undefined when it does not compile.
 */
export function memberPattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch {
    return undefined;
  }
}

/** What a policy does to rooms' history: a purge wave over the rooms it selects. */
export interface RetentionHistory {
  readonly selection: RetentionSelection;
  /** History younger than this stays. */
  readonly keepMs: number;
  /** As written in the config ("180d"), for messages. */
  readonly keep: string;
  /** Also delete local users' messages (as --local). */
  readonly local: boolean;
  readonly exclude: RetentionExclude;
}

/** An age as the config gives it: in milliseconds, and as written ("365d") for messages. */
export interface RetentionAge {
  readonly ms: number;
  readonly text: string;
}

/**
 * What a policy does to media. Server-wide, whatever rooms the policy selects: Synapse deletes
 * media by when it was last used, not by room. At least one of local and remote is set.
 */
export interface RetentionMedia {
  /** Local files last used (downloaded, or uploaded when never downloaded) longer ago than this are deleted. */
  readonly local?: RetentionAge;
  /** Cached copies of other servers' files last used longer ago than this are dropped (the origin keeps them). */
  readonly remote?: RetentionAge;
  /** Keep local files in use as a user's or a room's avatar. Local files only: Synapse's cache purge has no such rule. */
  readonly keepProfiles: boolean;
  /** Only local files larger than this many bytes; 0 is every size. Local files only, as keepProfiles. */
  readonly sizeOver: number;
}

/** A policy has history, media or both; the config refuses one with neither. */
export interface RetentionPolicy {
  readonly name: string;
  /** Undefined for a media-only policy: its runs start no wave. */
  readonly history?: RetentionHistory;
  readonly media?: RetentionMedia;
  readonly everyMs: number;
  readonly every: string;
  /** UTC time of day "HH:MM" the runs are aligned to, if given. */
  readonly at?: string;
}

/** When a run deletes media: files last used before these times (epoch ms), fixed when the run is planned. */
export interface RetentionMediaPlan {
  readonly local?: number;
  readonly remote?: number;
  readonly keepProfiles: boolean;
  readonly sizeOver: number;
}

/** One of a media step's two calls: the time it passed, and the files Synapse deleted or why it did not. */
export interface RetentionMediaPart {
  readonly beforeTs: number;
  /** Ok: the files deleted (Synapse counts files; it says nothing of bytes). Err: the reason, for the moderator. */
  readonly files: Result<number, string>;
}

/** What a run's media step did. */
export interface RetentionMediaRun {
  readonly at: number;
  readonly local?: RetentionMediaPart;
  readonly remote?: RetentionMediaPart;
  readonly keepProfiles: boolean;
  readonly sizeOver: number;
}

/**
 * A media step rides in the wave's parameters when the run has one, so the board, the summary
 * and !retention read it from the wave (kept with it, across restarts). Flat keys, as a wave's
 * parameters are: numbers, strings and booleans.
 */
export function mediaRunParameters(run: RetentionMediaRun): Record<string, number | string | boolean> {
  const part = (name: string, value: RetentionMediaPart | undefined): Record<string, number | string> => {
    if (value === undefined) return {};
    const result = value.files.ok ? { [`media${name}Files`]: value.files.value } : { [`media${name}Failure`]: value.files.error };
    return { [`media${name}BeforeTs`]: value.beforeTs, ...result };
  };
  return { mediaAt: run.at, mediaKeepProfiles: run.keepProfiles, mediaSizeOver: run.sizeOver, ...part("Local", run.local), ...part("Remote", run.remote) };
}

/** The media step a wave's parameters carry (see mediaRunParameters); undefined when there is none. */
export function mediaRunOf(parameters: Readonly<Record<string, unknown>>): RetentionMediaRun | undefined {
  const at = parameters["mediaAt"];
  if (typeof at !== "number") return undefined;
  const part = (name: string): RetentionMediaPart | undefined => {
    const beforeTs = parameters[`media${name}BeforeTs`];
    const files = parameters[`media${name}Files`];
    const failure = parameters[`media${name}Failure`];
    if (typeof beforeTs !== "number") return undefined;
    if (typeof files === "number") return { beforeTs, files: ok(files) };
    return { beforeTs, files: err(typeof failure === "string" ? failure : "no outcome was recorded") };
  };
  const local = part("Local");
  const remote = part("Remote");
  const sizeOver = parameters["mediaSizeOver"];
  return {
    at,
    ...(local === undefined ? {} : { local }),
    ...(remote === undefined ? {} : { remote }),
    keepProfiles: parameters["mediaKeepProfiles"] !== false,
    sizeOver: typeof sizeOver === "number" ? sizeOver : 0,
  };
}

/** How a policy's last run ended, for !retention. */
export interface RetentionLastRun {
  readonly waveId: string;
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly purged: number;
  readonly skipped: number;
  readonly failed: number;
}

/** A run that started no wave: nothing was selected, the selection failed, or the previous run was still going. */
export interface RetentionMiss {
  readonly at: number;
  readonly why: string;
}

/** One line of !retention. */
export interface RetentionPolicyState {
  readonly policy: RetentionPolicy;
  readonly paused: boolean;
  readonly nextRunAt?: number;
  readonly lastRun?: RetentionLastRun;
  /** Set when a run after `lastRun` started no wave; kept in memory only, so a restart forgets it (the log keeps it). */
  readonly lastMiss?: RetentionMiss;
  /**
   * The latest media step: from memory, else from the last wave's parameters. A media-only
   * policy's is in memory only, so a restart forgets it (its message, the audit log and the log keep it).
   */
  readonly lastMedia?: RetentionMediaRun;
}

/**
 * A scheduled run has no command event to answer; its wave's commandEventId is this instead.
 * Never an event ID (those start with "$"), so nothing should reply to it or edit it.
 */
export function scheduledRunId(policy: string, startedAt: number): string {
  return `retention:${policy}:${startedAt}`;
}

/** Whether a wave's command event id is a scheduled run's stand-in (see scheduledRunId). */
export function isScheduledRunId(commandEventId: string): boolean {
  return commandEventId.startsWith("retention:");
}

/** One room of `!retention run <name> --dry-run`: what would go. */
export interface RetentionEstimate {
  readonly roomId: string;
  readonly label: string;
  /** Events before the point, counted up to a cap; undefined when it could not be read. */
  readonly events?: number;
  readonly capped: boolean;
  /** Why nothing would be sent for this room (nothing before the point), if so. */
  readonly skip?: string;
}

/** What !retention reports; render/retention.ts turns it into chat text. */
export type RetentionOutcome =
  | { readonly kind: "retention-list"; readonly policies: readonly RetentionPolicyState[]; readonly now: number }
  | { readonly kind: "retention-changed"; readonly policy: string; readonly paused: boolean; readonly nextRunAt?: number }
  | {
      readonly kind: "retention-dry-run";
      readonly policy: RetentionPolicy;
      /** The rooms' part; undefined for a media-only policy. */
      readonly history?: RetentionHistoryEstimate;
      /** Synapse counts media only as it deletes it: a dry run can give the rule, not a number. */
      readonly media?: RetentionMediaPlan;
    }
  /** A run that started no wave but deleted media (a media-only policy, or no room selected today). */
  | {
      readonly kind: "retention-media-run";
      readonly policy: string;
      readonly media: RetentionMediaRun;
      /** Why no wave started, for a policy with rooms. */
      readonly noWave?: string;
    };

/** What a dry run reads of the rooms' history. */
export interface RetentionHistoryEstimate {
  /** History before this goes (epoch ms). */
  readonly cutoffTs: number;
  readonly estimates: readonly RetentionEstimate[];
  /** Selected rooms left without an estimate, beyond the cap of rooms a dry run reads. */
  readonly notEstimated?: number;
  readonly leftOut: readonly { readonly label: string; readonly roomId?: string; readonly why: string }[];
}
