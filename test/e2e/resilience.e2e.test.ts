import { writeFileSync, existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { startWardenProcess } from "../../scripts/harness/warden.js";
import { WardenDatabase } from "../../src/store/database.js";
import { TaskStore } from "../../src/store/tasks.js";
import type { TaskRecord } from "../../src/tasks/types.js";
import { pointAfterNow, repliesTo, type Scenario, startScenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

const ADMIN = "/_synapse/admin/v1";

/** Synapse's own task queue, read with the admin token: the ground truth of what was asked of it. */
async function homeserverTasks(action: string, roomId: string): Promise<{ id: string; status: string }[]> {
  const url = `${scenario.synapse.baseUrl}${ADMIN}/scheduled_tasks?action_name=${action}&resource_id=${encodeURIComponent(roomId)}`;
  const response = await fetch(url, { headers: { authorization: `Bearer ${scenario.wardenUser.accessToken}` } });
  const body = (await response.json()) as { scheduled_tasks: { id: string; status: string }[] };
  return body.scheduled_tasks;
}

async function spamRoom(name: string): Promise<string> {
  const roomId = await scenario.spammer.createRoom({ name, preset: "public_chat" });
  await scenario.spammer.sendText(roomId, "spam");
  return roomId;
}

describe("never twice, never lost", () => {
  it("two shutdowns of one room sent together: one delete reaches Synapse, the second names the first task", async () => {
    const roomId = await spamRoom("twice");
    const first = await scenario.send(`!shutdown ${roomId} --block --yes`);
    const second = await scenario.send(`!shutdown ${roomId} --block --yes`);
    const firstReply = await scenario.replyTo(first.eventId, first.mark);
    const taskId = /s-[0-9a-f]{6}/.exec(bodyOf(firstReply))?.[0] ?? "no task id";
    const secondReply = await scenario.replyTo(second.eventId, second.mark);
    expect(bodyOf(secondReply)).toContain(`already in progress as task ${taskId}`);
    await scenario.finalFor(first.eventId, first.mark);
    expect(await homeserverTasks("shutdown_and_purge_room", roomId)).toHaveLength(1);
  });

  it("a delete accepted by Synapse whose id Warden never stored is found again, not sent again", async () => {
    const roomId = await spamRoom("interrupted");
    await scenario.warden.stop();
    const dataDirectory = scenario.warden.dataDirectory;
    // What a SIGKILL between "request sent" and "delete_id stored" leaves: a task still
    // "submitting" in Warden's database, and a delete that Synapse accepted.
    const commandEventId = await scenario.moderator.sendText(scenario.managementRoomId, "(stands in for the lost command)");
    const now = Date.now();
    const task: TaskRecord = {
      id: "s-abc123",
      kind: "shutdown",
      roomId,
      roomLabel: roomId,
      requester: scenario.moderatorUser.userId,
      managementRoomId: scenario.managementRoomId,
      commandEventId,
      parameters: { knownRoom: true, roomName: "interrupted", joinedMembers: 1, joinedLocalMembers: 1, block: true, purge: true, forcePurge: false },
      status: "submitting",
      createdAt: now,
      statusChangedAt: now,
      finalNotificationSent: false,
    };
    const database = WardenDatabase.open(dataDirectory);
    await new TaskStore(database, Date.now).insert(task);
    database.close();
    const response = await fetch(`${scenario.synapse.baseUrl}/_synapse/admin/v2/rooms/${encodeURIComponent(roomId)}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${scenario.wardenUser.accessToken}`, "content-type": "application/json" },
      body: JSON.stringify({ block: true }),
    });
    expect(response.status).toBe(200);

    const mark = scenario.recorder.mark();
    await scenario.startWarden(dataDirectory);
    const final = await scenario.finalFor(commandEventId, mark);
    expect(bodyOf(final)).toMatch(/Shutdown s-abc123 .* done in/);
    expect(await homeserverTasks("shutdown_and_purge_room", roomId)).toHaveLength(1);
  });

  it("after its state is wiped, Warden does not run the commands already in the room", async () => {
    const roomId = await spamRoom("wiped");
    const old = await scenario.send(`!shutdown ${roomId} --no-purge --yes`);
    await scenario.finalFor(old.eventId, old.mark);
    await scenario.warden.stop();
    const dataDirectory = scenario.warden.dataDirectory;
    const database = WardenDatabase.open(dataDirectory);
    database.transaction("the wipe", () => {
      database.statement("DELETE FROM sync_state").run();
      database.statement("DELETE FROM handled_events").run();
    });
    database.close();
    await scenario.startWarden(dataDirectory);
    const probe = await scenario.send("!status");
    await scenario.replyTo(probe.eventId, probe.mark);
    const answers = scenario.recorder.events.filter((event) => event.sender === scenario.wardenUser.userId && repliesTo(event, old.eventId));
    // The accepted message and the final notification, from the first run only.
    expect(answers).toHaveLength(2);
    expect(await homeserverTasks("shutdown_and_purge_room", roomId)).toHaveLength(1);
  });

  it("upgrading from state files with a corrupt tasks.json: it is kept aside and named, the rest imported, and Warden starts", async () => {
    await scenario.warden.stop();
    const dataDirectory = mkdtempSync(join(tmpdir(), "warden-old-data-"));
    writeFileSync(join(dataDirectory, "tasks.json"), '{"version": 1, "tasks": [{"id": "p-');
    writeFileSync(join(dataDirectory, "handled-events.json"), JSON.stringify({ eventIds: ["$an-old-command"] }));
    const mark = scenario.recorder.mark();
    await scenario.startWarden(dataDirectory);
    const warning = await scenario.recorder.waitFor(
      (event) => event.sender === scenario.wardenUser.userId && bodyOf(event).includes("tasks.json"),
      { from: mark },
    );
    expect(bodyOf(warning)).toMatch(/tasks\.json could not be read; it was kept as tasks\.json\.damaged-\S+ and not imported/);
    const files = readdirSync(dataDirectory);
    expect(files.some((file) => file.startsWith("tasks.json.damaged-"))).toBe(true);
    expect(files).toContain("handled-events.json.imported");
    const probe = await scenario.send("!status");
    expect(bodyOf(await scenario.replyTo(probe.eventId, probe.mark))).toContain("In flight (0)");
  });
});

describe("the homeserver misbehaves", () => {
  it("Synapse restarted in the middle of a job: tracking continues to the end", async () => {
    const roomId = await spamRoom("restart me");
    const { eventId, mark } = await scenario.send(`!shutdown ${roomId} --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    // The first edit follows Synapse's acceptance: the job exists on the homeserver now.
    await scenario.jobConfirmed(accepted.event_id, mark);
    await scenario.synapse.halt();
    await scenario.synapse.restart();
    // A job Synapse was running when it stopped resumes only in its task loop, up to a minute later.
    const final = await scenario.finalFor(eventId, mark, 170_000);
    expect(bodyOf(final)).toMatch(/done in/);
  }, 200_000);

  it("Synapse restarted in the middle of a purge: tracking continues to the end", async () => {
    const roomId = await spamRoom("restart during purge");
    for (let index = 0; index < 200; index++) await scenario.spammer.sendText(roomId, `spam ${index}`);
    const cutoff = await pointAfterNow();
    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${String(cutoff)} --local --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    await scenario.jobConfirmed(accepted.event_id, mark);
    await scenario.synapse.halt();
    await scenario.synapse.restart();
    const final = await scenario.finalFor(eventId, mark, 170_000);
    expect(bodyOf(final)).toMatch(/done in/);
  }, 200_000);

  it("Synapse down when Warden starts: Warden retries and starts working when Synapse appears", async () => {
    await scenario.warden.stop();
    const dataDirectory = scenario.warden.dataDirectory;
    await scenario.synapse.halt();
    const mark = scenario.recorder.mark();
    const early = startWardenProcess({
      homeserverUrl: scenario.synapse.baseUrl,
      accessToken: scenario.wardenUser.accessToken,
      managementRoom: scenario.managementRoomId,
      allowlist: [scenario.moderatorUser.userId],
      dataDirectory,
    });
    try {
      // Wait (by reading its log) until Warden has found Synapse missing at least once.
      const deadline = Date.now() + 30_000;
      while (!early.logs().includes("homeserver not reachable yet") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(early.logs()).toContain("homeserver not reachable yet");
      await scenario.synapse.restart();
      await scenario.recorder.waitFor((event) => event.sender === scenario.wardenUser.userId && bodyOf(event).includes("is ready"), {
        from: mark,
      });
      const probe = await scenario.send("!status");
      expect(bodyOf(await scenario.replyTo(probe.eventId, probe.mark))).toContain("In flight");
      expect(early.logs()).not.toContain(scenario.wardenUser.accessToken);
    } finally {
      await early.stop();
    }
    await scenario.startWarden(dataDirectory);
  });
});

describe("only the right rooms", () => {
  it("refuses commands while the management room is public, and accepts them again once private", async () => {
    const mark = scenario.recorder.mark();
    await scenario.moderator.sendState(scenario.managementRoomId, "m.room.join_rules", "", { join_rule: "public" });
    const warning = await scenario.recorder.waitFor(
      (event) => event.sender === scenario.wardenUser.userId && bodyOf(event).includes("exposed"),
      { from: mark },
    );
    expect(bodyOf(warning)).toContain("join rule: public");
    const refused = await scenario.send("!status");
    expect(bodyOf(await scenario.replyTo(refused.eventId, refused.mark))).toMatch(/^Refused: the management room is exposed/);

    await scenario.moderator.sendState(scenario.managementRoomId, "m.room.join_rules", "", { join_rule: "invite" });
    await scenario.recorder.waitFor((event) => event.sender === scenario.wardenUser.userId && bodyOf(event).includes("private again"), {
      from: refused.mark,
    });
    const accepted = await scenario.send("!status");
    expect(bodyOf(await scenario.replyTo(accepted.eventId, accepted.mark))).toContain("In flight");
    expect(existsSync(scenario.warden.dataDirectory)).toBe(true);
  });
});
