import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { ClientEvent, MatrixClient } from "../../scripts/harness/client.js";
import { MatrixClient as Client } from "../../scripts/harness/client.js";
import { freePort } from "../../scripts/harness/ports.js";
import { bodyOf, isEditOf } from "../../scripts/harness/roomRecorder.js";
import { pointAfterNow, startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;
let metricsUrl: string;

beforeAll(async () => {
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}`;
  scenario = await startScenario({ extraConfig: { reports: { pollEvery: "2s", burst: 5 }, metrics: { listen: `127.0.0.1:${port}` } } });
}, 180_000);

afterAll(async () => {
  await scenario.stop();
});

const isCard = (reportId: number) => (event: ClientEvent) =>
  event.sender === scenario.wardenUser.userId && !("m.new_content" in event.content) && bodyOf(event).startsWith(`Report ${reportId} ·`);

function cardsFor(reportId: number): ClientEvent[] {
  return scenario.recorder.events.filter(isCard(reportId));
}

/** A public room of `owner` that the outsider joins (a reporter must be in the room), with one message. */
async function roomWithMessage(owner: MatrixClient, body: string): Promise<{ roomId: string; eventId: string }> {
  const roomId = await owner.createRoom({ name: "Bazaar", preset: "public_chat" });
  await scenario.outsider.joinRoom(roomId);
  return { roomId, eventId: await owner.sendText(roomId, body) };
}

async function newestReportId(): Promise<number> {
  const { ids } = await scenario.admin.adminEventReports();
  const id = ids[0];
  if (id === undefined) throw new Error("the homeserver lists no report");
  return id;
}

async function sleep(milliseconds: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, milliseconds));
}

describe("event reports against a real Synapse", () => {
  let reportId: number;
  let roomId: string;
  let eventId: string;

  it("posts a card for a report filed from the client API within the poll interval, once, and not again after a restart", async () => {
    ({ roomId, eventId } = await roomWithMessage(scenario.spammer, "cheap <b>pills</b> at https://spam.example"));
    const mark = scenario.recorder.mark();
    await scenario.outsider.reportEvent(roomId, eventId, "spam <script>");
    reportId = await newestReportId();

    const card = await scenario.recorder.waitFor(isCard(reportId), { from: mark, timeoutMs: 15_000, what: `posting report ${reportId}` });
    const lines = bodyOf(card).split("\n");
    expect(lines).toContain(`Reporter: ${scenario.outsider.userId}`);
    expect(lines).toContain(`Room: "Bazaar" (${roomId})`);
    expect(lines).toContain(`Sender: ${scenario.spammer.userId} (0 earlier reports name them)`);
    expect(lines).toContain("Reason: spam <script>");
    expect(lines.some((line) => line.startsWith("▶ ") && line.endsWith(`${scenario.spammer.userId}: cheap <b>pills</b> at https://spam.example   ← reported`))).toBe(true);
    const html = String(card.content["formatted_body"]);
    expect(html).not.toContain("<b>pills</b>");
    expect(html).not.toContain("<script>");

    await sleep(5_000);
    const dataDirectory = scenario.warden.dataDirectory;
    await scenario.warden.stop();
    await scenario.startWarden(dataDirectory);
    await sleep(6_000);
    expect(cardsFor(reportId)).toHaveLength(1);
  }, 90_000);

  it("runs the card's suggested redact command as printed", async () => {
    const card = cardsFor(reportId)[0];
    const line = bodyOf(card ?? ({ content: {} } as ClientEvent))
      .split("\n")
      .find((candidate) => candidate.startsWith("In the room: "));
    const printed = line?.slice("In the room: ".length).split("  ·  ")[0] ?? "";
    expect(printed).toBe(`!redact ${scenario.spammer.userId} --room ${roomId}`);

    const { eventId: commandId, mark } = await scenario.send(printed);
    const preview = await scenario.replyTo(commandId, mark);
    const confirmation = /!confirm (c-[0-9a-f]+)/.exec(bodyOf(preview))?.[1] ?? "";
    await scenario.send(`!confirm ${confirmation}`);
    const final = await scenario.finalFor(commandId, mark);
    expect(bodyOf(final)).toMatch(/done in/);
    const redacted = (await scenario.admin.adminRoomMessages(roomId)).find((event) => event.event_id === eventId);
    expect(redacted?.content["body"]).toBeUndefined();
  }, 120_000);

  it("!report <id> dismiss resolves the report and deletes it on the homeserver", async () => {
    expect((await scenario.admin.adminEventReports()).ids).toContain(reportId);
    const { eventId: commandId, mark } = await scenario.send(`!report ${reportId} dismiss`);
    const reply = await scenario.replyTo(commandId, mark);
    expect(bodyOf(reply)).toBe(`Report ${reportId} is resolved (dismissed) and deleted on the homeserver.`);
    expect((await scenario.admin.adminEventReports()).ids).not.toContain(reportId);
    const card = cardsFor(reportId)[0];
    await scenario.recorder.waitFor((event) => card !== undefined && isEditOf(event, card.event_id) && bodyOf(event).includes("resolved (dismissed and deleted on the homeserver"), {
      from: mark,
      timeoutMs: 10_000,
      what: "editing the card to resolved",
    });
  }, 60_000);

  it("folds ten reports about one sender into five cards and one digest", async () => {
    const raider = new Client(scenario.synapse.baseUrl, await scenario.synapse.registerUser("raider"));
    const mark = scenario.recorder.mark();
    const first = (await scenario.admin.adminEventReports()).ids[0] ?? 0;
    for (let i = 0; i < 10; i++) {
      const { roomId: room, eventId: event } = await roomWithMessage(raider, `raid message ${i}`);
      await scenario.outsider.reportEvent(room, event, `raid ${i}`);
    }
    const digest = await scenario.recorder.waitFor((event) => event.sender === scenario.wardenUser.userId && bodyOf(event).startsWith(`Burst of reports about sender ${raider.userId}`), {
      from: mark,
      timeoutMs: 20_000,
      what: "posting a digest",
    });
    await scenario.recorder.waitFor((event) => isEditOf(event, digest.event_id) && bodyOf(event).includes("5 more reports folded here"), {
      from: mark,
      timeoutMs: 20_000,
      what: "growing the digest to five",
    });
    const cards = scenario.recorder.events.slice(mark).filter((event) => Array.from({ length: 10 }, (_, i) => first + 1 + i).some((id) => isCard(id)(event)));
    expect(cards).toHaveLength(5);
  }, 90_000);

  it("a report that gets the id of a dismissed one after a Synapse restart has its own card, and each dismissal deletes only its own report", async () => {
    const cardAbout = (event: string) => (candidate: ClientEvent) =>
      candidate.sender === scenario.wardenUser.userId && !("m.new_content" in candidate.content) && bodyOf(candidate).startsWith("Report ") && bodyOf(candidate).includes(`Event: ${event}`);
    const numberOn = (card: ClientEvent) => Number(/^Report (\d+)/.exec(bodyOf(card))?.[1]);

    // The newest report, with a score Synapse accepts (an integer, of any size) and a SQLite INTEGER column does not.
    const first = await roomWithMessage(scenario.spammer, "first of two");
    let mark = scenario.recorder.mark();
    await scenario.outsider.reportEvent(first.roomId, first.eventId, "huge score", 1e20);
    const homeserverId = await newestReportId();
    const firstCard = await scenario.recorder.waitFor(cardAbout(first.eventId), { from: mark, timeoutMs: 15_000, what: "posting the report with a huge score" });
    const firstNumber = numberOn(firstCard);
    expect(firstNumber).toBe(homeserverId);
    const dismissed = await scenario.send(`!report ${firstNumber} dismiss`);
    expect(bodyOf(await scenario.replyTo(dismissed.eventId, dismissed.mark))).toBe(`Report ${firstNumber} is resolved (dismissed) and deleted on the homeserver.`);

    // Synapse restarts on the same database and hands the deleted newest id out again.
    await scenario.synapse.halt();
    await scenario.synapse.restart();
    const second = await roomWithMessage(scenario.spammer, "second of two");
    mark = scenario.recorder.mark();
    await scenario.outsider.reportEvent(second.roomId, second.eventId, "same id");
    expect(await newestReportId()).toBe(homeserverId);

    const secondCard = await scenario.recorder.waitFor(cardAbout(second.eventId), { from: mark, timeoutMs: 30_000, what: "posting the report with a reused id" });
    const secondNumber = numberOn(secondCard);
    expect(secondNumber).not.toBe(firstNumber);
    expect(bodyOf(secondCard).split("\n")[0]).toMatch(new RegExp(`^Report ${secondNumber} \\(homeserver report ${homeserverId}\\) · `));

    // The old number is the old report: already resolved, and the new one stays on the homeserver.
    const again = await scenario.send(`!report ${firstNumber} dismiss`);
    expect(bodyOf(await scenario.replyTo(again.eventId, again.mark))).toContain(`report ${firstNumber} was already resolved (dismissed`);
    expect((await scenario.admin.adminEventReports()).ids).toContain(homeserverId);
    const last = await scenario.send(`!report ${secondNumber} dismiss`);
    expect(bodyOf(await scenario.replyTo(last.eventId, last.mark))).toBe(`Report ${secondNumber} is resolved (dismissed) and deleted on the homeserver.`);
    expect((await scenario.admin.adminEventReports()).ids).not.toContain(homeserverId);
  }, 180_000);
});

/** Every line of the Prometheus text format is a comment (# HELP / # TYPE) or `name{labels} value`. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ") || line.startsWith("# TYPE ")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (-?[0-9.e+-]+|NaN|[+-]Inf)$/.exec(line);
    if (match === null) throw new Error(`not Prometheus text: ${line}`);
    samples.set(match[1] ?? "", Number(match[2]));
  }
  return samples;
}

describe("metrics and health against a real Synapse", () => {
  it("/metrics parses as Prometheus text, its command counter moves after a command, and it reveals no ids, content or token", async () => {
    const before = parsePrometheus(await (await fetch(`${metricsUrl}/metrics`)).text());
    const { eventId, mark } = await scenario.send("!help");
    await scenario.replyTo(eventId, mark);
    const text = await (await fetch(`${metricsUrl}/metrics`)).text();
    const after = parsePrometheus(text);

    const help = 'warden_commands_total{command="help",outcome="help-all"}';
    expect(after.get(help)).toBe((before.get(help) ?? 0) + 1);
    // The reports of the tests above were counted by this Warden process (started after the restart).
    expect(after.get("warden_reports_seen_total") ?? 0).toBeGreaterThan(0);
    expect([...after.keys()].some((key) => key.startsWith('warden_admin_requests_total{group="event_reports"'))).toBe(true);
    expect(after.get("warden_homeserver_reachable")).toBe(1);
    expect(after.get("warden_wave_queue_length")).toBe(0);
    expect(text).not.toContain(scenario.wardenUser.accessToken);
    expect(text).not.toContain(scenario.outsider.userId);
    expect(text).not.toContain("raid message");
  });

  it("counts a job by kind and state and times it", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "Old chatter", preset: "public_chat" });
    await scenario.spammer.sendText(roomId, "old");
    // A point after every event of the room: the purge then has history to remove (a point in
    // the room's first second would find nothing sent before it, and start no job).
    const point = await pointAfterNow();
    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${point} --local --yes`);
    await scenario.finalFor(eventId, mark);
    const ended = (metrics: Map<string, number>): number =>
      [...metrics]
        .filter(([key]) => key.startsWith('warden_jobs_total{kind="purge",state="complete"}') || key.startsWith('warden_jobs_total{kind="purge",state="failed"}'))
        .reduce((sum, [, value]) => sum + value, 0);
    // The counter moves once the final notice is delivered, which the room may show a moment earlier.
    const after = await vi.waitFor(async () => {
      const scraped = parsePrometheus(await (await fetch(`${metricsUrl}/metrics`)).text());
      expect(ended(scraped)).toBeGreaterThanOrEqual(1);
      return scraped;
    });
    expect([...after.keys()].some((key) => key.startsWith('warden_job_duration_seconds_count{kind="purge"'))).toBe(true);
    expect(after.get('warden_commands_total{command="purge",outcome="task-started"}')).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it("/healthz turns 503 while Synapse is stopped and 200 after it is back", async () => {
    const status = async (): Promise<number> => (await fetch(`${metricsUrl}/healthz`)).status;
    const until = async (wanted: number, timeoutMs: number): Promise<number> => {
      const deadline = Date.now() + timeoutMs;
      let seen = await status();
      while (seen !== wanted && Date.now() < deadline) {
        await sleep(1000);
        seen = await status();
      }
      return seen;
    };
    expect(await until(200, 30_000)).toBe(200);
    await scenario.synapse.halt();
    try {
      expect(await until(503, 60_000)).toBe(503);
      const body = (await (await fetch(`${metricsUrl}/healthz`)).json()) as { status: string; reason: string };
      expect(body.status).toBe("unhealthy");
      expect(body.reason).not.toContain("@");
    } finally {
      await scenario.synapse.restart();
    }
    expect(await until(200, 90_000)).toBe(200);
  }, 200_000);
});
