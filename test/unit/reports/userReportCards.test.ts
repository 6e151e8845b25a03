import { describe, expect, it } from "vitest";
import { reportCommand } from "../../../src/commands/reports/report.js";
import { reportsCommand } from "../../../src/commands/reports/reports.js";
import { parseReportLabel, reportLabel, type ReportCard, type StoredEventReport, type StoredReport, type StoredUserReport } from "../../../src/model/reports.js";
import { renderOutcome } from "../../../src/render/replies.js";
import { renderReportCard, renderReportOutcome } from "../../../src/render/reports.js";
import { buildCard } from "../../../src/reports/enrich.js";
import { cardReactionCommand } from "../../../src/reports/reactions.js";
import { commandFakes } from "../../fakes/commandDependencies.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FakeReportAdmin, listUserReportsAsSynapse } from "../../fakes/fakeReportAdmin.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { parseProblem, REQUESTER, runCommand } from "../../fakes/runCommand.js";

const HOSTILE = '<img src=x onerror=alert(1)> <a href="https://evil">click</a> @room';

function userReport(overrides: Partial<StoredUserReport> = {}): StoredUserReport {
  return {
    kind: "user",
    id: 4,
    homeserverId: overrides.id ?? 4,
    receivedTs: FIXED_NOW,
    target: "@bob:example.org",
    reporter: "@alice:example.org",
    reason: "harassment",
    state: "open",
    changedAt: FIXED_NOW,
    deletedOnHomeserver: false,
    ...overrides,
  };
}

function eventReport(overrides: Partial<StoredEventReport> = {}): StoredEventReport {
  return {
    kind: "event",
    id: 4,
    homeserverId: 4,
    receivedTs: FIXED_NOW - 1000,
    roomId: "!lobby:example.org",
    eventId: "$bad",
    reporter: "@carol:example.org",
    sender: "@bob:example.org",
    reason: "spam",
    state: "open",
    changedAt: FIXED_NOW,
    deletedOnHomeserver: false,
    ...overrides,
  };
}

function userCard(card: ReportCard): Extract<ReportCard, { kind: "user" }> {
  if (card.kind !== "user") throw new Error("not a user report's card");
  return card;
}

describe("report labels", () => {
  it("write a user report as u<n> and an event report as its bare number, and read both back", () => {
    expect(reportLabel({ kind: "user", id: 12 })).toBe("u12");
    expect(reportLabel({ kind: "event", id: 12 })).toBe("12");
    expect(parseReportLabel("u12")).toEqual({ kind: "user", id: 12 });
    expect(parseReportLabel("U12")).toEqual({ kind: "user", id: 12 });
    expect(parseReportLabel("12")).toEqual({ kind: "event", id: 12 });
    for (const wrong of ["", "u", "12u", "e12", "u-1", "1.5", "#12", "u1234567890123456"]) expect(parseReportLabel(wrong)).toBeUndefined();
  });
});

describe("a user report's card", () => {
  it("counts the earlier reports about exactly this user (Synapse's filter is a substring match) and the reports about events they sent", async () => {
    const admin = new FakeReportAdmin();
    admin.addUserReport({ target_user_id: "@bob:example.org", received_ts: FIXED_NOW - 3000 });
    admin.addUserReport({ target_user_id: "@bobby:example.org", received_ts: FIXED_NOW - 2500 });
    admin.addUserReport({ target_user_id: "@BOB:example.org", received_ts: FIXED_NOW - 2400 });
    admin.addUserReport({ target_user_id: "@bob:example.org", received_ts: FIXED_NOW - 2000 });
    admin.addUserReport({ target_user_id: "@bob:example.org", received_ts: FIXED_NOW });
    admin.addUserReport({ target_user_id: "@bob:example.org", received_ts: FIXED_NOW + 10 });
    admin.addReport({ room_id: "!r:example.org", event_id: "$1", received_ts: 1, sender: "@bob:example.org" });
    admin.addReport({ room_id: "!r:example.org", event_id: "$2", received_ts: 2, sender: "@bobby:example.org" });
    listUserReportsAsSynapse(admin);

    const card = userCard(await buildCard(userReport(), admin));

    expect(card.earlierAboutTarget).toEqual({ count: 2, atLeast: false });
    expect(card.eventReportsAboutTarget).toBe(1);
    expect(admin.userCalls.filter((call) => call.method === "userReports")).toEqual([{ method: "userReports", query: { target: "@bob:example.org", direction: "b", limit: 100 } }]);
    expect(renderReportCard(card, "!").plain).toContain("Reported user: @bob:example.org (2 earlier reports about them; 1 report about events they sent)");
  });

  it('says "at least" when the homeserver holds more reports than one read counts, and "not counted" when it could not count', async () => {
    const many = new FakeReportAdmin();
    for (let i = 0; i < 101; i++) many.addUserReport({ target_user_id: "@bob:example.org", received_ts: FIXED_NOW - 1000 - i });
    const counted = userCard(await buildCard(userReport(), many));
    expect(counted.earlierAboutTarget).toEqual({ count: 100, atLeast: true });
    expect(renderReportCard(counted, "!").plain).toContain("(at least 100 earlier reports about them; 0 reports about events they sent)");

    const failing = new FakeReportAdmin();
    failing.userFailures.set("userReports", adminError("server-error", 502));
    failing.reportFailures.set("eventReports", adminError("server-error", 502));
    const uncounted = userCard(await buildCard(userReport(), failing));
    expect(uncounted).toEqual({ kind: "user", report: userReport() });
    expect(renderReportCard(uncounted, "!").plain).toContain("Reported user: @bob:example.org (earlier reports not counted)");
  });

  it("never renders the reason or the ids as HTML, shows its state, and offers 👍 only while open", () => {
    const open = renderReportCard({ kind: "user", report: userReport({ reason: HOSTILE, target: `@${HOSTILE}:example.org` }) }, "!");
    expect(open.html).not.toMatch(/<img|<a href/);
    expect(open.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(open.plain).toContain("Or react: 👍 done.");

    const resolved = renderReportCard({ kind: "user", report: userReport({ state: "resolved", resolution: "dismissed", deletedOnHomeserver: true, changedBy: "@mod:example.org", changedAt: FIXED_NOW }) }, "!");
    expect(resolved.plain.split("\n")[0]).toBe("Report u4 · 2025-01-15 12:00:00 UTC · resolved (dismissed and deleted on the homeserver by @mod:example.org, 2025-01-15 12:00:00 UTC)");
    expect(resolved.plain).not.toContain("Or react");
  });

  it("runs 👍 as !report u<n> done and no other card reaction (the commands about the user are printed, not reactions)", () => {
    const report = userReport({ id: 7, cardEventId: "$card" });
    const acknowledged: unknown[] = [];
    const command = cardReactionCommand(
      {
        reportForCard: (eventId) => (eventId === "$card" ? report : undefined),
        acknowledge: (ref) => {
          acknowledged.push(ref);
          return Promise.resolve({ ok: false as const, error: "not here" });
        },
      },
      "!",
    );
    expect(command("$card", "👍", REQUESTER)).toBe("!report u7 done");
    for (const key of ["🧹", "🗑️", "🔨", "💥"]) expect(command("$card", key, REQUESTER)).toBeUndefined();
    expect(acknowledged).toEqual([]);
  });
});

describe("an event report's card about a known sender", () => {
  it("offers !takedown <sender> among the commands across the server", async () => {
    const card = renderReportCard(await buildCard(eventReport(), new FakeReportAdmin()), "!");
    expect(card.plain).toContain("Across the server: !redact @bob:example.org  ·  !takedown @bob:example.org  ·  !shutdown !lobby:example.org");
    expect(card.record).toMatchObject({ report_kind: "event", report_id: 4 });
  });
});

function seeded() {
  const fakes = commandFakes();
  const stored: StoredReport[] = [eventReport({ id: 1, homeserverId: 1, cardEventId: "$e-card" }), userReport({ id: 1, homeserverId: 1, cardEventId: "$u-card", receivedTs: FIXED_NOW - 500 })];
  fakes.admin.addReport({ room_id: "!lobby:example.org", event_id: "$bad", received_ts: FIXED_NOW - 1000, user_id: "@carol:example.org", sender: "@bob:example.org" });
  fakes.admin.addUserReport({ target_user_id: "@bob:example.org", user_id: "@alice:example.org", received_ts: FIXED_NOW - 500, reason: "harassment" });
  fakes.reports.seed(stored);
  return { fakes, report: reportCommand(fakes.dependencies), reports: reportsCommand(fakes.dependencies) };
}

describe("!report with a user report's label", () => {
  it("shows the user report for u1 and the event report for 1", async () => {
    const { report } = seeded();
    expect(await runCommand(report, "u1")).toMatchObject({ kind: "report-one", card: { kind: "user", report: { kind: "user", id: 1, target: "@bob:example.org" } } });
    expect(await runCommand(report, "1")).toMatchObject({ kind: "report-one", card: { kind: "event", report: { kind: "event", id: 1 } } });
    expect(await runCommand(report, "u9")).toEqual({ kind: "refused", reason: "Warden has no report about a user u9: it knows the reports it posted here (see !reports --all)." });
  });

  it("done and dismiss act on the user report only, and the replies name it by its label", async () => {
    const { fakes, report } = seeded();
    const done = await runCommand(report, "U1 done");
    expect(done).toMatchObject({ kind: "report-changed", change: "done", report: { kind: "user", id: 1, state: "resolved", changedBy: REQUESTER } });
    expect(renderOutcome(done, "!", FIXED_NOW)?.plain).toBe("Report u1 is resolved (done).");
    expect(fakes.chat.edited.map((edit) => edit.eventId)).toEqual(["$u-card"]);
    expect(fakes.reports.get({ kind: "event", id: 1 })?.state).toBe("open");

    const other = seeded();
    const dismissed = await runCommand(other.report, "u1 dismiss");
    expect(renderOutcome(dismissed, "!", FIXED_NOW)?.plain).toBe("Report u1 is resolved (dismissed) and deleted on the homeserver.");
    expect(other.fakes.admin.userReportList).toEqual([]);
    expect(other.fakes.admin.reports).toHaveLength(1);
  });

  it("refuses an id that is neither form, saying both", () => {
    const { report } = seeded();
    for (const wrong of ["x1", "u", "1u", "e1"]) {
      expect(parseProblem(report, wrong)).toEqual({
        argument: "<id>",
        given: wrong,
        expected: "a report id as on the report's card: a whole number (12) for an event report, or u and a whole number (u12) for a report about a user",
      });
    }
  });
});

describe("!reports with both kinds", () => {
  it("lists both kinds newest first, filters by kind and by the reported user, and carries --kind to the next page", async () => {
    const { reports } = seeded();
    const both = await runCommand(reports, "");
    expect(both.kind === "report-list" && both.reports.map((r) => reportLabel(r))).toEqual(["u1", "1"]);
    const text = renderOutcome(both, "!", FIXED_NOW)?.plain.split("\n") ?? [];
    expect(text.slice(0, 3)).toEqual([
      "Open reports: 2",
      '#u1 2025-01-15 11:59:59 UTC · about user @bob:example.org · "harassment" · open',
      '#1 2025-01-15 11:59:59 UTC · @bob:example.org in (!lobby:example.org) · "spam" · open',
    ]);
    expect(text.at(-1)).toBe("One in full: !report <id> (u<id> for a report about a user)");

    const users = await runCommand(reports, "--kind user");
    expect(users).toMatchObject({ total: 1, filter: { kind: "user" } });
    expect(renderOutcome(users, "!", FIXED_NOW)?.plain.split("\n")[0]).toBe("Open reports about users: 1");
    expect(await runCommand(reports, "--kind event --all")).toMatchObject({ total: 1, filter: { kind: "event", includeResolved: true } });
    expect(await runCommand(reports, "--user @bob:example.org")).toMatchObject({ total: 2 });
    expect(await runCommand(reports, "--user @alice:example.org")).toMatchObject({ total: 1 });

    const page = renderReportOutcome({ kind: "report-list", reports: [], total: 30, from: 0, filter: { includeResolved: false, kind: "user" }, nextPageCommand: "!reports --kind user --from 20" }, "!");
    expect(page.plain).toContain("Next page: !reports --kind user --from 20");
  });

  it("refuses an unknown kind, and a room with the user kind", () => {
    const { reports } = seeded();
    expect(parseProblem(reports, "--kind rooms")).toEqual({ argument: "--kind", given: "rooms", expected: "event (reports about events) or user (reports about users)" });
    expect(parseProblem(reports, "--kind user --room !lobby:example.org")).toMatchObject({ argument: "--room", expected: "no --room with --kind user: reports about users name no room" });
  });
});

describe("a dismissal that found the id reused by another report about a user", () => {
  it("says whose the report is now, by Warden's label when Warden took it", () => {
    const message = renderReportOutcome(
      {
        kind: "report-changed",
        report: userReport({ state: "resolved", resolution: "dismissed", deletedOnHomeserver: true }),
        change: "dismissed",
        deletion: { ok: true, reusedBy: { kind: "user", target: "@eve:example.org", reporter: "@dan:example.org", receivedTs: FIXED_NOW, wardenId: 5 } },
      },
      "!",
    );
    expect(message.plain).toBe(
      "Report u4 is resolved (dismissed). The homeserver no longer has it: its id there, 4, now belongs to another report (Warden's report u5, filed by @dan:example.org about user @eve:example.org, 2025-01-15 12:00:00 UTC), which Warden left alone.",
    );
  });
});
