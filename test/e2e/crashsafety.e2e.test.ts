import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HoldingProxy } from "../../scripts/harness/holdingProxy.js";
import { startSynapse } from "../../scripts/harness/synapse.js";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { pointAfterNow, repliesTo, type Scenario, startScenario } from "./scenario.js";

/**
 * "A command that reached the homeserver is answered exactly once", with Warden as a real
 * process stopped in the middle of a burst. A proxy between Warden and Synapse holds Warden's
 * answers, so the commands are certainly in progress when the signal comes: the window is
 * forced, not hoped for.
 */

let scenario: Scenario;
let proxy: HoldingProxy;

beforeAll(async () => {
  const synapse = await startSynapse();
  proxy = await HoldingProxy.start(synapse.baseUrl);
  scenario = await startScenario({ synapse, wardenHomeserverUrl: proxy.url });
});

afterAll(async () => {
  await scenario.stop();
  await proxy.stop();
});

/** Warden's answers to commands: their transaction ids start so (src/matrix/chat.ts answerTransactionId). */
const isAnswer = (method: string, path: string): boolean => method === "PUT" && path.includes("/send/m.room.message/warden-answer-");

const BURST = 10;

async function sendBurst(): Promise<{ eventId: string; mark: number }[]> {
  const sent: { eventId: string; mark: number }[] = [];
  for (let index = 0; index < BURST; index++) {
    sent.push(await scenario.send(index % 2 === 0 ? "!status" : `!room ${scenario.managementRoomId}`));
  }
  return sent;
}

function answersTo(eventId: string): number {
  return scenario.recorder.events.filter((event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId)).length;
}

/** Restarts Warden on the same data, waits for every command's answer, then for one more command's, and counts. */
async function restartAndCount(burst: readonly { eventId: string; mark: number }[]): Promise<number[]> {
  await scenario.startWarden(scenario.warden.dataDirectory);
  for (const command of burst) await scenario.replyTo(command.eventId, command.mark, 60_000);
  // Anything answered twice would be answered by now: a later command's answer comes after it.
  const probe = await scenario.send("!status");
  await scenario.replyTo(probe.eventId, probe.mark);
  return burst.map((command) => answersTo(command.eventId));
}

describe("commands during a restart", () => {
  it("SIGTERM during a burst: the commands in progress finish, Warden exits 0, and none is answered twice", async () => {
    proxy.hold(isAnswer);
    const burst = await sendBurst();
    await proxy.waitForHeld(4);
    let exitCode: number | null | "running" = "running";
    void scenario.warden.exited.then((code) => (exitCode = code));
    const stopping = scenario.warden.stop();
    // The drain waits for the held answers rather than cutting the commands in half.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(exitCode).toBe("running");
    const heldAtSignal = proxy.heldCount();
    proxy.release();
    await stopping;

    expect(exitCode).toBe(0);
    expect(scenario.warden.logs()).toContain('"msg":"stopped"');
    // Every command that was in progress at the signal was answered before Warden exited.
    for (const command of burst.slice(0, heldAtSignal)) await scenario.replyTo(command.eventId, command.mark, 10_000);

    expect(await restartAndCount(burst)).toEqual(burst.map(() => 1));
  });

  it("SIGKILL with answers in flight: the next start answers every command once, and an answer that reached the homeserver is not repeated", async () => {
    proxy.hold(isAnswer);
    const burst = await sendBurst();
    await proxy.waitForHeld(4);
    await scenario.warden.kill();
    // As if Synapse had received those answers just before the kill: the restart sends them
    // again (they were never marked answered) with the same transaction ids.
    proxy.release({ evenIfCallerGone: true });

    expect(await restartAndCount(burst)).toEqual(burst.map(() => 1));
    expect(scenario.warden.logs()).toContain("answering a command an earlier run received but did not answer");
  });
});

describe("a cancel the wave engine crosses", () => {
  it("!cancel while the engine waits for the homeserver's task queue: the rooms it read before are never sent", async () => {
    const rooms: string[] = [];
    for (const name of ["crossed a", "crossed b", "crossed c"]) {
      const roomId = await scenario.spammer.createRoom({ name, preset: "public_chat" });
      await scenario.spammer.sendText(roomId, "old spam");
      rooms.push(roomId);
    }
    const cutoff = await pointAfterNow();
    for (const roomId of rooms) await scenario.spammer.sendText(roomId, "after the point");
    // The engine's first pass reads the rooms due, then waits here for the task queue, holding them.
    proxy.hold((method, path) => method === "GET" && path.startsWith("/_synapse/admin/v1/scheduled_tasks"));
    const { eventId, mark } = await scenario.send(`!purge ${rooms.join(" ")} ${String(cutoff)} --local --yes`);
    const board = await scenario.replyTo(eventId, mark);
    const waveId = /^Wave (w-[0-9a-f]{6}) /.exec(bodyOf(board))?.[1] ?? "no wave id";
    await proxy.waitForHeld(1);

    const cancel = await scenario.send(`!cancel ${waveId}`);
    expect(bodyOf(await scenario.replyTo(cancel.eventId, cancel.mark))).toContain("3 rooms will not be sent");
    proxy.release();
    const summary = await scenario.finalFor(eventId, mark);

    expect(bodyOf(summary)).toMatch(/: 0 done, 0 failed, 3 cancelled before they were sent\./);
    // A later command's answer: whatever the engine was going to send, it has sent by now.
    const probe = await scenario.send("!status");
    await scenario.replyTo(probe.eventId, probe.mark);
    const purges = (await scenario.admin.adminScheduledTasks()).filter((task) => task.action === "purge_history" && rooms.includes(task.resource_id ?? ""));
    expect(purges).toEqual([]);
    for (const roomId of rooms) expect((await scenario.admin.adminRoomMessages(roomId)).map(bodyOf)).toContain("old spam");
  });
});
