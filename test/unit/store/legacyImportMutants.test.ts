import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { importLegacyFiles } from "../../../src/store/legacyImport.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { freshDirectory } from "./storeTestKit.js";

const now = (): number => FIXED_NOW;
const AUDIT_ENTRY = JSON.stringify({ at: 1736939500000, type: "refused-sender", actor: "@mallory:evil.example", eventId: "$refused" });

function rows(database: WardenDatabase, sql: string): unknown[] {
  return database.statement(sql).all().map((row) => ({ ...row }));
}

describe("importing old state files: partial, odd and marked", () => {
  it("imports a data directory that has only sync.json, storing no sync token or filter when they were null", () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, "sync.json"), JSON.stringify({ syncToken: null, filter: null, values: { appservice_synced: "true" } }));
    const database = WardenDatabase.open(directory);

    const report = importLegacyFiles(database, directory, now);

    expect(report).toEqual({ imported: true, tasks: 0, handledEvents: 0, auditEntries: 0, skippedAuditLines: 0, damaged: [] });
    expect(rows(database, "SELECT key, value FROM sync_state ORDER BY key")).toEqual([{ key: "value:appservice_synced", value: "true" }]);
    expect(rows(database, "SELECT event_id FROM handled_events")).toEqual([]);
    expect(existsSync(join(directory, "sync.json.imported"))).toBe(true);
    database.close();
  });

  it("marks the import in the database under legacy_import, with its time", () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, "handled-events.json"), JSON.stringify({ eventIds: ["$old"] }));
    const database = WardenDatabase.open(directory);

    importLegacyFiles(database, directory, now);

    expect(rows(database, "SELECT key, value FROM meta WHERE key = 'legacy_import'")).toEqual([{ key: "legacy_import", value: new Date(FIXED_NOW).toISOString() }]);
    database.close();
  });

  it("keeps aside a file that is JSON but not of the expected shape, and imports nothing of it", () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, "handled-events.json"), JSON.stringify({ eventIds: [1, 2] }));
    const database = WardenDatabase.open(directory);

    const report = importLegacyFiles(database, directory, now);

    expect(report.handledEvents).toBe(0);
    expect(report.damaged).toEqual(["handled-events.json could not be read; it was kept as handled-events.json.damaged-2025-01-15T12-00-00-000Z and not imported"]);
    expect(existsSync(join(directory, "handled-events.json.damaged-2025-01-15T12-00-00-000Z"))).toBe(true);
    database.close();
  });

  it("does not count blank lines of audit.jsonl as skipped, but counts a JSON line that is not an audit entry", () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, "audit.jsonl"), `${AUDIT_ENTRY}\n\n   \n{"not":"an entry"}\n`);
    const database = WardenDatabase.open(directory);

    const report = importLegacyFiles(database, directory, now);

    expect({ auditEntries: report.auditEntries, skippedAuditLines: report.skippedAuditLines }).toEqual({ auditEntries: 1, skippedAuditLines: 1 });
    database.close();
  });
});
