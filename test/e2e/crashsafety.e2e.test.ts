import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HoldingProxy } from "../../scripts/harness/holdingProxy.js";
import { startSynapse } from "../../scripts/harness/synapse.js";
import { repliesTo, type Scenario, startScenario } from "./scenario.js";

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
