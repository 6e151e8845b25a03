import { describe, expect, it } from "vitest";
import { type Command } from "../../../src/commands/spec.js";
import { positionalLabel, usageLine } from "../../../src/model/commandSpec.js";
import {
  renderArgumentProblem,
  renderOutcome,
  renderSenderRefused,
  renderUnknownCommand,
} from "../../../src/render/replies.js";
import { escapeHtml } from "../../../src/render/html.js";
import { commandFakes } from "../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { expectOnlyOwnMarkup, HOSTILE } from "./markup.js";

const { table } = commandFakes();

function command(name: string): Command {
  const found = table.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(name);
  return found;
}

describe("help", () => {
  it("lists every command of the table with its usage line and summary", () => {
    const reply = renderOutcome({ kind: "help-all", commands: table }, "!", FIXED_NOW);
    if (reply === undefined) throw new Error("no reply");
    for (const entry of table) {
      expect(reply.plain).toContain(usageLine(entry, "!"));
      expect(reply.plain).toContain(entry.summary);
      expect(reply.html).toContain(`<code>${escapeHtml(usageLine(entry, "!"))}</code>`);
    }
    expect(reply.plain).toContain("More on one: !help <command>");
    expect(reply.html).toContain("&lt;room&gt;");
    expectOnlyOwnMarkup(reply.html);
  });

  it("shows every argument, every flag, the details and the examples of !help purge", () => {
    const purge = command("purge");
    const reply = renderOutcome({ kind: "help-one", command: purge }, "!", FIXED_NOW);
    if (reply === undefined) throw new Error("no reply");
    expect(reply.plain.split("\n")[0]).toBe("!purge <room>... <point> [--local] [--reason TEXT] [--matching WORDS] [--space ROOM] [--empty] [--all] [--yes] [--dry-run]");
    for (const positional of purge.positionals) expect(reply.plain).toContain(`  ${positionalLabel(positional)}: ${positional.description}`);
    expect(reply.plain).toContain("  <room>...: ");
    expect(reply.plain).toContain("  <point>: ");
    expect(reply.plain).toContain("  --local: also delete messages sent by this server's users");
    expect(reply.plain).toContain("  --reason TEXT: why, for the record");
    for (const flag of ["--matching WORDS: ", "--space ROOM: ", "--empty: ", "--all: ", "--yes: ", "--dry-run: "]) expect(reply.plain).toContain(`  ${flag}`);
    for (const detail of purge.details) expect(reply.plain).toContain(detail);
    for (const example of purge.examples) expect(reply.plain).toContain(`  ${example}`);
    expectOnlyOwnMarkup(reply.html);
  });

  it("shows every flag of !help shutdown with its value name", () => {
    const shutdown = command("shutdown");
    const reply = renderOutcome({ kind: "help-one", command: shutdown }, "!", FIXED_NOW);
    for (const flag of ["--block:", "--no-purge:", "--force-purge:", "--notify-as USER:", "--room-name TEXT:", "--message TEXT:"]) {
      expect(reply?.plain).toContain(`  ${flag}`);
    }
  });

  it("writes usage and examples with the configured prefix", () => {
    const reply = renderOutcome({ kind: "help-one", command: command("purge") }, "warden ", FIXED_NOW);
    expect(reply?.plain.split("\n")[0]).toBe("warden purge <room>... <point> [--local] [--reason TEXT] [--matching WORDS] [--space ROOM] [--empty] [--all] [--yes] [--dry-run]");
    expect(reply?.plain).toContain("  warden purge #spam:example.org 30d");
    expect(reply?.plain).not.toMatch(/^ {2}!/m);
  });
});

describe("refusals and problems", () => {
  it("escapes a refusal reason and hint in HTML", () => {
    const reply = renderOutcome({ kind: "refused", reason: `room ${HOSTILE} is protected`, hint: HOSTILE }, "!", FIXED_NOW);
    if (reply === undefined) throw new Error("no reply");
    expect(reply.plain).toBe(`Not done: room ${HOSTILE} is protected ${HOSTILE}`);
    expect(reply.html).toContain("&lt;script&gt;");
    expectOnlyOwnMarkup(reply.html);
    expect(reply.mentions).toBeUndefined();
  });

  it("names the argument, shows what was given and expected, and the usage line", () => {
    const purge = command("purge");
    const reply = renderArgumentProblem({ argument: "<point>", given: HOSTILE, expected: "an age such as 30d" }, purge, "!");
    expect(reply.plain).toBe(
      `Bad <point> (got ${JSON.stringify(`${HOSTILE.slice(0, 119)}…`)}): expected an age such as 30d.\n` +
        "Usage: !purge <room>... <point> [--local] [--reason TEXT] [--matching WORDS] [--space ROOM] [--empty] [--all] [--yes] [--dry-run]\nSee !help purge",
    );
    expect(reply.html).toContain("<b>Bad &lt;point&gt;</b>");
    expect(reply.html).toContain("<code>!purge &lt;room&gt;... &lt;point&gt; [--local] [--reason TEXT] [--matching WORDS] [--space ROOM] [--empty] [--all] [--yes] [--dry-run]</code>");
    expectOnlyOwnMarkup(reply.html);
  });

  it("leaves out 'got' when nothing was given", () => {
    const reply = renderArgumentProblem({ argument: "<room>", expected: "a room" }, command("shutdown"), "!");
    expect(reply.plain.split("\n")[0]).toBe("Bad <room>: expected a room.");
  });

  it("escapes an unknown command word and cuts it short", () => {
    const reply = renderUnknownCommand(HOSTILE, undefined, "!");
    expect(reply.plain).toBe(`Unknown command ${JSON.stringify(`${HOSTILE.slice(0, 39)}…`)}. !help lists the commands.`);
    expectOnlyOwnMarkup(reply.html);
  });

  it("escapes a refused sender", () => {
    const reply = renderSenderRefused("@<b>x</b>:evil.example");
    expect(reply.html).toContain("@&lt;b&gt;x&lt;/b&gt;:evil.example");
    expectOnlyOwnMarkup(reply.html);
  });
});

describe("task outcomes as replies", () => {
  it("sends nothing for a started task: its progress message is the answer", () => {
    expect(renderOutcome({ kind: "task-started", task: sampleTask() }, "!", FIXED_NOW)).toBeUndefined();
  });

  it("names the task already in flight and how to follow it", () => {
    const task = sampleTask({ id: "p-abcdef", roomLabel: `#${HOSTILE}:example.org` });
    const reply = renderOutcome({ kind: "task-joined", task }, "?", FIXED_NOW);
    expect(reply?.plain).toContain("already in progress as task p-abcdef; nothing new was started. Follow it with ?status p-abcdef.");
    expectOnlyOwnMarkup(reply?.html ?? "");
  });

  it("lists tasks in flight and recent ones, at most 30 of the latter", () => {
    const inFlight = [sampleTask({ id: "p-000001", status: "active" })];
    const recent = Array.from({ length: 32 }, (_, index) =>
      sampleTask({ id: `p-1000${index.toString().padStart(2, "0")}`, status: "complete", finishedAt: FIXED_NOW - 1000 }),
    );
    const reply = renderOutcome({ kind: "status-list", inFlight, recent }, "!", FIXED_NOW);
    const lines = reply?.plain.split("\n") ?? [];
    expect(lines[0]).toBe("In flight (1):");
    expect(lines[1]).toBe("p-000001 purge !target:example.org by @mod:example.org: running, 1 min ago");
    expect(lines[2]).toBe("Finished in the last 7 days (32):");
    expect(lines.filter((line) => line.startsWith("p-10"))).toHaveLength(30);
    expect(lines.at(-1)).toBe("... and 2 more");
  });
});
