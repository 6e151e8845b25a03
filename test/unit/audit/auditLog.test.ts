import { appendFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLog } from "../../../src/audit/auditLog.js";
import { auditCommand } from "../../../src/commands/audit.js";
import { renderAudit } from "../../../src/render/audit.js";
import { FIXED_NOW, FixedClock } from "../../fakes/fixedClock.js";
import { parseProblem, runCommand } from "../../fakes/runCommand.js";

describe("AuditLog", () => {
  it("keeps every entry across instances and skips a line a crash cut short", () => {
    const directory = mkdtempSync(join(tmpdir(), "warden-audit-"));
    const first = new AuditLog(directory);
    first.record({ at: 1, type: "command", actor: "@a:x", command: "purge", outcome: "task-started", taskId: "p-000001" });
    appendFileSync(join(directory, "audit.jsonl"), '{"at": 2, "type": "comm');
    appendFileSync(join(directory, "audit.jsonl"), "\n");
    const second = new AuditLog(directory);
    second.record({ at: 3, type: "refused-sender", actor: "@b:x" });
    expect(second.entries().map((entry) => [entry.at, entry.actor])).toEqual([
      [1, "@a:x"],
      [3, "@b:x"],
    ]);
  });
});

describe("!audit", () => {
  const entries = [
    { at: FIXED_NOW - 40 * 86_400_000, type: "command" as const, actor: "@old:x", command: "purge", outcome: "task-started" },
    { at: FIXED_NOW - 3_600_000, type: "command" as const, actor: "@a:x", command: "shutdown", outcome: "task-started", taskId: "s-000001", target: "<b>#room:x</b>" },
    { at: FIXED_NOW - 1_800_000, type: "task-finished" as const, actor: "@a:x", command: "shutdown", outcome: "complete", taskId: "s-000001" },
    { at: FIXED_NOW - 60_000, type: "refused-sender" as const, actor: "@b:x" },
  ];
  const command = auditCommand({ auditLog: { entries: () => entries }, clock: new FixedClock() });

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
