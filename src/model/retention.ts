/**
 * Retention: purge waves Warden starts by itself, on a schedule, per policy in the config.
 * Plain data shared by the config reader, the scheduler, the !retention command and the renderers.
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

export interface RetentionPolicy {
  readonly name: string;
  readonly selection: RetentionSelection;
  /** History younger than this stays. */
  readonly keepMs: number;
  /** As written in the config ("180d"), for messages. */
  readonly keep: string;
  /** Also delete local users' messages (as --local). */
  readonly local: boolean;
  readonly everyMs: number;
  readonly every: string;
  /** UTC time of day "HH:MM" the runs are aligned to, if given. */
  readonly at?: string;
  readonly exclude: RetentionExclude;
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
      /** History before this goes (epoch ms). */
      readonly cutoffTs: number;
      readonly estimates: readonly RetentionEstimate[];
      /** Selected rooms left without an estimate, beyond the cap of rooms a dry run reads. */
      readonly notEstimated?: number;
      readonly leftOut: readonly { readonly label: string; readonly roomId?: string; readonly why: string }[];
    };
