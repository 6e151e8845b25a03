import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { startWardenProcess } from "../../scripts/harness/warden.js";
import { mentions, pointAfterNow, repliesTo, type Scenario, startScenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

const EVENTS = 2_000;
const PARALLEL_SENDS = 8;

async function bigRoom(): Promise<{ roomId: string; sampleIds: string[]; cutoff: number }> {
  const roomId = await scenario.spammer.createRoom({ name: "big room", preset: "public_chat" });
  const sampleIds: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < EVENTS) {
      const index = next++;
      const eventId = await scenario.spammer.sendText(roomId, `spam ${index}`);
      if (index % 500 === 0) sampleIds.push(eventId);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_SENDS }, worker));
  const cutoff = await pointAfterNow();
  await scenario.spammer.sendText(roomId, "after the cut-off");
  return { roomId, sampleIds, cutoff };
}

function finalsFor(eventId: string): number {
  return scenario.recorder.events.filter(
    (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0,
  ).length;
}

describe("restarts", () => {
  it("a purge accepted before Warden is killed is resumed and notified exactly once", async () => {
    const { roomId, sampleIds, cutoff } = await bigRoom();
    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${String(cutoff)} --local --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    // The first edit comes after the homeserver's job id is stored: kill Warden then, as a crash would.
    await scenario.jobConfirmed(accepted.event_id, mark);
    await scenario.warden.kill();

    const dataDirectory = scenario.warden.dataDirectory;
    await scenario.startWarden(dataDirectory);
    const final = await scenario.finalFor(eventId, mark);
    expect(bodyOf(final)).toMatch(/done in/);

    // Another restart must not repeat the notification; a later command's answer marks "later".
    await scenario.warden.stop();
    await scenario.startWarden(dataDirectory);
    const probe = await scenario.send("!status");
    await scenario.replyTo(probe.eventId, probe.mark);
    expect(finalsFor(eventId)).toBe(1);

    for (const sampleId of sampleIds) expect(await scenario.admin.adminEventExists(sampleId)).toBe(false);
    const remaining = (await scenario.admin.adminRoomMessages(roomId)).filter((event) => event.type === "m.room.message");
    expect(remaining.map(bodyOf)).toEqual(["after the cut-off"]);
  });

  it("a restart does not run old commands again", async () => {
    const before = await scenario.send("!status");
    await scenario.replyTo(before.eventId, before.mark);
    await scenario.warden.stop();
    await scenario.startWarden(scenario.warden.dataDirectory);
    const after = await scenario.send("!status");
    await scenario.replyTo(after.eventId, after.mark);
    const answersToFirst = scenario.recorder.events.filter(
      (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, before.eventId),
    );
    expect(answersToFirst).toHaveLength(1);
  });

  it("a second Warden on the same data directory exits at once, naming the running one, before asking the homeserver", async () => {
    const dataDirectory = scenario.warden.dataDirectory;
    const running = JSON.parse(readFileSync(join(dataDirectory, "warden.pid"), "utf8")) as { pid: number };
    const second = startWardenProcess({
      // Nothing listens here: a Warden that asked the homeserver first would wait and retry, not exit.
      homeserverUrl: "http://127.0.0.1:9",
      accessToken: scenario.wardenUser.accessToken,
      managementRoom: scenario.managementRoomId,
      allowlist: [scenario.moderatorUser.userId],
      dataDirectory,
    });

    expect(await second.exited).toBe(1);
    expect(second.logs()).toContain(`another Warden is already running on the data directory ${dataDirectory}: process ${String(running.pid)}`);
    // The first one still answers, and only it does.
    const probe = await scenario.send("!status");
    await scenario.replyTo(probe.eventId, probe.mark);
    const answers = scenario.recorder.events.filter((event) => event.sender === scenario.wardenUser.userId && repliesTo(event, probe.eventId));
    expect(answers).toHaveLength(1);
  });
});
