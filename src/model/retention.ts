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

/** One line of !retention. */
export interface RetentionPolicyState {
  readonly policy: RetentionPolicy;
  readonly paused: boolean;
  readonly nextRunAt?: number;
  readonly lastRun?: RetentionLastRun;
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
      readonly leftOut: readonly { readonly label: string; readonly roomId?: string; readonly why: string }[];
    };
