import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { openWardenState } from "../../../src/store/state.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { freshDirectory, insertUnreadableTask } from "./storeTestKit.js";

const FIXTURE = join(import.meta.dirname, "../../fixtures/legacy-data");
const IMPORTED = "imported the old state files; they were renamed *.imported";
const now = (): number => FIXED_NOW;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("opening Warden's state", () => {
  it("says in the log what it imported from old state files, and says nothing of an import on a new data directory", () => {
    const fresh = new MemoryLogger();
    openWardenState(freshDirectory(), now, fresh.log).database.close();
    expect(fresh.withMessage(IMPORTED)).toEqual([]);

    const old = freshDirectory();
    cpSync(FIXTURE, old, { recursive: true });
    const logger = new MemoryLogger();
    openWardenState(old, now, logger.log).database.close();
    expect(logger.withMessage(IMPORTED)).toEqual([expect.objectContaining({ tasks: 3, handledEvents: 4, auditEntries: 4, skippedAuditLines: 1 })]);
  });

  it("warns the room of task and wave rows it cannot read, naming them, and of nothing when all are readable", () => {
    const clean = openWardenState(freshDirectory(), now, new MemoryLogger().log);
    expect(clean.warnings).toEqual([]);
    clean.database.close();

    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    insertUnreadableTask(database, "x-000001");
    database
      .statement(
        "INSERT INTO waves (id, kind, requester, management_room_id, command_event_id, selection, parameters, left_out, status, created_at, final_notification_sent) " +
          "VALUES ('w-000001', 'explode', '@m:x', '!m:x', '$w', '{}', '{}', '[]', 'running', 1, 0)",
      )
      .run();
    database.close();

    const state = openWardenState(directory, now, new MemoryLogger().log);
    expect(state.warnings).toEqual([
      "1 task(s) in the database could not be read and are ignored: x-000001",
      "1 wave(s) or wave room(s) in the database could not be read and are ignored: w-000001",
    ]);
    state.database.close();
  });

  it("closes the database it opened when the start fails half-way", () => {
    const directory = freshDirectory();
    cpSync(FIXTURE, directory, { recursive: true });
    // The same task twice: the import cannot be committed.
    const file = JSON.parse(readFileSync(join(directory, "tasks.json"), "utf8")) as { version: 1; tasks: unknown[] };
    writeFileSync(join(directory, "tasks.json"), JSON.stringify({ ...file, tasks: [...file.tasks, file.tasks[0]] }));
    const close = vi.spyOn(WardenDatabase.prototype, "close");

    expect(() => openWardenState(directory, now, new MemoryLogger().log)).toThrow(/could not record the import/);

    expect(close).toHaveBeenCalledTimes(1);
  });
});
