import { describe, expect, it } from "vitest";
import type { ReportCard, StoredEventReport } from "../../../src/model/reports.js";
import { buildCard, contextLine } from "../../../src/reports/enrich.js";
import { renderReportCard, renderReportOutcome } from "../../../src/render/reports.js";
import { adminError } from "../../fakes/fakeAdmin.js";
import { FakeReportAdmin } from "../../fakes/fakeReportAdmin.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";

const ROOM = "!lobby:example.org";
const HOSTILE = '<img src=x onerror=alert(1)> <a href="https://evil">click</a> **bold** @room';

function report(overrides: Partial<StoredEventReport> = {}, withoutSender = false): StoredEventReport {
  const full: StoredEventReport = {
    kind: "event",
    id: 12,
    homeserverId: overrides.id ?? 12,
    receivedTs: FIXED_NOW,
    roomId: ROOM,
    roomName: "Lobby <b>",
    canonicalAlias: "#lobby:example.org",
    eventId: "$bad",
    reporter: "@alice:example.org",
    sender: "@spammer:example.org",
    reason: "spam",
    state: "open",
    changedAt: FIXED_NOW,
    deletedOnHomeserver: false,
    ...overrides,
  };
  if (!withoutSender) return full;
  return Object.fromEntries(Object.entries(full).filter(([key]) => key !== "sender")) as unknown as StoredEventReport;
}

/** The card of an event report (buildCard gives one for an event report). */
function eventCard(card: ReportCard): Extract<ReportCard, { kind: "event" }> {
  if (card.kind !== "event") throw new Error("not an event report's card");
  return card;
}

function adminWithContext(content: Record<string, unknown>, type = "m.room.message"): FakeReportAdmin {
  const admin = new FakeReportAdmin();
  const event = (id: string, body: string, ts: number) => ({ event_id: id, type: "m.room.message", sender: "@bob:example.org", origin_server_ts: ts, content: { msgtype: "m.text", body } });
  admin.contexts.set("$bad", {
    event: { event_id: "$bad", type, sender: "@spammer:example.org", origin_server_ts: FIXED_NOW - 1000, content },
    events_before: [event("$b2", "second", FIXED_NOW - 2000), event("$b1", "first", FIXED_NOW - 3000)],
    events_after: [event("$a1", "after", FIXED_NOW)],
  });
  // Two received before the report, two at or after it (the list is by received time, not id).
  for (let i = 1; i <= 4; i++) admin.addReport({ room_id: ROOM, event_id: `$x${i}`, received_ts: FIXED_NOW - 3 + i });
  return admin;
}

describe("report cards", () => {
  it("show id, time, reporter, room, sender with earlier reports, reason, context and ready commands", async () => {
    const admin = adminWithContext({ msgtype: "m.text", body: "buy now" });
    const message = renderReportCard(await buildCard(report({ id: 3 }), admin), "!");
    expect(message.plain).toBe(
      [
        "Report 3 · 2025-01-15 12:00:00 UTC · open",
        "Reporter: @alice:example.org",
        'Room: "Lobby <b>" #lobby:example.org (!lobby:example.org)',
        "Sender: @spammer:example.org (2 earlier reports name them)",
        "Reason: spam",
        "Event: $bad",
        "  11:59 @bob:example.org: first",
        "  11:59 @bob:example.org: second",
        "▶ 11:59 @spammer:example.org: buy now   ← reported",
        "  12:00 @bob:example.org: after",
        "In the room: !redact @spammer:example.org --room !lobby:example.org  ·  !purge !lobby:example.org $bad",
        "Across the server: !redact @spammer:example.org  ·  !takedown @spammer:example.org  ·  !shutdown !lobby:example.org",
        "This report: !report 3 done  ·  !report 3 dismiss",
        "Or react: 🧹 redact in the room, 🗑️ purge up to the event, 🔨 redact everywhere, 💥 shut the room down, 👍 done. Each shows its preview first; nothing runs on one click.",
      ].join("\n"),
    );
    expect(message.record).toMatchObject({ type: "report", report_id: 3, state: "open" });
  });

  it("never renders reported text, reasons or names as HTML, and bounds them", async () => {
    const admin = adminWithContext({ msgtype: "m.text", body: HOSTILE.repeat(50), format: "org.matrix.custom.html", formatted_body: "<h1>big</h1>" });
    const message = renderReportCard(await buildCard(report({ reason: HOSTILE.repeat(40), roomName: HOSTILE }), admin), "!");
    expect(message.html).not.toMatch(/<img|<a href="https:\/\/evil|<h1>/);
    expect(message.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(message.plain.length).toBeLessThan(4000);
    expect(Buffer.byteLength(message.html)).toBeLessThan(32 * 1024);
  });

  it('says "encrypted" for an encrypted event and "context unavailable" when the homeserver is busy', async () => {
    const encrypted = renderReportCard(await buildCard(report(), adminWithContext({ algorithm: "m.megolm.v1.aes-sha2", ciphertext: "xyz" }, "m.room.encrypted")), "!");
    expect(encrypted.plain).toContain("▶ 11:59 @spammer:example.org: [encrypted]");
    const busy = adminWithContext({ body: "x" });
    busy.reportFailures.set("eventContext", adminError("rate-limited", 429));
    expect(renderReportCard(await buildCard(report(), busy), "!").plain).toContain("Event: $bad: context unavailable: the homeserver is too busy");
  });

  it("leaves out the sender's commands when the homeserver does not have the event", async () => {
    const message = renderReportCard(await buildCard(report({}, true), new FakeReportAdmin()), "!");
    expect(message.plain).toContain("Sender: unknown (the homeserver does not have the event)");
    expect(message.plain).toContain("In the room: !purge !lobby:example.org $bad");
    expect(message.plain).not.toContain("!redact");
    expect(message.plain).not.toContain("!takedown");
  });
});

describe("a report whose homeserver id was handed out again", () => {
  it("shows Warden's number, and the homeserver's id beside it, on its card and in !reports", async () => {
    const reused = report({ id: 13, homeserverId: 12 });
    const card = renderReportCard(await buildCard(reused, new FakeReportAdmin()), "!");
    expect(card.plain.split("\n")[0]).toBe("Report 13 (homeserver report 12) · 2025-01-15 12:00:00 UTC · open");
    expect(card.html).toContain("<b>Report 13 (homeserver report 12)</b>");
    expect(card.plain).toContain("This report: !report 13 done  ·  !report 13 dismiss");
    expect(card.record).toMatchObject({ report_id: 13, homeserver_report_id: 12 });

    const listed = renderReportOutcome({ kind: "report-list", reports: [reused, report({ id: 12 })], total: 2, from: 0, filter: { includeResolved: false } }, "!");
    expect(listed.plain.split("\n").slice(1, 3)).toEqual([
      '#13 (homeserver report 12) 2025-01-15 12:00:00 UTC · @spammer:example.org in "Lobby <b>" #lobby:example.org (!lobby:example.org) · "spam" · open',
      '#12 2025-01-15 12:00:00 UTC · @spammer:example.org in "Lobby <b>" #lobby:example.org (!lobby:example.org) · "spam" · open',
    ]);
    expect(listed.html).toContain("<b>#13 (homeserver report 12)</b> 2025-01-15");
  });

  it("counts the earlier reports about its sender by received time, not by id (a reused id is the newest)", async () => {
    const admin = new FakeReportAdmin();
    // Homeserver ids 1–3 were filed before; id 2 was deleted, and after a restart handed out again to the newest report.
    admin.addReport({ room_id: ROOM, event_id: "$x1", received_ts: FIXED_NOW - 3000 });
    admin.reports.push({ id: 3, room_id: ROOM, event_id: "$x3", received_ts: FIXED_NOW - 1000, user_id: "@r:example.org", sender: "@spammer:example.org" });
    admin.reports.push({ id: 2, room_id: ROOM, event_id: "$bad", received_ts: FIXED_NOW, user_id: "@alice:example.org", sender: "@spammer:example.org" });

    const card = await buildCard(report({ id: 4, homeserverId: 2 }), admin);

    expect(eventCard(card).earlierAboutSender).toBe(2);
  });
});

describe("what a card shows of the reported event and its neighbours", () => {
  const at = FIXED_NOW - 1000;
  const line = (type: string, content: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    contextLine({ event_id: "$x", type, sender: "@s:example.org", origin_server_ts: at, content, ...extra }, false);

  it.each(["m.image", "m.video", "m.audio", "m.file"])("names the media kind of an %s message", (msgtype) => {
    expect(line("m.room.message", { msgtype, body: "cat.bin" })).toEqual({ sender: "@s:example.org", at, reported: false, text: `${msgtype}: cat.bin`, placeholder: false });
  });

  it("shows a sticker's body as media, a text message as itself, and marks the reported line", () => {
    expect(line("m.sticker", { body: "wave" })).toMatchObject({ text: "m.sticker: wave", placeholder: false });
    expect(line("m.room.message", { msgtype: "m.text", body: "hello" })).toMatchObject({ text: "hello", placeholder: false });
    expect(line("m.room.message", { body: "no msgtype" })).toMatchObject({ text: "no msgtype", placeholder: false });
    expect(contextLine({ event_id: "$x", type: "m.room.message", sender: "@s:example.org", origin_server_ts: at, content: { body: "it" } }, true).reported).toBe(true);
  });

  it("says redacted, no text, state event or event for what has no text to show", () => {
    expect(line("m.room.message", {})).toMatchObject({ text: "redacted", placeholder: true });
    expect(line("m.room.message", { msgtype: "m.location", geo_uri: "geo:1,2" })).toMatchObject({ text: "no text", placeholder: true });
    expect(line("m.room.name", { name: "Lobby" }, { state_key: "" })).toMatchObject({ text: "state event m.room.name", placeholder: true });
    expect(line("m.reaction", { body: "not shown" })).toMatchObject({ text: "event m.reaction", placeholder: true });
  });

  it("says why the context is unavailable: the event is gone, or what the homeserver answered", async () => {
    const gone = await buildCard(report(), new FakeReportAdmin());
    expect(eventCard(gone).context).toEqual({ kind: "unavailable", why: "the homeserver no longer has this event (redacted away, purged, or never received)" });
    const refused = new FakeReportAdmin();
    refused.reportFailures.set("eventContext", adminError("forbidden", 403, "You are not a server admin"));
    expect(eventCard(await buildCard(report(), refused)).context).toEqual({ kind: "unavailable", why: `context unavailable: ${adminError("forbidden", 403, "You are not a server admin").userMessage}` });
  });

  it("asks the homeserver for the sender's reports newest first, and not at all when the sender is unknown", async () => {
    const admin = new FakeReportAdmin();
    await buildCard(report(), admin);
    expect(admin.reportCalls.filter((call) => call.method === "eventReports")).toEqual([{ method: "eventReports", query: { eventSender: "@spammer:example.org", direction: "b", limit: 100 } }]);

    const unknown = new FakeReportAdmin();
    const card = await buildCard(report({}, true), unknown);
    expect(eventCard(card).earlierAboutSender).toBeUndefined();
    expect(unknown.reportCalls.filter((call) => call.method === "eventReports")).toEqual([]);
  });
});
