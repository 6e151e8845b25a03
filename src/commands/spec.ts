import type { Result } from "../util/result.js";
import type { UserId, RoomId } from "../matrix/ids.js";
import type { ArgumentProblem, CommandSpec, ConfirmationKind, Preview, Words } from "../model/commandSpec.js";
import type { CommandOutcome, Refusal } from "../model/outcomes.js";

export interface CommandContext {
  readonly requester: UserId;
  readonly commandEventId: string;
  readonly managementRoomId: RoomId;
  /** The configured command prefix, for hints that name another command. */
  readonly prefix: string;
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
    /**
     * True: ask whatever confirmBefore says (only --yes skips it). A wave acts on many rooms
     * chosen by a filter, so what it would touch is shown every time.
     */
    always?(args: Arguments): boolean;
    /**
     * True: nothing skips the preview, not even --yes, which the table then does not offer (a
     * deleted file cannot be brought back, so every deletion shows its files first).
     */
    readonly unskippable?: true;
    /**
     * True: --dry-run reaches `execute`, which answers with its own outcome (a per-room
     * estimate), instead of the preview being shown. Its `parse` must then read --dry-run.
     */
    readonly executesDryRun?: boolean;
    preview(args: Arguments, context: CommandContext): Promise<Result<Preview, Refusal>>;
  };
}

/** Keeps each row's argument type private to it while the table holds rows of every type. */
export function defineCommand<Arguments>(command: Command<Arguments>): Command {
  return command;
}

