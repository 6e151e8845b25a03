import { describe, expect, it } from "vitest";
import { usageLine } from "../../../../src/model/commandSpec.js";
import { closestCommand } from "../../../../src/commands/table.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";
import { runCommand } from "../../../fakes/runCommand.js";

const TOOLKIT = ["room", "rooms", "members", "tasks", "block", "unblock", "make-admin"];

describe("the room and homeserver commands in the table", () => {
  it("come after !status and !cancel (the job commands) and before !help, in this order", () => {
    const names = commandFakes().table.map((command) => command.name);
    const status = names.indexOf("status");
    expect(names[status + 1]).toBe("cancel");
    const cancel = status + 1;
    expect(names.slice(cancel + 1, cancel + 1 + TOOLKIT.length)).toEqual(TOOLKIT);
    expect(names.indexOf("help")).toBeGreaterThan(cancel + TOOLKIT.length);
  });

  it("have the usage lines the README documents", () => {
    const { table } = commandFakes();
    const usage = (name: string) => {
      const command = table.find((candidate) => candidate.name === name);
      if (command === undefined) throw new Error(name);
      return usageLine(command, "!");
    };
    expect(TOOLKIT.map(usage)).toEqual([
      "!room <room>",
      "!rooms [search words] [--order-by ORDER] [--limit N] [--from OFFSET]",
      "!members <room>",
      "!tasks",
      "!block <room>... [--matching WORDS] [--space ROOM] [--empty] [--yes] [--dry-run]",
      "!unblock <room>... [--matching WORDS] [--space ROOM] [--empty] [--yes] [--dry-run]",
      "!make-admin <room> [user]",
    ]);
  });

  it("are explained by !help, also with a hyphen in the name", async () => {
    const { table } = commandFakes();
    const help = table.find((command) => command.name === "help");
    if (help === undefined) throw new Error("no help");
    const outcome = await runCommand(help, "!make-admin");
    expect(outcome.kind === "help-one" && outcome.command.name).toBe("make-admin");
  });

  it.each([
    ["makeadmin", "make-admin"],
    ["unblok", "unblock"],
    ["member", "members"],
    ["task", "tasks"],
  ])("suggests %s -> %s", (word, expected) => {
    expect(closestCommand(word, commandFakes().table)).toBe(expected);
  });
});
