import { err, ok } from "../util/result.js";
import { defineCommand } from "./spec.js";
import { type CommandSpec } from "../model/commandSpec.js";

/** Help is generated from the table it is given, so it cannot drift from the commands. */
export function helpCommand(listCommands: () => readonly CommandSpec[]) {
  return defineCommand<{ readonly commandName?: string }>({
    name: "help",
    summary: "List the commands, or explain one.",
    details: [],
    positionals: [{ name: "command", description: "a command name such as purge", optional: true }],
    flags: [],
    examples: ["!help", "!help purge"],
    parse(words) {
      const name = words.positionals[0];
      if (name === undefined) return ok({});
      const known = listCommands().map((command) => command.name);
      const bare = name.replace(/^\W+/, "");
      if (!known.includes(bare)) return err({ argument: "[command]", given: name, expected: `one of ${known.join(", ")}` });
      return ok({ commandName: bare });
    },
    execute(args) {
      const commands = listCommands();
      const command = commands.find((candidate) => candidate.name === args.commandName);
      return Promise.resolve(command === undefined ? { kind: "help-all", commands } : { kind: "help-one", command });
    },
  });
}
