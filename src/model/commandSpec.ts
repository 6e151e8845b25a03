/**
 * How a command is declared and what its words become: the vocabulary shared by the command
 * layer (which parses and runs them) and the renderers (which print usage, help and previews).
 * It sits below both so neither reaches into the other's folder.
 */

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

/**
 * An option this command does not take but that a moderator may reach for because a related
 * command does: refused by naming where it belongs, rather than with this command's options.
 */
export interface MisplacedFlag {
  readonly name: string;
  /** What the refusal expects instead (it reads "Bad --name: expected ..."). */
  readonly expected: string;
}

export interface PositionalSpec {
  /** Bare name ("room"); shown as <room>, or [room] when optional. */
  readonly name: string;
  readonly description: string;
  readonly optional?: boolean;
  /** The last positional only: it takes every remaining word, so several words need no quotes. */
  readonly variadic?: boolean;
  /**
   * Several words, each one value (several rooms); shown as <name>... . The command's parse
   * checks how many it needs: none at all is fine where a selection flag names the rooms instead.
   */
  readonly repeatable?: true;
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

/** The settings in `confirmBefore` (config) that make a destructive command ask first. */
export const CONFIRMATION_KINDS = ["shutdown", "purge", "purge-local", "redact", "extremities", "quarantine", "restrict", "takedown"] as const;
export type ConfirmationKind = (typeof CONFIRMATION_KINDS)[number];
/** What asks when the config does not say: a plain purge keeps local users' messages, so it runs at once. */
export const DEFAULT_CONFIRM_BEFORE: readonly ConfirmationKind[] = ["shutdown", "purge-local", "redact", "extremities", "quarantine", "takedown"];

export interface PreviewLine {
  readonly label: string;
  readonly value: string;
}

/** What a destructive command would do, shown before it runs (or instead, with --dry-run). */
export interface Preview {
  readonly title: string;
  readonly lines: readonly PreviewLine[];
}

/** The declarative part of a command: enough for help and usage, nothing that runs. */
export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  readonly details: readonly string[];
  readonly positionals: readonly PositionalSpec[];
  readonly flags: readonly FlagSpec[];
  /** Options of related commands, refused with where they belong (never shown in usage or help). */
  readonly misplacedFlags?: readonly MisplacedFlag[];
  readonly examples: readonly string[];
}

export function usageLine(spec: CommandSpec, prefix: string): string {
  const positionals = spec.positionals.map(positionalLabel);
  const flags = spec.flags.map((f) =>
    f.kind === "boolean" ? `[--${f.name}]` : `[--${f.name} ${f.valueName ?? "TEXT"}${f.repeatable === true ? " ..." : ""}]`,
  );
  return [`${prefix}${spec.name}`, ...positionals, ...flags].join(" ");
}

export function positionalLabel(positional: PositionalSpec): string {
  const label = positional.optional === true ? `[${positional.name}]` : `<${positional.name}>`;
  return positional.repeatable === true ? `${label}...` : label;
}
