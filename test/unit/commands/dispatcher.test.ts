import { describe, expect, it } from "vitest";
import { parseAllowlistEntry, type AllowlistEntry } from "../../../src/access/allowlist.js";
import { CommandDispatcher, type DispatcherOptions, type IncomingEvent } from "../../../src/commands/dispatcher.js";
import type { RoomId } from "../../../src/matrix/ids.js";
import { answerTransactionId } from "../../../src/matrix/chat.js";
import { defineCommand, type Command, type CommandContext } from "../../../src/commands/spec.js";
import { MAX_COMMAND_LENGTH } from "../../../src/commands/parsing/words.js";
import { ok } from "../../../src/util/result.js";
import { commandFakes, MANAGEMENT_ROOM, type CommandFakes } from "../../fakes/commandDependencies.js";
import { FixedClock, FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryHandledEvents } from "../../fakes/memoryHandledEvents.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingChat } from "../../fakes/recordingChat.js";

const MOD = "@mod:example.org";
const SELF = "@warden:example.org";
const MAX_AGE = 10 * 60_000;

interface Execution {
  readonly word: string | undefined;
  readonly context: CommandContext;
}

/** A table row that records what it was asked to do and answers with a refusal carrying the word. */
function echoCommand(executions: Execution[], name = "echo"): Command {
  return defineCommand<{ readonly word?: string }>({
    name,
    summary: "Repeat a word.",
    details: [],
    positionals: [{ name: "[word]", description: "any word", optional: true }],
    flags: [],
    examples: [],
    parse: (words) => ok(words.positionals[0] === undefined ? {} : { word: words.positionals[0] }),
    execute(args, context) {
      executions.push({ word: args.word, context });
      return Promise.resolve({ kind: "refused", reason: `echoed ${args.word ?? "nothing"}` });
    },
  });
}

function throwingCommand(): Command {
  return defineCommand<Record<string, never>>({
    name: "boom",
    summary: "Fail.",
    details: [],
    positionals: [],
    flags: [],
    examples: [],
    parse: () => ok({}),
    execute: () => Promise.reject(new Error("kaboom: internal detail")),
  });
}

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}

function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

interface Setup {
  readonly dispatcher: CommandDispatcher;
  readonly chat: RecordingChat;
  readonly handled: MemoryHandledEvents;
  readonly clock: FixedClock;
  readonly logger: MemoryLogger;
  readonly executions: Execution[];
}

interface SetupOptions {
  readonly table?: readonly Command[];
  readonly prefix?: string;
  readonly ignoreBefore?: number;
  readonly concurrency?: number;
  readonly allowlist?: readonly string[];
  readonly confirmations?: DispatcherOptions["confirmations"];
  readonly refusalReason?: () => string | undefined;
}

function setup(options: SetupOptions = {}): Setup {
  const executions: Execution[] = [];
  const chat = new RecordingChat();
  const handled = new MemoryHandledEvents();
  const clock = new FixedClock();
  const logger = new MemoryLogger();
  const allowlist: AllowlistEntry[] = (options.allowlist ?? [MOD, "@*:staff.example.org"]).map((text) => {
    const entry = parseAllowlistEntry(text);
    if (entry === undefined) throw new Error(text);
    return entry;
  });
  const dispatcher = new CommandDispatcher({
    table: options.table ?? [echoCommand(executions), throwingCommand()],
    prefix: options.prefix ?? "!",
    allowlist,
    managementRoomId: MANAGEMENT_ROOM,
    selfUserId: SELF,
    chat,
    journal: handled,
    clock,
    log: logger.log,
    maxCommandAgeMs: MAX_AGE,
    concurrency: options.concurrency ?? 4,
    ...(options.ignoreBefore === undefined ? {} : { ignoreBefore: options.ignoreBefore }),
    ...(options.confirmations === undefined ? {} : { confirmations: options.confirmations }),
    ...(options.refusalReason === undefined ? {} : { refusalReason: options.refusalReason }),
  });
  return { dispatcher, chat, handled, clock, logger, executions };
}

let eventCounter = 0;
function commandEvent(body: string, overrides: Partial<IncomingEvent> = {}): IncomingEvent {
  eventCounter += 1;
  return {
    roomId: MANAGEMENT_ROOM,
    sender: MOD,
    type: "m.room.message",
    content: { msgtype: "m.text", body },
    eventId: `$command-${eventCounter}`,
    originServerTs: FIXED_NOW - 2_000,
    ...overrides,
  };
}

describe("CommandDispatcher: running a command", () => {
  it("runs an allowed command once and answers in the management room, as a reply to the command", async () => {
    const { dispatcher, chat, executions, handled } = setup();
    const event = commandEvent("!echo hello");
    await dispatcher.handle(event);

    expect(executions).toEqual([
      { word: "hello", context: { requester: MOD, commandEventId: event.eventId, managementRoomId: MANAGEMENT_ROOM, prefix: "!" } },
    ]);
    expect(handled.claims).toEqual([event.eventId]);
    expect(chat.sent).toHaveLength(1);
    expect(chat.sent[0]?.roomId).toBe(MANAGEMENT_ROOM);
    expect(chat.sent[0]?.options).toEqual({ replyTo: event.eventId, transactionId: answerTransactionId(event.eventId) });
    expect(chat.sent[0]?.message.plain).toBe("Not done: echoed hello");
  });

  it("reads the command word case-insensitively", async () => {
    const { dispatcher, executions } = setup();
    await dispatcher.handle(commandEvent("!ECHO loud"));
    expect(executions.map((execution) => execution.word)).toEqual(["loud"]);
  });

  it("allows every user of a server listed as @*:server", async () => {
    const { dispatcher, executions } = setup();
    await dispatcher.handle(commandEvent("!echo hi", { sender: "@anyone:staff.example.org" }));
    expect(executions.map((execution) => execution.context.requester)).toEqual(["@anyone:staff.example.org"]);
  });

  it("starts a real purge from a typed command and sends no extra reply (the progress message answers)", async () => {
    const fakes: CommandFakes = commandFakes();
    fakes.admin.addRoom("!spam:example.org", "Spam");
    fakes.admin.addEvent("$old", "!spam:example.org", FIXED_NOW - 60 * 86_400_000);
    fakes.admin.addEvent("$recent", "!spam:example.org", FIXED_NOW - 60_000);
    fakes.directory.add("#spam:example.org", "!spam:example.org" as RoomId);
    const { dispatcher, chat } = setup({ table: fakes.table });
    const event = commandEvent('!purge #spam:example.org 30d --reason "spam wave"');
    await dispatcher.handle(event);

    expect(chat.sent).toEqual([]);
    expect(fakes.launcher.requests).toHaveLength(1);
    const request = fakes.launcher.requests[0];
    expect(request?.roomId).toBe("!spam:example.org");
    expect(request?.requester).toBe(MOD);
    expect(request?.commandEventId).toBe(event.eventId);
    expect(request?.parameters["reason"]).toBe("spam wave");
    expect(request?.parameters["cutoffTs"]).toBe(FIXED_NOW - 30 * 86_400_000);
  });
});

describe("CommandDispatcher: ✅ reactions", () => {
  /** A confirmation flow with one preview, $preview, waiting as c-1; records who confirmed. */
  function oneWaitingPreview(confirmedBy: string[]): NonNullable<DispatcherOptions["confirmations"]> {
    return {
      gate: () => Promise.resolve(undefined),
      confirmationForPreview: (eventId) => (eventId === "$preview" ? "c-1" : undefined),
      confirm(id, by) {
        confirmedBy.push(`${id} by ${by}`);
        return Promise.resolve({ kind: "refused", reason: "the fake ran nothing" });
      },
    };
  }

  function reaction(key = "✅"): IncomingEvent {
    return commandEvent("", { type: "m.reaction", content: { "m.relates_to": { rel_type: "m.annotation", event_id: "$preview", key } } });
  }

  it("confirms a preview with ✅ from an allowed sender", async () => {
    const confirmedBy: string[] = [];
    const { dispatcher } = setup({ confirmations: oneWaitingPreview(confirmedBy), refusalReason: () => undefined });
    await dispatcher.handleReaction(reaction());
    expect(confirmedBy).toEqual([`c-1 by ${MOD}`]);
  });

  it("refuses a ✅ while the management room is exposed, as it refuses a typed !confirm", async () => {
    const confirmedBy: string[] = [];
    const { dispatcher, chat } = setup({
      confirmations: oneWaitingPreview(confirmedBy),
      refusalReason: () => "anyone can join it (join rule: public)",
    });
    const event = reaction();
    await dispatcher.handleReaction(event);

    expect(confirmedBy).toEqual([]);
    expect(chat.plainBodies()).toEqual(["Refused: the management room is exposed (anyone can join it (join rule: public)). Make it private first."]);
    expect(chat.sent[0]?.options).toEqual({ replyTo: "$preview", transactionId: answerTransactionId(event.eventId) });
  });
});

describe("CommandDispatcher: who may command", () => {
  it("refuses a sender not on the allowlist and runs nothing", async () => {
    const { dispatcher, chat, executions, logger } = setup();
    const event = commandEvent("!echo hi", { sender: "@mallory:evil.example" });
    await dispatcher.handle(event);

    expect(executions).toEqual([]);
    expect(chat.plainBodies()).toEqual(["Refused: @mallory:evil.example is not on Warden's allowlist. Nothing was done."]);
    expect(chat.sent[0]?.options).toEqual({ replyTo: event.eventId, transactionId: answerTransactionId(event.eventId) });
    expect(logger.withMessage("refused a sender not on the allowlist")).toEqual([
      expect.objectContaining({ sender: "@mallory:evil.example", eventId: event.eventId }),
    ]);
  });

  it("refuses a sender whose display name (or any content field) claims a moderator's ID", async () => {
    const { dispatcher, chat, executions } = setup();
    const content = {
      msgtype: "m.text",
      body: "!echo hi",
      displayname: MOD,
      sender: MOD,
      format: "org.matrix.custom.html",
      formatted_body: `<a href="https://matrix.to/#/${MOD}">${MOD}</a>: !echo hi`,
      "m.mentions": { user_ids: [MOD] },
    };
    await dispatcher.handle(commandEvent("!echo hi", { sender: "@mallory:evil.example", content }));
    expect(executions).toEqual([]);
    expect(chat.plainBodies()[0]).toContain("Refused");
  });

  it("refuses a moderator's localpart on another server and a case variant of a moderator", async () => {
    const { dispatcher, chat, executions } = setup();
    await dispatcher.handle(commandEvent("!echo a", { sender: "@mod:evil.example" }));
    await dispatcher.handle(commandEvent("!echo b", { sender: "@Mod:example.org" }));
    expect(executions).toEqual([]);
    expect(chat.plainBodies().every((body) => body.startsWith("Refused"))).toBe(true);
    expect(chat.sent).toHaveLength(2);
  });

  it.each([
    ["an edit", { content: { msgtype: "m.text", body: "* !echo hi", "m.relates_to": { rel_type: "m.replace", event_id: "$old" } } }],
    ["a stale command", { originServerTs: FIXED_NOW - 3_600_000 }],
  ])("refuses a sender not on the allowlist even when the command is %s", async (_label, overrides) => {
    const { dispatcher, chat, executions } = setup();
    await dispatcher.handle(commandEvent("!echo hi", { sender: "@mallory:evil.example", ...overrides }));
    expect(executions).toEqual([]);
    expect(chat.plainBodies()).toEqual(["Refused: @mallory:evil.example is not on Warden's allowlist. Nothing was done."]);
  });
});

describe("CommandDispatcher: events that are not run", () => {
  it.each([
    ["another room", { roomId: "!other:example.org" }],
    ["Warden's own message", { sender: SELF }],
    ["an m.notice", { content: { msgtype: "m.notice", body: "!echo hi" } }],
    ["text without the prefix", { content: { msgtype: "m.text", body: "echo hi" } }],
  ])("ignores %s silently without claiming it", async (_label, overrides) => {
    const { dispatcher, chat, executions, handled } = setup();
    await dispatcher.handle(commandEvent("!echo hi", overrides));
    expect(executions).toEqual([]);
    expect(chat.sent).toEqual([]);
    expect(handled.claims).toEqual([]);
  });

  it("runs a command delivered twice only once, in sequence", async () => {
    const { dispatcher, chat, executions, logger } = setup();
    const event = commandEvent("!echo once");
    await dispatcher.handle(event);
    await dispatcher.handle(event);
    expect(executions).toHaveLength(1);
    expect(chat.sent).toHaveLength(1);
    expect(logger.withMessage("command event seen before; not run again")).toHaveLength(1);
  });

  it("runs a command delivered three times at once only once", async () => {
    const { dispatcher, chat, executions } = setup();
    const event = commandEvent("!echo once");
    await Promise.all([dispatcher.handle(event), dispatcher.handle(event), dispatcher.handle({ ...event })]);
    expect(executions).toHaveLength(1);
    expect(chat.sent).toHaveLength(1);
  });

  it("answers a stale command with its age and does not run it", async () => {
    const { dispatcher, chat, executions } = setup();
    await dispatcher.handle(commandEvent("!echo late", { originServerTs: FIXED_NOW - 2 * 3_600_000 - 5 * 60_000 }));
    expect(executions).toEqual([]);
    expect(chat.plainBodies()).toEqual([
      "Not run: this command was sent 2 h 5 min ago, while Warden was not running. Send it again if it is still wanted.",
    ]);
  });

  it("runs a command exactly at the maximum age", async () => {
    const { dispatcher, executions } = setup();
    await dispatcher.handle(commandEvent("!echo edge", { originServerTs: FIXED_NOW - MAX_AGE }));
    expect(executions).toHaveLength(1);
  });

  it("silently skips backlog from before ignoreBefore, and runs what came after", async () => {
    const ignoreBefore = FIXED_NOW - 60_000;
    const { dispatcher, chat, executions, logger } = setup({ ignoreBefore });
    await dispatcher.handle(commandEvent("!echo old", { originServerTs: ignoreBefore - 1 }));
    expect(executions).toEqual([]);
    expect(chat.sent).toEqual([]);
    expect(logger.withMessage("command from before startup without a sync token; not run")).toHaveLength(1);

    await dispatcher.handle(commandEvent("!echo new", { originServerTs: ignoreBefore }));
    expect(executions.map((execution) => execution.word)).toEqual(["new"]);
  });

  it("answers an edited command with a hint and does not run it", async () => {
    const { dispatcher, chat, executions } = setup();
    const content = {
      msgtype: "m.text",
      body: "* !echo fixed",
      "m.new_content": { msgtype: "m.text", body: "!echo fixed" },
      "m.relates_to": { rel_type: "m.replace", event_id: "$old" },
    };
    await dispatcher.handle(commandEvent("", { content }));
    expect(executions).toEqual([]);
    expect(chat.plainBodies()).toEqual(["Edited commands are never run: send the corrected command as a new message (e.g. !help)."]);
  });

  it("runs a wave over 300 room IDs pasted one a line, as a moderator copies them from a report", async () => {
    const fakes = commandFakes();
    const rooms = Array.from({ length: 300 }, (_, index) => `!spamroom${String(index).padStart(3, "0")}abcdefghij:example.org`);
    fakes.selector.answer = ok({ rooms: rooms.map((roomId) => ({ roomId, label: roomId })), leftOut: [] });
    const { dispatcher, chat } = setup({ table: fakes.table });

    await dispatcher.handle(commandEvent(`!block\n${rooms.join("\n")}\n`));

    expect(chat.plainBodies()).toEqual([]);
    expect(fakes.selector.requests.map((request) => request.listed.length)).toEqual([300]);
    expect(fakes.waves.requests.map((wave) => wave.rooms.length)).toEqual([300]);
  });

  it("refuses an over-long command without running it", async () => {
    const { dispatcher, chat, executions } = setup();
    await dispatcher.handle(commandEvent(`!echo ${"x".repeat(MAX_COMMAND_LENGTH)}`));
    expect(executions).toEqual([]);
    expect(chat.plainBodies()).toEqual([`Not run: a command may be at most ${MAX_COMMAND_LENGTH} characters.`]);
  });
});

describe("CommandDispatcher: unknown commands and bad arguments", () => {
  it.each([
    ["!purg #spam:example.org 30d", "purg", "purge"],
    ["!shutdwn #spam:example.org", "shutdwn", "shutdown"],
    ["!stauts", "stauts", "status"],
    ["!hlep", "hlep", "help"],
  ])("suggests the closest command for %s", async (body, word, suggestion) => {
    const fakes = commandFakes();
    const { dispatcher, chat } = setup({ table: fakes.table });
    await dispatcher.handle(commandEvent(body));
    expect(chat.plainBodies()).toEqual([`Unknown command "${word}". Did you mean !${suggestion}? !help lists the commands.`]);
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("suggests nothing when no command is close", async () => {
    const { dispatcher, chat } = setup({ table: commandFakes().table });
    await dispatcher.handle(commandEvent("!xyzzyplugh"));
    expect(chat.plainBodies()).toEqual(['Unknown command "xyzzyplugh". !help lists the commands.']);
  });

  it("names the bad argument, what was expected and the usage line, and runs nothing", async () => {
    const fakes = commandFakes();
    const { dispatcher, chat } = setup({ table: fakes.table });
    await dispatcher.handle(commandEvent("!purge #spam:example.org 1700000000"));
    const plain = chat.plainBodies()[0] ?? "";
    expect(plain).toContain('Bad <point> (got "1700000000"): expected milliseconds since 1970; this looks like seconds, which would be 1700000000000.');
    expect(plain).toContain("\nUsage: !purge <room>... <point> [--local] [--reason TEXT] [--matching WORDS] [--space ROOM] [--empty] [--all] [--yes] [--dry-run]\n");
    expect(plain).toContain("See !help purge");
    expect(fakes.admin.calls).toEqual([]);
    expect(fakes.launcher.requests).toEqual([]);
  });

  it("names an unknown flag with the usage line of its command", async () => {
    const { dispatcher, chat } = setup({ table: commandFakes().table });
    await dispatcher.handle(commandEvent("!shutdown #spam:example.org --blcok"));
    const plain = chat.plainBodies()[0] ?? "";
    expect(plain).toContain("Bad --blcok: expected one of the options --matching, --space, --empty, --purge-after, --purge-now, --block, --quarantine-media, --no-purge, --force-purge, --notify-as, --room-name, --message, --yes, --dry-run.");
    expect(plain).toContain(
      "Usage: !shutdown <room>... [--matching WORDS] [--space ROOM] [--empty] [--purge-after AGE] [--purge-now] [--block] [--quarantine-media] [--no-purge] [--force-purge] [--notify-as USER] [--room-name TEXT] [--message TEXT] [--yes] [--dry-run]",
    );
  });
});

describe("CommandDispatcher: help", () => {
  it("answers !help with every command of the table and !help purge with all its flags", async () => {
    const { table } = commandFakes();
    const { dispatcher, chat } = setup({ table });
    await dispatcher.handle(commandEvent("!help"));
    await dispatcher.handle(commandEvent("!help purge"));
    const [all, purge] = chat.plainBodies();
    for (const command of table) expect(all).toContain(`!${command.name} `.trimEnd());
    expect(all).toContain("!purge <room>... <point> [--local] [--reason TEXT] [--matching WORDS] [--space ROOM] [--empty] [--all] [--yes] [--dry-run]");
    expect(all).toContain("!status [task-id]");
    expect(all).toContain("!help [command]");
    expect(purge).toContain("  --local: ");
    expect(purge).toContain("  --reason TEXT: ");
    expect(chat.sent.every((entry) => entry.message.mentions === undefined)).toBe(true);
  });
});

describe("CommandDispatcher: failures", () => {
  it("answers an executor that throws with a reference id that is also in the log", async () => {
    const { dispatcher, chat, logger } = setup();
    const event = commandEvent("!boom");
    await dispatcher.handle(event);

    const plain = chat.plainBodies()[0] ?? "";
    const reference = /\(reference ([0-9a-f]{8})\)/.exec(plain)?.[1];
    expect(reference).toBeDefined();
    expect(plain).not.toContain("kaboom");
    const logged = logger.withMessage("command failed unexpectedly");
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ reference, eventId: event.eventId, command: "boom", level: 50 });
    expect(logged[0]?.["err"]).toMatchObject({ message: "kaboom: internal detail" });
  });

  it("uses a different reference for each failure", async () => {
    const { dispatcher, logger } = setup();
    await dispatcher.handle(commandEvent("!boom"));
    await dispatcher.handle(commandEvent("!boom"));
    const references = logger.withMessage("command failed unexpectedly").map((entry) => entry["reference"]);
    expect(references).toHaveLength(2);
    expect(references[0]).not.toBe(references[1]);
  });

  it("logs a reply that could not be sent and still resolves", async () => {
    const { dispatcher, chat, logger, executions } = setup();
    chat.failWith = "M_FORBIDDEN: not in room";
    const event = commandEvent("!echo hi");
    await dispatcher.handle(event);
    expect(executions).toHaveLength(1);
    expect(logger.withMessage("could not send a reply")).toEqual([
      expect.objectContaining({ eventId: event.eventId, error: { kind: "failed", detail: "M_FORBIDDEN: not in room" } }),
    ]);
  });
});

describe("CommandDispatcher: many commands at once", () => {
  it("answers every one of many concurrent commands, never running more than the limit at a time", async () => {
    const concurrency = 4;
    const full = deferred();
    const gate = deferred();
    let started = 0;
    const gated = defineCommand<Record<string, never>>({
      name: "wait",
      summary: "Wait for the gate.",
      details: [],
      positionals: [],
      flags: [],
      examples: [],
      parse: () => ok({}),
      async execute() {
        started += 1;
        if (started === concurrency) full.resolve();
        await gate.promise;
        return { kind: "refused", reason: "waited" };
      },
    });
    const { dispatcher, chat } = setup({ table: [gated], concurrency });
    const events = Array.from({ length: 25 }, () => commandEvent("!wait"));
    const handling = events.map((event) => dispatcher.handle(event));

    await full.promise;
    const startedWhileGateClosed = started;
    gate.resolve();
    await Promise.all(handling);

    expect(startedWhileGateClosed).toBe(concurrency);
    expect(started).toBe(25);
    expect(chat.sent).toHaveLength(25);
    expect(new Set(chat.sent.map((entry) => entry.options?.replyTo))).toEqual(new Set(events.map((event) => event.eventId)));
    expect(chat.plainBodies().every((body) => body === "Not done: waited")).toBe(true);
  });
});

describe("CommandDispatcher: the configured prefix", () => {
  it("answers only to its own prefix", async () => {
    const { dispatcher, executions, chat } = setup({ prefix: "?" });
    await dispatcher.handle(commandEvent("!echo no"));
    await dispatcher.handle(commandEvent("?echo yes"));
    expect(executions.map((execution) => execution.word)).toEqual(["yes"]);
    expect(chat.sent).toHaveLength(1);
  });

  it("uses the prefix in suggestions, usage lines and hints", async () => {
    const { dispatcher, chat } = setup({ prefix: "?", table: commandFakes().table });
    await dispatcher.handle(commandEvent("?purg"));
    await dispatcher.handle(commandEvent("?purge #spam:example.org"));
    await dispatcher.handle(commandEvent("?echo", { content: { msgtype: "m.text", body: "* ?echo", "m.relates_to": { rel_type: "m.replace", event_id: "$x" } } }));
    const [unknown, bad, edit] = chat.plainBodies();
    expect(unknown).toBe('Unknown command "purg". Did you mean ?purge? ?help lists the commands.');
    expect(bad).toContain("Usage: ?purge <room>... <point>");
    expect(bad).toContain("See ?help purge");
    expect(edit).toContain("(e.g. ?help)");
  });

  it("uses the prefix in the hint for an unknown task id", async () => {
    const { dispatcher, chat } = setup({ prefix: "?", table: commandFakes().table });
    await dispatcher.handle(commandEvent("?status p-000000"));
    const plain = chat.plainBodies()[0] ?? "";
    expect(plain).toContain("there is no task p-000000");
    expect(plain).toContain("?status lists the known tasks");
    expect(plain).not.toContain("!status");
  });
});

/** A dispatcher over the fakes' command table that keeps what it writes to the audit log. */
function auditingDispatcher(fakes: CommandFakes): { dispatcher: CommandDispatcher; chat: RecordingChat; entries: unknown[] } {
  const entries: unknown[] = [];
  const chat = new RecordingChat();
  const allowlist = [parseAllowlistEntry(MOD)].filter((entry): entry is AllowlistEntry => entry !== undefined);
  const dispatcher = new CommandDispatcher({
    table: fakes.table,
    prefix: "!",
    allowlist,
    managementRoomId: MANAGEMENT_ROOM,
    selfUserId: SELF,
    chat,
    journal: new MemoryHandledEvents(),
    clock: new FixedClock(),
    log: new MemoryLogger().log,
    maxCommandAgeMs: MAX_AGE,
    concurrency: 1,
    audit: { record: (entry) => entries.push(entry) },
  });
  return { dispatcher, chat, entries };
}

describe("CommandDispatcher: waves in the audit log", () => {
  it("records a started wave's id and selection with the command, and posts nothing itself (the board answers)", async () => {
    const fakes: CommandFakes = commandFakes();
    fakes.selector.answer = ok({ rooms: [{ roomId: "!r:example.org", label: "!r:example.org" }], leftOut: [{ label: "!mgmt:example.org", why: "Warden's management room" }] });
    const { dispatcher, chat, entries } = auditingDispatcher(fakes);

    await dispatcher.handle(commandEvent("!block --matching casino"));

    const wave = fakes.waves.active()[0];
    expect(entries).toEqual([expect.objectContaining({ type: "command", command: "block", outcome: "wave-started", taskId: wave?.id, target: 'rooms matching "casino" (1 left out)' })]);
    expect(chat.sent).toHaveLength(0);
  });
});

describe("CommandDispatcher: takedowns in the audit log", () => {
  it("records a started takedown's id, users and plan with the command, and posts nothing itself (the board answers)", async () => {
    const fakes: CommandFakes = commandFakes();
    fakes.admin.addAccount("@spammer:example.org");
    const { dispatcher, chat, entries } = auditingDispatcher(fakes);

    await dispatcher.handle(commandEvent("!takedown @spammer:example.org --yes"));

    const [record] = fakes.takedowns.started;
    expect(entries).toEqual([
      expect.objectContaining({
        type: "command",
        command: "takedown",
        outcome: "takedown-started",
        taskId: record?.id,
        target: "@spammer:example.org",
      }),
    ]);
    expect(JSON.stringify(entries)).toContain("plan: suspend, then quarantine media, then redact | @spammer:example.org: restrict pending; media pending; redact");
    expect(chat.sent).toHaveLength(0);
  });
});
