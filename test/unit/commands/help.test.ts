import { describe, expect, it } from "vitest";
import type { Command } from "../../../src/commands/spec.js";
import { closestCommand } from "../../../src/commands/table.js";
import { renderHelpOne } from "../../../src/render/replies.js";
import { commandFakes } from "../../fakes/commandDependencies.js";
import { parseProblem, runCommand } from "../../fakes/runCommand.js";

const { table } = commandFakes();

function help(): Command {
  const found = table.find((command) => command.name === "help");
  if (found === undefined) throw new Error("no help command");
  return found;
}

describe("the command table", () => {
  it("holds purge, shutdown, redact, status and help, in that order", () => {
    const names = table.map((command) => command.name);
    expect(names.slice(0, 4)).toEqual(["purge", "shutdown", "redact", "status"]);
    expect(names).toContain("confirm");
    expect(names.at(-1)).toBe("help");
  });

  it("gives every command a summary, and every argument and flag a description", () => {
    for (const command of table) {
      expect(command.summary).not.toBe("");
      for (const item of [...command.positionals, ...command.flags]) expect(item.description).not.toBe("");
    }
  });
});

describe("!help", () => {
  it("answers with the whole table when asked about nothing", async () => {
    const outcome = await runCommand(help(), "");
    expect(outcome.kind === "help-all" && outcome.commands.map((command) => command.name)).toEqual(commandFakes().table.map((command) => command.name));
  });

  it("answers with one command, also when it is written with the prefix", async () => {
    const plain = await runCommand(help(), "purge");
    const prefixed = await runCommand(help(), "!shutdown");
    expect(plain.kind === "help-one" && plain.command.name).toBe("purge");
    expect(prefixed.kind === "help-one" && prefixed.command.name).toBe("shutdown");
  });

  it("says in !help purge which age units exist, and that m is not one", async () => {
    const outcome = await runCommand(help(), "purge");
    if (outcome.kind !== "help-one") throw new Error(`expected help for one command, got ${outcome.kind}`);
    const text = renderHelpOne(outcome.command, "!").plain;
    expect(text).toContain("s, min, h, d, w");
    expect(text).toMatch(/\bm\b.*(minutes|months)/);
  });

  it("names [command] and lists the commands for an unknown one", () => {
    expect(parseProblem(help(), "purgeall")).toEqual({
      argument: "[command]",
      given: "purgeall",
      expected: `one of ${commandFakes().table.map((command) => command.name).join(", ")}`,
    });
  });
});

describe("closestCommand", () => {
  it.each([
    ["purg", "purge"],
    ["PURGE", "purge"],
    ["shutdwon", "shutdown"],
    ["shutdonw", "shutdown"],
    ["stat", "status"],
    ["hepl", "help"],
  ])("suggests %s -> %s", (word, expected) => {
    expect(closestCommand(word, table)).toBe(expected);
  });

  it.each(["xyzzy", "delete", "ban", ""])("suggests nothing for %j", (word) => {
    expect(closestCommand(word, table)).toBeUndefined();
  });
});
