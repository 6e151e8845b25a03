import { describe, expect, it } from "vitest";
import { reportCommand } from "../../../src/commands/reports/report.js";
import { reportsCommand } from "../../../src/commands/reports/reports.js";
import type { StoredReport } from "../../../src/model/reports.js";
import { renderOutcome } from "../../../src/render/replies.js";
import { commandFakes } from "../../fakes/commandDependencies.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { parseProblem, REQUESTER, runCommand } from "../../fakes/runCommand.js";

function setup(count = 3) {
  const fakes = commandFakes();
  const stored: StoredReport[] = [];
  for (let i = 0; i < count; i++) {
    const report = fakes.admin.addReport({ room_id: i % 2 === 0 ? "!a:example.org" : "!b:example.org", event_id: `$e${i}`, received_ts: FIXED_NOW - 1000 * (count - i), sender: `@s${i}:example.org` });
    stored.push({ kind: "event", id: report.id, homeserverId: report.id, receivedTs: report.received_ts, roomId: report.room_id, eventId: report.event_id, reporter: report.user_id, sender: report.sender ?? "", state: "open", changedAt: FIXED_NOW, deletedOnHomeserver: false, cardEventId: `$card${report.id}` });
  }
  fakes.reports.seed(stored);
  return { fakes, report: reportCommand(fakes.dependencies), reports: reportsCommand(fakes.dependencies) };
}

describe("!report", () => {
  it("done resolves the report, edits its card, and keeps it on the homeserver", async () => {
    const { fakes, report } = setup();
    const outcome = await runCommand(report, "2 done");
    expect(outcome).toMatchObject({ kind: "report-changed", change: "done", report: { id: 2, state: "resolved", resolution: "done", changedBy: REQUESTER } });
    expect(fakes.chat.edited.map((edit) => edit.eventId)).toEqual(["$card2"]);
    expect(fakes.chat.edited[0]?.message.plain).toContain(`resolved (done by ${REQUESTER}`);
    expect(fakes.admin.reports.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(await runCommand(report, "2 done")).toMatchObject({ kind: "refused", reason: expect.stringContaining("already resolved") as unknown });
  });

  it("dismiss resolves first and only then deletes it on the homeserver; a failed deletion can be retried", async () => {
    const { fakes, report } = setup();
    fakes.admin.reportFailures.set("deleteEventReport", adminError("server-error", 502));
    const failed = await runCommand(report, "1 dismiss");
    expect(failed).toMatchObject({ kind: "report-changed", change: "dismissed", report: { state: "resolved", deletedOnHomeserver: false }, deletion: { ok: false } });
    expect(renderOutcome(failed, "!", FIXED_NOW)?.plain).toContain("deleting it on the homeserver failed");
    fakes.admin.reportFailures.delete("deleteEventReport");
    const retried = await runCommand(report, "1 dismiss");
    expect(retried).toMatchObject({ report: { deletedOnHomeserver: true }, deletion: { ok: true } });
    expect(fakes.admin.reports.map((r) => r.id)).toEqual([2, 3]);
    expect(fakes.reports.get({ kind: "event", id: 1 })?.state).toBe("resolved");
  });

  it("shows one report in full, and refuses unknown ids and actions", async () => {
    const { report } = setup();
    expect(await runCommand(report, "3")).toMatchObject({ kind: "report-one", card: { report: { id: 3 } } });
    expect(await runCommand(report, "99 done")).toMatchObject({ kind: "refused" });
    expect(parseProblem(report, "x")).toMatchObject({ argument: "<id>" });
    expect(parseProblem(report, "3 delete")).toMatchObject({ argument: "[action]", expected: "done, dismiss or ack" });
  });
});

describe("!reports", () => {
  it("lists open reports newest first, filters by room and user, and pages", async () => {
    const { report, reports } = setup(25);
    await runCommand(report, "25 done");
    const open = await runCommand(reports, "");
    expect(open).toMatchObject({ kind: "report-list", total: 24, nextPageCommand: "!reports --from 20" });
    expect(open.kind === "report-list" && open.reports.map((r) => r.id).slice(0, 2)).toEqual([24, 23]);
    expect(await runCommand(reports, "--all")).toMatchObject({ total: 25 });
    expect(await runCommand(reports, "--room !b:example.org")).toMatchObject({ total: 12 });
    expect(await runCommand(reports, "--user @s3:example.org")).toMatchObject({ total: 1 });
    const page = await runCommand(reports, "--from 20");
    expect(page.kind === "report-list" && page.reports.map((r) => r.id)).toEqual([4, 3, 2, 1]);
    const text = renderOutcome(open, "!", FIXED_NOW)?.plain ?? "";
    expect(text.split("\n")[0]).toBe("Open reports: 24 (showing 1–20)");
    expect(parseProblem(reports, "--room lobby")).toMatchObject({ argument: "--room" });
  });
});
