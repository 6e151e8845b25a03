import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { importLegacyFiles } from "../../../src/store/legacyImport.js";
import { openWardenState } from "../../../src/store/state.js";
import { taskFileSchema } from "../../../src/tasks/types.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { freshDirectory } from "./storeTestKit.js";

/** State files exactly as the Warden before the database wrote them (audit.jsonl's last line cut by a crash). */
const FIXTURE = join(import.meta.dirname, "../../fixtures/legacy-data");
const LEGACY = ["audit.jsonl", "handled-events.json", "sync.json", "tasks.json"];
const now = (): number => FIXED_NOW;

function oldDataDirectory(): string {
  const directory = freshDirectory();
  cpSync(FIXTURE, directory, { recursive: true });
  return directory;
}

const open = (directory: string) => openWardenState(directory, now, new MemoryLogger().log);

describe("importing the state files of a Warden from before the database", () => {
  it("keeps every task, handled event, the sync state and the audit log, and renames the files *.imported", async () => {
    const directory = oldDataDirectory();

    const state = open(directory);

    const fixtureTasks = taskFileSchema.parse(JSON.parse(readFileSync(join(FIXTURE, "tasks.json"), "utf8"))).tasks;
    expect(state.tasks.all()).toEqual(fixtureTasks);
    expect(state.tasks.get("s-3f9a2c")?.outcome).toEqual({
      kicked_users: ["@bob:example.org", "@carol:example.org"],
      failed_to_kick_users: [],
      local_aliases: ["#spam:example.org"],
      new_room_id: null,
    });
    expect(state.tasks.unfinished().map((task) => task.id)).toEqual(["p-0b1c2d", "r-77aa01"]);
    expect(await state.handled.claim("$status-command")).toBe(false);
    expect(await state.handled.claim("$new-command")).toBe(true);
    expect(state.sync.getSyncToken()).toBe("s72594_4483_1934");
    expect(state.sync.getFilter()).toEqual({ id: "7", filter: { room: { timeline: { limit: 50 } } } });
    expect(state.sync.readValue("appservice_synced")).toBe("true");
    expect(state.audit.query({ since: 0 }).map((entry) => [entry.type, entry.actor])).toEqual([
      ["command", "@alice:example.org"],
      ["task-finished", "@alice:example.org"],
      ["refused-sender", "@mallory:evil.example"],
      ["command", "@alice:example.org"],
    ]);
    expect(state.warnings).toEqual([]);
    expect(readdirSync(directory).sort()).toEqual([...LEGACY.map((name) => `${name}.imported`), "warden.sqlite", "warden.sqlite-shm", "warden.sqlite-wal"].sort());
  });

  it("reports what it imported, counting the line a crash cut short", () => {
    const directory = oldDataDirectory();

    const report = importLegacyFiles(WardenDatabase.open(directory), directory, now);

    expect(report).toEqual({ imported: true, tasks: 3, handledEvents: 4, auditEntries: 4, skippedAuditLines: 1, damaged: [] });
  });

  it("imports once: a later start reads the database only", () => {
    const directory = oldDataDirectory();
    open(directory).database.close();

    const again = open(directory);

    expect(again.audit.query({ since: 0 })).toHaveLength(4);
    expect(again.tasks.all()).toHaveLength(3);
  });

  it("after a crash between the import and the renames, only renames: nothing is imported twice", () => {
    const directory = oldDataDirectory();
    open(directory).database.close();
    // The files as they were before the renames.
    cpSync(FIXTURE, directory, { recursive: true });

    const again = open(directory);

    expect(again.audit.query({ since: 0 })).toHaveLength(4);
    for (const name of LEGACY) expect(existsSync(join(directory, name))).toBe(false);
  });

  it("imports nothing and renames nothing when the import cannot be committed", () => {
    const directory = oldDataDirectory();
    // The same task twice: the second insert breaks the transaction half-way.
    const file = JSON.parse(readFileSync(join(directory, "tasks.json"), "utf8")) as { version: 1; tasks: unknown[] };
    writeFileSync(join(directory, "tasks.json"), JSON.stringify({ ...file, tasks: [...file.tasks, file.tasks[0]] }));

    expect(() => open(directory)).toThrow(/could not record the import of the old state files/);

    for (const name of LEGACY) expect(existsSync(join(directory, name))).toBe(true);
    const database = WardenDatabase.open(directory);
    for (const table of ["tasks", "handled_events", "sync_state", "audit", "meta"]) {
      expect(database.statement(`SELECT count(*) AS n FROM ${table}`).get()).toEqual({ n: 0 });
    }
  });

  it("keeps an unreadable file aside, says so, and imports the others", () => {
    const directory = oldDataDirectory();
    writeFileSync(join(directory, "tasks.json"), '{"version": 1, "tasks": [');

    const state = open(directory);

    expect(state.tasks.all()).toEqual([]);
    expect(state.sync.getSyncToken()).toBe("s72594_4483_1934");
    expect(state.warnings).toEqual(["tasks.json could not be read; it was kept as tasks.json.damaged-2025-01-15T12-00-00-000Z and not imported"]);
    expect(existsSync(join(directory, "tasks.json.damaged-2025-01-15T12-00-00-000Z"))).toBe(true);
  });
});
