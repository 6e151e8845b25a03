import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientEvent } from "../../../scripts/harness/client.js";
import { bodyOf, isEditOf } from "../../../scripts/harness/roomRecorder.js";
import { startScenario, type Scenario } from "../scenario.js";

/**
 * Reports about users against a real Synapse (1.163, which keeps them): a report filed from the
 * client API becomes one card, stays one card across a restart of Warden, and is dismissed on
 * the homeserver by its label.
 */

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario({ extraConfig: { reports: { pollEvery: "2s" } } });
}, 180_000);

afterAll(async () => {
  await scenario.stop();
});

const isCard = (reportId: number) => (event: ClientEvent) =>
  event.sender === scenario.wardenUser.userId && !("m.new_content" in event.content) && bodyOf(event).startsWith(`Report u${reportId} ·`);

function cardsFor(reportId: number): ClientEvent[] {
  return scenario.recorder.events.filter(isCard(reportId));
}

async function newestUserReportId(): Promise<number> {
  const { ids } = await scenario.admin.adminUserReports();
  const id = ids[0];
  if (id === undefined) throw new Error("the homeserver lists no report about a user");
  return id;
}

describe("reports about users against a real Synapse", () => {
  let reportId: number;

  it("posts one card for a report filed with POST /users/<user>/report, and no second one after Warden restarts", async () => {
    let mark = scenario.recorder.mark();
    await scenario.outsider.reportUser(scenario.spammer.userId, "sends <b>spam</b> to everyone");
    reportId = await newestUserReportId();

    const card = await scenario.recorder.waitFor(isCard(reportId), { from: mark, timeoutMs: 15_000, what: `posting user report u${reportId}` });
    const lines = bodyOf(card).split("\n");
    expect(lines).toContain(`Reporter: ${scenario.outsider.userId}`);
    expect(lines).toContain(`Reported user: ${scenario.spammer.userId} (0 earlier reports about them; 0 reports about events they sent)`);
    expect(lines).toContain("Reason: sends <b>spam</b> to everyone");
    expect(lines).toContain(`About the user: !user ${scenario.spammer.userId}  ·  !suspend ${scenario.spammer.userId}  ·  !takedown ${scenario.spammer.userId}`);
    expect(lines).toContain(`This report: !report u${reportId} done  ·  !report u${reportId} dismiss`);
    expect(String(card.content["formatted_body"])).not.toContain("<b>spam</b>");
    expect(card.content["org.warden.record"]).toMatchObject({ type: "report", report_kind: "user", report_id: reportId, target_user_id: scenario.spammer.userId });

    const dataDirectory = scenario.warden.dataDirectory;
    await scenario.warden.stop();
    await scenario.startWarden(dataDirectory);
    // A later report's card proves that the restarted Warden has read the list past the first
    // report: had it not known that one, its card would have come first.
    mark = scenario.recorder.mark();
    await scenario.spammer.reportUser(scenario.outsider.userId, "reports me");
    const later = await newestUserReportId();
    expect(later).not.toBe(reportId);
    await scenario.recorder.waitFor(isCard(later), { from: mark, timeoutMs: 20_000, what: `posting user report u${later} after the restart` });

    expect(cardsFor(reportId)).toHaveLength(1);
    expect(cardsFor(later)).toHaveLength(1);
  }, 120_000);

  it("!report u<id> dismiss resolves the report, deletes it on the homeserver and edits its card", async () => {
    expect((await scenario.admin.adminUserReports()).ids).toContain(reportId);
    const { eventId, mark } = await scenario.send(`!report u${reportId} dismiss`);

    const reply = await scenario.replyTo(eventId, mark);

    expect(bodyOf(reply)).toBe(`Report u${reportId} is resolved (dismissed) and deleted on the homeserver.`);
    expect((await scenario.admin.adminUserReports()).ids).not.toContain(reportId);
    const card = cardsFor(reportId)[0];
    await scenario.recorder.waitFor((event) => card !== undefined && isEditOf(event, card.event_id) && bodyOf(event).includes("resolved (dismissed and deleted on the homeserver"), {
      from: mark,
      timeoutMs: 10_000,
      what: "editing the user report's card to resolved",
    });
  }, 60_000);
});
