import type { Result } from "../util/result.js";
import type { UserId, RoomId } from "../matrix/ids.js";
import type { TaskRecord } from "../tasks/types.js";
import type { LookupOutcome } from "./lookupOutcomes.js";
import type { AuditOutcome } from "./audit.js";

export interface FlagSpec {
  readonly name: string;
  /** A boolean flag is a switch; a text flag takes the next word (or a quoted phrase). */
  readonly kind: "boolean" | "text";
  readonly valueName?: string;
  readonly description: string;
  /**
   * Text flags only: may be given several times, each value kept in order (read with
   * textFlags). A repeated flag without this keeps its last value, as yargs-parser gives it.
   */
  readonly repeatable?: true;
}

export interface PositionalSpec {
  /** Bare name ("room"); shown as <room>, or [room] when optional. */
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
  /** The last positional only: it takes every remaining word, so several words need no quotes. */
  readonly variadic?: boolean;
}

/** The words of a command after splitting, with flags checked against the command's spec. */
export interface Words {
  readonly positionals: readonly string[];
  /** A repeatable text flag's values are a list (see FlagSpec.repeatable); other flags a single value. */
  readonly flags: ReadonlyMap<string, string | boolean | readonly string[]>;
}

/** A bad argument: which one, what was given, and what was expected. */
export interface ArgumentProblem {
  readonly argument: string;
  readonly given?: string;
  readonly expected: string;
}

export interface CommandContext {
  readonly requester: UserId;
  readonly commandEventId: string;
  readonly managementRoomId: RoomId;
  /** The configured command prefix, for hints that name another command. */
  readonly prefix: string;
}

/** What an executor reports; render/replies.ts turns it into chat text. */
export type CommandOutcome =
  | { readonly kind: "task-started"; readonly task: TaskRecord }
  | { readonly kind: "task-joined"; readonly task: TaskRecord }
  | { readonly kind: "refused"; readonly reason: string; readonly hint?: string }
  | { readonly kind: "status-list"; readonly inFlight: readonly TaskRecord[]; readonly recent: readonly TaskRecord[] }
  | { readonly kind: "status-one"; readonly task: TaskRecord }
  | { readonly kind: "help-all"; readonly commands: readonly CommandSpec[] }
  | { readonly kind: "help-one"; readonly command: CommandSpec }
  | LookupOutcome
  | AuditOutcome;

/** The settings in `confirmBefore` (config) that make a destructive command ask first. */
export const CONFIRMATION_KINDS = ["shutdown", "purge-local", "redact"] as const;
export type ConfirmationKind = (typeof CONFIRMATION_KINDS)[number];

export interface PreviewLine {
  readonly label: string;
  readonly value: string;
}

/** What a destructive command would do, shown before it runs (or instead, with --dry-run). */
export interface Preview {
  readonly title: string;
  readonly lines: readonly PreviewLine[];
}

export type Refusal = Extract<CommandOutcome, { kind: "refused" }>;

/** The declarative part of a command: enough for help and usage, nothing that runs. */
export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly details: readonly string[];
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  readonly examples: readonly string[];
}

/**
 * One row of the command table. `parse` turns words into typed arguments before anything runs;
 * `execute` never sees raw text.
 */
export interface Command<Arguments = unknown> extends CommandSpec {
  parse(words: Words): Result<Arguments, ArgumentProblem>;
  execute(args: Arguments, context: CommandContext): Promise<CommandOutcome>;
  /**
   * Destructive commands only. `kind` says which confirmBefore setting governs these
   * arguments (undefined: never ask, e.g. a purge without --local); `preview` describes the
   * effect without causing it. Such commands also accept --yes and --dry-run (added by the table).
   */
  readonly confirmation?: {
    kind(args: Arguments): ConfirmationKind | undefined;
    preview(args: Arguments, context: CommandContext): Promise<Result<Preview, Refusal>>;
  };
}

/** Keeps each row's argument type private to it while the table holds rows of every type. */
export function defineCommand<Arguments>(command: Command<Arguments>): Command {
  return command;
}

export function usageLine(spec: CommandSpec, prefix: string): string {
  const positionals = spec.positionals.map(positionalLabel);
  const flags = spec.flags.map((f) =>
    f.kind === "boolean" ? `[--${f.name}]` : `[--${f.name} ${f.valueName ?? "TEXT"}${f.repeatable === true ? " ..." : ""}]`,
  );
  return [`${prefix}${spec.name}`, ...positionals, ...flags].join(" ");
}

export function positionalLabel(positional: PositionalSpec): string {
  return positional.optional === true ? `[${positional.name}]` : `<${positional.name}>`;
}
