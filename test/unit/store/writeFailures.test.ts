import { describe, expect, it } from "vitest";
import { parseAllowlistEntry, type AllowlistEntry } from "../../../src/access/allowlist.js";
import { CommandDispatcher, type IncomingEvent } from "../../../src/commands/dispatcher.js";
import { defineCommand, type Command } from "../../../src/commands/spec.js";
import { AuditLog } from "../../../src/store/audit.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { HandledEvents } from "../../../src/store/handledEvents.js";
import { TaskLauncher } from "../../../src/tasks/launcher.js";
import { TaskStore } from "../../../src/store/tasks.js";
import type { TaskTracker } from "../../../src/tasks/tracker.js";
import { ok } from "../../../src/util/result.js";
import { MANAGEMENT_ROOM } from "../../fakes/commandDependencies.js";
import { FIXED_NOW, FixedClock } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingChat } from "../../fakes/recordingChat.js";
import { RecordingTaskNotifier } from "../../fakes/recordingTaskNotifier.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

const MOD = "@mod:example.org";

class RecordingTracker implements Pick<TaskTracker, "track"> {
  readonly tracked: string[] = [];

  track(taskId: string): void {
    this.tracked.push(taskId);
  }
}

/**
 * Warden's command path over a real database: the dispatcher claims events in it, and `!purge`
 * launches a task through the real launcher and store. `beforeAnswer` runs while the request is
 * with the homeserver, to break the disk at that moment.
 */
function world() {
  const directory = freshDirectory();
  const database = WardenDatabase.open(directory);
  // A second connection for the event claims, so a test can break writes of tasks alone.
  const eventsDatabase = WardenDatabase.open(directory);
  const auditDatabase = WardenDatabase.open(directory);
  const clock = new FixedClock();
  const store = new TaskStore(database, () => clock.now());
  const tracker = new RecordingTracker();
  const log = new MemoryLogger();
  const launcher = new TaskLauncher(store, tracker, new RecordingTaskNotifier(clock), clock, log.log);
  const submitted: string[] = [];
  let beforeAnswer = (): void => undefined;
  const purge: Command = defineCommand<Record<string, never>>({
    name: "purge",
    summary: "Purge (test stand-in).",
    details: [],
    positionals: [],
    flags: [],
    examples: [],
    parse: () => ok({}),
    async execute(_args, context) {
      const outcome = await launcher.launch({
        kind: "purge",
        roomId: "!spam:example.org",
        roomLabel: "#spam:example.org",
        requester: context.requester,
        managementRoomId: context.managementRoomId,
        commandEventId: context.commandEventId,
        parameters: {},
        submit: () => {
          submitted.push(context.commandEventId);
          beforeAnswer();
          return Promise.resolve(ok("purge-1"));
        },
      });
      return { kind: "task-started", task: outcome.task };
    },
  });
  const chat = new RecordingChat();
  const allowlist = [parseAllowlistEntry(MOD)].filter((entry): entry is AllowlistEntry => entry !== undefined);
  const dispatcher = new CommandDispatcher({
    table: [purge],
    prefix: "!",
    allowlist,
    managementRoomId: MANAGEMENT_ROOM,
    selfUserId: "@warden:example.org",
    chat,
    journal: new HandledEvents(eventsDatabase, () => clock.now()),
    retryReceiveAfterMs: 1,
    clock,
    log: log.log,
    maxCommandAgeMs: 600_000,
    concurrency: 1,
    audit: new AuditLog(auditDatabase),
  });
  const command = (eventId: string): IncomingEvent => ({
    roomId: MANAGEMENT_ROOM,
    sender: MOD,
    type: "m.room.message",
    content: { msgtype: "m.text", body: "!purge" },
    eventId,
    originServerTs: FIXED_NOW - 1_000,
  });
  return {
    database,
    eventsDatabase,
    auditDatabase,
    store,
    tracker,
    chat,
    submitted,
    dispatcher,
    command,
    breakDiskDuringSubmit: (): void => {
      beforeAnswer = () => {
        makeReadOnly(database);
      };
    },
  };
}

describe("a failed write is an error the moderator sees, with nothing half-done", () => {
  it("a command whose event could not be recorded is not run, and is answered with the reason", async () => {
    const { eventsDatabase, dispatcher, chat, submitted, store, command } = world();
    makeReadOnly(eventsDatabase);

    await dispatcher.handle(command("$first"));

    expect(submitted).toEqual([]);
    expect(store.all()).toEqual([]);
    expect(chat.sent.map((sent) => [sent.options?.replyTo, sent.message.plain])).toEqual([
      ["$first", expect.stringMatching(/^Failed: Warden could not record command event \$first as received: the database is read-only .*\(reference [0-9a-f]{8}\)\. The command was not run; send it again once that is fixed\.$/)],
    ]);
  });

  it("a task that could not be recorded is never sent to the homeserver, and the reply says why", async () => {
    const { database, dispatcher, chat, submitted, store, tracker, command } = world();
    makeReadOnly(database);

    await dispatcher.handle(command("$first"));

    expect(submitted).toEqual([]);
    expect(store.all()).toEqual([]);
    expect(tracker.tracked).toEqual([]);
    expect(chat.sent.at(-1)?.message.plain).toMatch(/^Failed: Warden could not record task p-[0-9a-f]{6}: the database is read-only/);
  });

  it("a job the homeserver accepted stays tracked when its answer cannot be recorded, and the moderator is told", async () => {
    const { dispatcher, chat, submitted, store, tracker, command, breakDiskDuringSubmit } = world();
    breakDiskDuringSubmit();

    await dispatcher.handle(command("$first"));

    const [task] = store.all();
    expect(submitted).toEqual(["$first"]);
    // Memory follows the database: the task is still "submitting", which the tracker resolves
    // by looking the job up on the homeserver once it can write again.
    expect(task?.status).toBe("submitting");
    expect(tracker.tracked).toEqual([task?.id]);
    expect(chat.sent.at(-1)?.message.plain).toMatch(
      new RegExp(`could not record the change to task ${task?.id ?? ""}: the database is read-only.*Task ${task?.id ?? ""} is recorded; Warden keeps following it and will report how it ends\\.$`),
    );
  });

  it("an audit entry that could not be stored is announced in the room; the command itself ran", async () => {
    const { auditDatabase, dispatcher, chat, submitted, command } = world();
    makeReadOnly(auditDatabase);

    await dispatcher.handle(command("$first"));

    expect(submitted).toEqual(["$first"]);
    expect(chat.sent.map((sent) => sent.message.plain)).toContainEqual(
      expect.stringMatching(/^Failed: Warden could not record the audit entry: the database is read-only .*This room's history still shows what happened; Warden's audit log will not\.$/),
    );
  });
});
