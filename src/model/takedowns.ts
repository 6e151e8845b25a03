/**
 * Takedowns: one command acting on the person behind the abuse, as an ordered plan of steps per
 * user, each tracked to its end and stored. The vocabulary shared by the takedown command, its
 * runner (src/tasks/takedowns/) and the renderers. Plain data only.
 */

/**
 * The steps in the order they run for each user:
 * - restrict: suspended (locked where suspension is not available) before anything else, so the
 *   account cannot send while it is cleaned up;
 * - media: what they uploaded is quarantined. Before the redaction, not after it: a redaction
 *   strips the file links from their events, and for a remote user those links are the only
 *   record this server has of which files are theirs;
 * - redact: the user-redact job across every room this server knows them in, followed by the
 *   one tracker like any job;
 * - rooms: rooms they created where no other local user is joined, shut down as a wave;
 * - deactivate: only once the redaction has ended (a deactivated user leaves every room, and a
 *   later redaction would no longer find those rooms by default).
 */
export const TAKEDOWN_STEPS = ["restrict", "media", "redact", "rooms", "deactivate"] as const;
export type TakedownStepName = (typeof TAKEDOWN_STEPS)[number];

/** Why a step does not run for another server's user: the plan skips it, and the step says the same if it meets one. */
export const NOT_FOR_REMOTE = {
  restrict: "not possible for a remote account (suspension and locking apply to accounts on this server)",
  deactivate: "not possible for a remote account (deactivation applies to accounts on this server)",
} as const;

/**
 * pending: not started; running: started and not ended (a job or a wave is being followed, or a
 * direct call was made and its answer not yet stored); done / skipped / failed: final.
 */
export const TAKEDOWN_STEP_STATES = ["pending", "running", "done", "skipped", "failed"] as const;
export type TakedownStepState = (typeof TAKEDOWN_STEP_STATES)[number];
export const FINAL_STEP_STATES: ReadonlySet<TakedownStepState> = new Set(["done", "skipped", "failed"]);

export interface TakedownStep {
  readonly name: TakedownStepName;
  readonly state: TakedownStepState;
  /** What it did or why it did not ("suspended", "3 files quarantined", the homeserver's reason). */
  readonly detail?: string;
  /** What the homeserver counted (files quarantined, rooms shut down). */
  readonly count?: number;
  /** The redaction's task (its id is also the send's, see `sendId`). */
  readonly taskId?: string;
  /** The rooms' shutdown wave. */
  readonly waveId?: string;
  /** Set before a job leaves: after a crash the step finds exactly the task this send started. */
  readonly sendId?: string;
  readonly startedAt?: number;
  readonly finishedAt?: number;
}

export interface TakedownUser {
  readonly userId: string;
  /** A local account (every step may apply), or a remote user (only what this server holds). */
  readonly local: boolean;
  /** The rooms the redaction covers, fixed when the plan was made. */
  readonly rooms: readonly string[];
  /** The rooms to shut down (--rooms), fixed when the plan was made. */
  readonly ownRooms: readonly string[];
  readonly steps: readonly TakedownStep[];
}

export interface TakedownOptions {
  readonly deactivate: boolean;
  readonly erase: boolean;
  readonly rooms: boolean;
  readonly quarantineMedia: boolean;
  readonly reason?: string;
}

export interface LeftOutUser {
  readonly userId: string;
  readonly why: string;
}

export const TAKEDOWN_STATUSES = ["running", "finished"] as const;
export type TakedownStatus = (typeof TAKEDOWN_STATUSES)[number];

export interface TakedownRecord {
  /** "t-4c1e0a" */
  readonly id: string;
  readonly requester: string;
  readonly managementRoomId: string;
  readonly commandEventId: string;
  readonly options: TakedownOptions;
  readonly users: readonly TakedownUser[];
  readonly leftOut: readonly LeftOutUser[];
  readonly status: TakedownStatus;
  readonly boardEventId?: string;
  readonly createdAt: number;
  readonly finishedAt?: number;
  /** The final message went out (or was given up on): never sent twice. */
  readonly finalNotificationSent: boolean;
}

/** A user's next step to work on: the first that is not final, or undefined when all are. */
export function currentStep(user: TakedownUser): TakedownStep | undefined {
  return user.steps.find((step) => !FINAL_STEP_STATES.has(step.state));
}

export function isFinished(user: TakedownUser): boolean {
  return currentStep(user) === undefined;
}

export function stepOf(user: TakedownUser, name: TakedownStepName): TakedownStep | undefined {
  return user.steps.find((step) => step.name === name);
}

/** Counts of final step states over every user, for the board's headline and the summary. */
export function tallySteps(record: TakedownRecord): { done: number; skipped: number; failed: number; total: number } {
  let done = 0;
  let skipped = 0;
  let failed = 0;
  let total = 0;
  for (const user of record.users) {
    for (const step of user.steps) {
      total++;
      if (step.state === "done") done++;
      else if (step.state === "skipped") skipped++;
      else if (step.state === "failed") failed++;
    }
  }
  return { done, skipped, failed, total };
}

/** What the preview shows per user before anything happens. */
export interface TakedownUserPlan {
  readonly userId: string;
  readonly local: boolean;
  readonly displayName?: string;
  /** Rooms the redaction covers, by membership now. */
  readonly rooms: readonly string[];
  readonly joinedRooms: number;
  readonly leftRooms: number;
  /** Their events, counted in the rooms read (see `eventsBounded`). */
  readonly events?: number;
  readonly eventsBounded?: boolean;
  /** Files they uploaded (local users), or links to files found in their events (remote users). */
  readonly media?: number;
  readonly ownRooms: readonly string[];
  /** Steps that will not run for this user, with why ("not possible for a remote account"). */
  readonly notRunning: readonly { readonly step: TakedownStepName; readonly why: string }[];
  /** "suspend", or "lock" where suspension is not available. */
  readonly restrictBy: "suspend" | "lock" | "none";
}

export interface TakedownPreviewData {
  readonly users: readonly TakedownUserPlan[];
  readonly leftOut: readonly LeftOutUser[];
  readonly options: TakedownOptions;
}

/** What !takedown answers: the board is its answer, posted by the runner; !status <takedown-id> shows it again. */
export type TakedownOutcome = { readonly kind: "takedown-started"; readonly record: TakedownRecord } | { readonly kind: "takedown-status"; readonly record: TakedownRecord; readonly page?: number };
