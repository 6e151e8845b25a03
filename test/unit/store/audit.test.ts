import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { auditCommand } from "../../../src/commands/audit.js";
import { renderAudit } from "../../../src/render/audit.js";
import { AuditLog } from "../../../src/store/audit.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { FIXED_NOW, FixedClock } from "../../fakes/fixedClock.js";
import { parseProblem, runCommand } from "../../fakes/runCommand.js";

function openAudit(directory = mkdtempSync(join(tmpdir(), "warden-audit-"))): { directory: string; audit: AuditLog; database: WardenDatabase } {
  const database = WardenDatabase.open(directory);
  return { directory, audit: new AuditLog(database), database };
}

describe("AuditLog", () => {
  it("keeps every entry across a restart, with every field", () => {
    const { directory, audit, database } = openAudit();
    audit.record({ at: 1, type: "command", actor: "@a:x", command: "purge", eventId: "$e", outcome: "task-started", taskId: "p-000001", target: "#r:x", detail: "d" });
    audit.record({ at: 3, type: "refused-sender", actor: "@b:x" });
    database.close();

    const reopened = openAudit(directory).audit;

    expect(reopened.query({ since: 0 })).toEqual([
      { at: 1, type: "command", actor: "@a:x", command: "purge", eventId: "$e", outcome: "task-started", taskId: "p-000001", target: "#r:x", detail: "d" },
      { at: 3, type: "refused-sender", actor: "@b:x" },
    ]);
  });

  it("answers a query by time and by user from the indexes, oldest first", () => {
    const { audit, database } = openAudit();
    for (const [at, actor] of [[30, "@a:x"], [10, "@b:x"], [20, "@a:x"], [5, "@a:x"]] as const) audit.record({ at, type: "command", actor, command: "status" });

    expect(audit.query({ since: 10 }).map((entry) => [entry.at, entry.actor])).toEqual([[10, "@b:x"], [20, "@a:x"], [30, "@a:x"]]);
    expect(audit.query({ since: 10, user: "@a:x" }).map((entry) => entry.at)).toEqual([20, 30]);
    const plans = [
      database.statement("EXPLAIN QUERY PLAN SELECT * FROM audit WHERE at >= ? ORDER BY at, id").all(0),
      database.statement("EXPLAIN QUERY PLAN SELECT * FROM audit WHERE actor = ? AND at >= ? ORDER BY at, id").all("@a:x", 0),
    ].map((rows) => rows.map((row) => String(row["detail"])).join("; "));
    expect(plans[0]).toContain("USING INDEX audit_at");
    expect(plans[1]).toContain("USING INDEX audit_actor_at");
  });

  it("throws a StoreError naming the reason when the entry cannot be stored", () => {
    const { audit, database } = openAudit();
    database.close();

    expect(() => {
      audit.record({ at: 1, type: "refused-sender", actor: "@b:x" });
    }).toThrow(/could not record the audit entry/);
  });
});

describe("!audit", () => {
  const entries = [
    { at: FIXED_NOW - 40 * 86_400_000, type: "command" as const, actor: "@old:x", command: "purge", outcome: "task-started" },
    { at: FIXED_NOW - 3_600_000, type: "command" as const, actor: "@a:x", command: "shutdown", outcome: "task-started", taskId: "s-000001", target: "<b>#room:x</b>" },
    { at: FIXED_NOW - 1_800_000, type: "task-finished" as const, actor: "@a:x", command: "shutdown", outcome: "complete", taskId: "s-000001" },
    { at: FIXED_NOW - 60_000, type: "refused-sender" as const, actor: "@b:x" },
  ];
  const { audit } = openAudit();
  for (const entry of entries) audit.record(entry);
  const command = auditCommand({ auditLog: audit, clock: new FixedClock() });

  it("summarises the last 30 days by default, per person", async () => {
    const outcome = await runCommand(command, "");
    expect(outcome.kind === "audit" && outcome.entries.map((entry) => entry.actor)).toEqual(["@a:x", "@a:x", "@b:x"]);
    const message = outcome.kind === "audit" ? renderAudit(outcome) : undefined;
    expect(message?.plain).toContain("@a:x: 1× !shutdown task-started, 1× shutdown complete");
    expect(message?.plain).toContain("@b:x: 1× refused (not on the allowlist)");
    expect(message?.html).toContain("&lt;b&gt;#room:x&lt;/b&gt;");
    expect(message?.html).not.toContain("<b>#room");
  });

  it("filters by --since and --user", async () => {
    const since = await runCommand(command, "--since 45min");
    expect(since.kind === "audit" && since.entries.map((entry) => entry.type)).toEqual(["task-finished", "refused-sender"]);
    const user = await runCommand(command, "--since 2024-01-01 --user @old:x");
    expect(user.kind === "audit" && user.entries.map((entry) => entry.actor)).toEqual(["@old:x"]);
  });

  it("names a bad --since or --user", () => {
    expect(parseProblem(command, "--since $event")?.argument).toBe("--since");
    expect(parseProblem(command, "--since tomorrow")?.argument).toBe("--since");
    expect(parseProblem(command, "--user alice")?.argument).toBe("--user");
  });
});
