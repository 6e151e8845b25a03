import type { AuditEntry } from "../audit/auditLog.js";
import type { TaskRecord } from "../tasks/types.js";
import type { CommandSpec } from "./commandSpec.js";
import type { LookupOutcome } from "./lookups.js";
import type { ExtremitiesOutcome } from "./extremities.js";
import type { ReportOutcome } from "./reports.js";
import type { WaveOutcome, WaveView } from "./waves.js";
import type { RetentionOutcome } from "./retention.js";
import type { MediaActionOutcome } from "./mediaActions.js";
import type { MediaOutcome } from "./media.js";
import type { TakedownOutcome, TakedownRecord } from "./takedowns.js";
import type { AccountActionOutcome } from "./restrictions.js";
import type { UserOutcome } from "./users.js";

/** What an executor reports; render/replies.ts turns it into chat text. */
export type CommandOutcome =
  | { readonly kind: "task-started"; readonly task: TaskRecord }
  | { readonly kind: "task-joined"; readonly task: TaskRecord }
  | { readonly kind: "refused"; readonly reason: string; readonly hint?: string }
  /** Tasks of a wave are left out of the lists: the wave stands for them in `waves`. */
  | {
      readonly kind: "status-list";
      readonly inFlight: readonly TaskRecord[];
      readonly recent: readonly TaskRecord[];
      readonly waves?: readonly WaveView[];
      /** Takedowns still running; their redactions are shown as their takedown. */
      readonly takedowns?: readonly TakedownRecord[];
    }
  /** One task in full; with `page`, that page of its long lists. */
  | { readonly kind: "status-one"; readonly task: TaskRecord; readonly page?: number }
  | { readonly kind: "help-all"; readonly commands: readonly CommandSpec[] }
  | { readonly kind: "help-one"; readonly command: CommandSpec }
  | LookupOutcome
  | ExtremitiesOutcome
  | ReportOutcome
  | WaveOutcome
  | RetentionOutcome
  | MediaActionOutcome
  | MediaOutcome
  | AccountActionOutcome
  | UserOutcome
  | AuditOutcome
  | TakedownOutcome;

export type Refusal = Extract<CommandOutcome, { kind: "refused" }>;

export interface AuditOutcome {
  readonly kind: "audit";
  readonly since: number;
  readonly user?: string;
  readonly entries: readonly AuditEntry[];
}
