import type { Command, CommandContext } from "../../src/commands/spec.js";
import type { ArgumentProblem } from "../../src/model/commandSpec.js";
import type { CommandOutcome } from "../../src/model/outcomes.js";
import { splitWords } from "../../src/commands/parsing/words.js";
import type { RoomId, UserId } from "../../src/matrix/ids.js";
import { MANAGEMENT_ROOM } from "./commandDependencies.js";

export const REQUESTER = "@mod:example.org" as UserId;

export const CONTEXT: CommandContext = {
  requester: REQUESTER,
  commandEventId: "$command-event",
  managementRoomId: MANAGEMENT_ROOM satisfies RoomId,
  prefix: "!",
};

/** Splits and parses the text after the command word the way the dispatcher does; undefined when it parses. */
export function parseProblem(command: Command, text: string): ArgumentProblem | undefined {
  const words = splitWords(text, command);
  const parsed = words.ok ? command.parse(words.value) : words;
  return parsed.ok ? undefined : parsed.error;
}

/** Splits, parses and executes; a text that does not parse is a mistake in the test. */
export async function runCommand(command: Command, text: string, context: CommandContext = CONTEXT): Promise<CommandOutcome> {
  const words = splitWords(text, command);
  const parsed = words.ok ? command.parse(words.value) : words;
  if (!parsed.ok) throw new Error(`test text does not parse: ${JSON.stringify(parsed.error)}`);
  return command.execute(parsed.value, context);
}
