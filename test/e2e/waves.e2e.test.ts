import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixHttpError, type ClientEvent } from "../../scripts/harness/client.js";
import { bodyOf, isEditOf } from "../../scripts/harness/roomRecorder.js";
import { startSynapse } from "../../scripts/harness/synapse.js";
import { mentions, pointAfterNow, repliesTo, startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  // As many homeservers run: a room every local user forgot is purged a week later, a task
  // Synapse lists as scheduled from the moment it is forgotten.
  scenario = await startScenario({ synapse: await startSynapse({ extraConfig: { forgotten_room_retention_period: "7d" } }) });
});

afterAll(async () => {
  await scenario.stop();
});

const WAVE_HEADING = /^Wave (w-[0-9a-f]{6}) \(/;

function firstLine(event: ClientEvent): string {
  return bodyOf(event).split("\n")[0] ?? "";
}

function waveIdOf(board: ClientEvent): string {
  const id = WAVE_HEADING.exec(firstLine(board))?.[1];
  if (id === undefined) throw new Error(`no wave id on the board's first line: ${firstLine(board)}`);
  return id;
}

/** The type of the machine-readable record a message of Warden's carries. */
function recordType(event: ClientEvent): unknown {
  const record = event.content["org.warden.record"];
  return record !== null && typeof record === "object" ? (record as Record<string, unknown>)["type"] : undefined;
}

function isEdit(event: ClientEvent): boolean {
  const relation = event.content["m.relates_to"];
  return relation !== null && typeof relation === "object" && (relation as Record<string, unknown>)["rel_type"] === "m.replace";
}

/** Warden's messages from `from` on, edits left out: what a moderator sees as separate messages. */
function wardenPosts(from: number): ClientEvent[] {
  return scenario.recorder.events.slice(from).filter((event) => event.sender === scenario.wardenUser.userId && event.type === "m.room.message" && !isEdit(event));
}

/** Waves' summaries of one command: replies to it that mention someone. */
function summariesOf(commandEventId: string): ClientEvent[] {
  return wardenPosts(0).filter((event) => repliesTo(event, commandEventId) && mentions(event).length > 0);
}

/** Polls the homeserver until `check` holds: the condition is its state, read through the admin API. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The homeserver's own record of jobs on a room (GET /_synapse/admin/v1/scheduled_tasks). */
async function jobsOf(roomId: string, action: "purge_history" | "shutdown_and_purge_room") {
  return (await scenario.admin.adminScheduledTasks()).filter((task) => task.action === action && task.resource_id === roomId);
}

async function hasCompleteJob(roomId: string, action: "purge_history" | "shutdown_and_purge_room"): Promise<boolean> {
  return (await jobsOf(roomId, action)).some((task) => task.status === "complete");
}

async function roomKnown(roomId: string): Promise<boolean> {
  try {
    await scenario.admin.adminRoomDetails(roomId);
    return true;
  } catch (error) {
    if (error instanceof MatrixHttpError && error.status === 404) return false;
    throw error;
  }
}

async function blocked(roomId: string): Promise<boolean> {
  return (await scenario.admin.adminRoomBlockStatus(roomId)).block;
}

async function messageBodies(roomId: string): Promise<string[]> {
  return (await scenario.admin.adminRoomMessages(roomId)).filter((event) => event.type === "m.room.message").map(bodyOf);
}

interface HistoryRoom {
  readonly roomId: string;
  readonly oldIds: readonly string[];
}

/** `count` rooms of the spammer's with `old` messages each, one point after all of them, then one message per room after it. */
async function roomsWithHistory(name: string, count: number, old: number): Promise<{ rooms: HistoryRoom[]; cutoff: number }> {
  const rooms = await Promise.all(
    Array.from({ length: count }, async (_, index): Promise<HistoryRoom> => {
      const roomId = await scenario.spammer.createRoom({ name: `${name} ${String(index)}`, preset: "public_chat" });
      const oldIds: string[] = [];
      for (let message = 0; message < old; message++) oldIds.push(await scenario.spammer.sendText(roomId, `old ${String(message)}`));
      return { roomId, oldIds };
    }),
  );
  const cutoff = await pointAfterNow();
  for (const room of rooms) await scenario.spammer.sendText(room.roomId, "after the point");
  return { rooms, cutoff };
}

/** "purged": every message before the point is gone and the one after stays; "untouched": all are there. */
async function historyOf(room: HistoryRoom): Promise<"purged" | "untouched" | "partly"> {
  const exists = await Promise.all(room.oldIds.map((eventId) => scenario.admin.adminEventExists(eventId)));
  const bodies = await messageBodies(room.roomId);
  if (exists.every((kept) => !kept) && bodies.length === 1 && bodies[0] === "after the point") return "purged";
  if (exists.every((kept) => kept) && bodies.length === room.oldIds.length + 1) return "untouched";
  return "partly";
}

/** A later command's answer: whatever Warden had to say about earlier commands was sent before it. */
async function probe(): Promise<string> {
  const { eventId, mark } = await scenario.send("!status");
  await scenario.replyTo(eventId, mark);
  return eventId;
}

describe("waves at the default pace", () => {
  it("a purge of listed rooms: one board replying to the command, no per-room messages, one summary", async () => {
    const { rooms, cutoff } = await roomsWithHistory("listed purge", 3, 5);
    const { eventId, mark } = await scenario.send(`!purge ${rooms.map((room) => room.roomId).join(" ")} ${String(cutoff)} --local --yes`);

    const board = await scenario.replyTo(eventId, mark);
    expect(board.content["msgtype"]).toBe("m.notice");
    expect(mentions(board)).toEqual([]);
    expect(firstLine(board)).toMatch(/^Wave w-[0-9a-f]{6} \(purge before [^,]+, 3 rooms\): \d+ done, /);
    const summary = await scenario.finalFor(eventId, mark);
    expect(summary.content["msgtype"]).toBe("m.text");
    expect(mentions(summary)).toEqual([scenario.moderatorUser.userId]);
    expect(bodyOf(summary)).toContain(`Wave ${waveIdOf(board)} (purge before`);
    expect(bodyOf(summary)).toMatch(/finished in [^:]+: 3 done, 0 failed\./);

    for (const room of rooms) expect(await historyOf(room)).toBe("purged");
    // The board's last edit follows the summary and counts every room.
    await scenario.recorder.waitFor((event) => isEditOf(event, board.event_id) && /: 3 done, 0 running, 0 queued, 0 failed/.test(bodyOf(event)), {
      from: mark,
      what: "the board's last edit",
    });
    const probeId = await probe();
    const posted = wardenPosts(mark).filter((event) => !repliesTo(event, probeId));
    expect(posted.map((event) => event.event_id)).toEqual([board.event_id, summary.event_id]);
  });

  it("a shutdown of a space: the space and both its rooms blocked and deleted", async () => {
    const server = scenario.synapse.serverName;
    const spaceId = await scenario.spammer.createRoom({ name: "hostile space", preset: "public_chat", creation_content: { type: "m.space" } });
    const children: string[] = [];
    for (const name of ["space child a", "space child b"]) {
      const roomId = await scenario.spammer.createRoom({ name, preset: "public_chat" });
      await scenario.spammer.sendText(roomId, "spam in a child");
      await scenario.spammer.sendState(spaceId, "m.space.child", roomId, { via: [server] });
      children.push(roomId);
    }

    const { eventId, mark } = await scenario.send(`!shutdown --space ${spaceId} --block --purge-now --yes`);
    const board = await scenario.replyTo(eventId, mark);
    expect(firstLine(board)).toMatch(/\(shut down, 3 rooms\)/);
    expect(bodyOf(board)).toContain(`Selection: space ${spaceId} and its rooms.`);
    const summary = await scenario.finalFor(eventId, mark);
    expect(bodyOf(summary)).toMatch(/\(shut down, 3 rooms\) finished in [^:]+: 3 done, 0 failed\./);

    for (const roomId of [spaceId, ...children]) {
      expect(await blocked(roomId)).toBe(true);
      expect(await roomKnown(roomId)).toBe(false);
      expect(await hasCompleteJob(roomId, "shutdown_and_purge_room")).toBe(true);
    }
  });

  it("tasks Synapse scheduled for later (forgotten rooms' purges, a week ahead) take no slot: the wave runs through", async () => {
    const forgotten: string[] = [];
    for (const name of ["forgotten a", "forgotten b", "forgotten c"]) {
      const roomId = await scenario.spammer.createRoom({ name, preset: "private_chat" });
      await scenario.spammer.leaveRoom(roomId);
      await scenario.spammer.forgetRoom(roomId);
      forgotten.push(roomId);
    }
    const scheduledLater = async (): Promise<number> =>
      (await scenario.admin.adminScheduledTasks()).filter((task) => task.action === "purge_room" && task.status === "scheduled" && forgotten.includes(task.resource_id ?? "")).length;
    await until("Synapse scheduled a purge of each forgotten room", async () => (await scheduledLater()) === 3);

    const { rooms, cutoff } = await roomsWithHistory("past forgotten rooms", 3, 3);
    const { eventId, mark } = await scenario.send(`!purge ${rooms.map((room) => room.roomId).join(" ")} ${String(cutoff)} --local --yes`);
    const summary = await scenario.finalFor(eventId, mark);

    expect(bodyOf(summary)).toMatch(/\(purge before [^,]+, 3 rooms\) finished in [^:]+: 3 done, 0 failed\./);
    for (const room of rooms) expect(await historyOf(room)).toBe("purged");
    // Still waiting for their time, untouched.
    expect(await scheduledLater()).toBe(3);
  });

  it("--empty: only a room without local members is blocked", async () => {
    const emptied = await scenario.spammer.createRoom({ name: "left behind", preset: "public_chat" });
    await scenario.spammer.sendText(emptied, "anyone here?");
    await scenario.spammer.leaveRoom(emptied);
    const lively = await scenario.spammer.createRoom({ name: "still used", preset: "public_chat" });
    await scenario.spammer.sendText(lively, "still here");
    // The room list's member counts are updated in the background: the selection reads them.
    await until("the homeserver counts no local member in the emptied room", async () => (await scenario.admin.adminRoomDetails(emptied)).joined_local_members === 0);

    const { eventId, mark } = await scenario.send("!block --empty --yes");
    const board = await scenario.replyTo(eventId, mark);
    expect(bodyOf(board)).toContain("Selection: rooms with no local members.");
    const summary = await scenario.finalFor(eventId, mark);
    // Other tests' emptied rooms may be selected too; only these two are this test's.
    expect(bodyOf(summary)).toMatch(/\(block, \d+ rooms?\) finished in [^:]+: \d+ done, 0 failed\./);
    expect(await blocked(emptied)).toBe(true);
    expect(await blocked(lively)).toBe(false);
    expect(await blocked(scenario.managementRoomId)).toBe(false);
  });
});

describe("a shutdown with --purge-after", () => {
  it("blocks and empties now, keeps the history for the cooldown, then purges", { timeout: 300_000 }, async () => {
    const rooms: { roomId: string; messageId: string }[] = [];
    for (const name of ["cooling a", "cooling b"]) {
      const roomId = await scenario.spammer.createRoom({ name, preset: "public_chat" });
      await scenario.outsider.joinRoom(roomId);
      rooms.push({ roomId, messageId: await scenario.spammer.sendText(roomId, "buy now") });
    }
    const { eventId, mark } = await scenario.send(`!shutdown ${rooms.map((room) => room.roomId).join(" ")} --block --purge-after 1min --yes`);
    const board = await scenario.replyTo(eventId, mark);
    expect(firstLine(board)).toMatch(/\(shut down then purge after [^,]+, 2 rooms\)/);

    await until("both rooms are shut down", async () => (await Promise.all(rooms.map((room) => hasCompleteJob(room.roomId, "shutdown_and_purge_room")))).every(Boolean));
    for (const room of rooms) {
      expect(await blocked(room.roomId)).toBe(true);
      expect(await scenario.admin.adminRoomMembers(room.roomId)).toEqual([]);
      // Phase one keeps the room and its history in the database.
      expect(await roomKnown(room.roomId)).toBe(true);
      expect(await scenario.admin.adminEventExists(room.messageId)).toBe(true);
    }
    await scenario.recorder.waitFor((event) => isEditOf(event, board.event_id) && /Purge phase: 2 waiting until/.test(bodyOf(event)), {
      from: mark,
      what: "the board showing the purge phase waiting",
    });
    // The requester hears that the rooms are emptied; the summary waits for the purge phase.
    const emptied = await scenario.finalFor(eventId, mark);
    expect(bodyOf(emptied)).toMatch(/main phase finished in [^:]+: 2 done, 0 failed\./);
    expect(bodyOf(emptied)).toMatch(/Purge phase: 2 waiting until/);
    expect(summariesOf(eventId).map((event) => event.event_id)).toEqual([emptied.event_id]);

    await until("both rooms are purged from the database", async () => !(await Promise.all(rooms.map((room) => roomKnown(room.roomId)))).some(Boolean), 180_000);
    const summary = await scenario.recorder.waitFor((event) => summariesOf(eventId).includes(event) && event.event_id !== emptied.event_id, {
      from: mark,
      timeoutMs: 60_000,
      what: "the wave's summary",
    });
    expect(bodyOf(summary)).toMatch(/finished in [^:]+: 2 done, 0 failed\./);
    expect(bodyOf(summary)).toMatch(/Purge phase: 2 done, 0 running, 0 queued, 0 failed/);
    for (const room of rooms) {
      expect(await blocked(room.roomId)).toBe(true);
      expect((await jobsOf(room.roomId, "shutdown_and_purge_room")).map((task) => task.status)).toEqual(["complete", "complete"]);
    }
  });
});

describe("one homeserver job at a time", () => {
  beforeAll(async () => {
    await scenario.warden.stop();
    await scenario.startWarden(scenario.warden.dataDirectory, { maxConcurrentJobs: 1 });
  });

  it("!cancel stops sending: the rooms already sent finish, the others are never purged", async () => {
    const { rooms, cutoff } = await roomsWithHistory("cancelled purge", 10, 20);
    const { eventId, mark } = await scenario.send(`!purge ${rooms.map((room) => room.roomId).join(" ")} ${String(cutoff)} --local --yes`);
    const board = await scenario.replyTo(eventId, mark);
    const waveId = waveIdOf(board);
    await until("the homeserver finished one of the wave's purges", async () => (await Promise.all(rooms.map((room) => hasCompleteJob(room.roomId, "purge_history")))).some(Boolean));

    const cancel = await scenario.send(`!cancel ${waveId}`);
    expect(bodyOf(await scenario.replyTo(cancel.eventId, cancel.mark))).toContain(waveId);
    const summary = await scenario.finalFor(eventId, mark);
    expect(bodyOf(summary)).toContain(`cancelled by ${scenario.moderatorUser.userId}, ended after`);
    const counts = /: (\d+) done, 0 failed, (\d+) cancelled before they were sent\./.exec(bodyOf(summary));
    expect(counts, bodyOf(summary)).not.toBeNull();

    let purged = 0;
    for (const room of rooms) {
      const jobs = await jobsOf(room.roomId, "purge_history");
      const history = await historyOf(room);
      if (jobs.length === 0) {
        expect(history).toBe("untouched");
      } else {
        // Sent before the cancel: run to its end, once.
        expect(jobs.map((job) => job.status)).toEqual(["complete"]);
        expect(history).toBe("purged");
        purged++;
      }
    }
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(purged).toBeLessThan(rooms.length);
    expect(Number(counts?.[1])).toBe(purged);
    expect(Number(counts?.[2])).toBe(rooms.length - purged);
    await scenario.recorder.waitFor((event) => isEditOf(event, board.event_id) && firstLine(event).includes(`cancelled by ${scenario.moderatorUser.userId}`), {
      from: mark,
      what: "the board saying who cancelled",
    });
  });

  // A kill can land while a room's purge request is on its way: Warden then looks for the job on
  // the homeserver for up to two minutes (lookWindowMs) before it sends it again, so that the room
  // is never purged twice. The test allows for that window.
  it("a wave survives kill -9: every room purged exactly once, one board, one summary", { timeout: 330_000 }, async () => {
    const { rooms, cutoff } = await roomsWithHistory("crash purge", 6, 20);
    const { eventId, mark } = await scenario.send(`!purge ${rooms.map((room) => room.roomId).join(" ")} ${String(cutoff)} --local --yes`);
    const board = await scenario.replyTo(eventId, mark);
    await until("the homeserver finished one of the wave's purges", async () => (await Promise.all(rooms.map((room) => hasCompleteJob(room.roomId, "purge_history")))).some(Boolean));
    await scenario.warden.kill();
    // Only meaningful if the crash left rooms to send.
    const doneAtCrash = (await Promise.all(rooms.map((room) => hasCompleteJob(room.roomId, "purge_history")))).filter(Boolean).length;
    expect(doneAtCrash).toBeLessThan(rooms.length);

    await scenario.startWarden(scenario.warden.dataDirectory);
    const summary = await scenario.finalFor(eventId, mark, 270_000);
    expect(bodyOf(summary)).toMatch(/\(purge before [^,]+, 6 rooms\) finished in [^:]+: 6 done, 0 failed\./);
    for (const room of rooms) {
      expect((await jobsOf(room.roomId, "purge_history")).map((job) => job.status)).toEqual(["complete"]);
      expect(await historyOf(room)).toBe("purged");
    }
    const probeId = await probe();
    expect(summariesOf(eventId).map((event) => event.event_id)).toEqual([summary.event_id]);
    const posted = wardenPosts(mark).filter((event) => !repliesTo(event, probeId) && !bodyOf(event).includes("is ready"));
    expect(posted.map((event) => event.event_id)).toEqual([board.event_id, summary.event_id]);
    // Every wave of this file so far, over every restart: one summary per command (a main
    // phase's end, told before the summary of a wave with a purge phase, is not a summary).
    const summaries = wardenPosts(0).filter((event) => mentions(event).length > 0 && recordType(event) !== "wave-main-phase-ended");
    const commands = new Set(summaries.map((event) => scenario.recorder.events.find((command) => repliesTo(event, command.event_id))?.event_id));
    expect(commands.size).toBe(summaries.length);
  });
});

describe("a retention policy", () => {
  const POLICY = "waves-e2e";
  const KEEP_MS = 60_000;

  it("runs on its schedule: purges the room with old history, skips the room with nothing before the point", { timeout: 240_000 }, async () => {
    const server = scenario.synapse.serverName;
    const oldRoom = await scenario.spammer.createRoom({ name: "retention old", preset: "public_chat" });
    const oldIds = [await scenario.spammer.sendText(oldRoom, "old a"), await scenario.spammer.sendText(oldRoom, "old b")];
    // The young room does not exist yet: it is created after the scheduler starts, so all its
    // events are younger than `keep` when the run comes. The policy names it by its alias.
    const youngAlias = `#retention-young:${server}`;
    await scenario.warden.stop();
    await scenario.startWarden(scenario.warden.dataDirectory, {
      maxConcurrentJobs: 1,
      retention: [{ name: POLICY, rooms: [oldRoom, youngAlias], keep: "1min", every: "1min", local: true }],
    });
    // The scheduler logs its first run (one `every` after it starts); the purge point will be that run minus `keep`.
    let nextRunAt = 0;
    await until("the scheduler has planned the policy's first run", () => {
      const line = scenario.warden.logs().split("\n").find((text) => text.includes('"retention policy scheduled"') && text.includes(POLICY));
      nextRunAt = line === undefined ? 0 : Number(/"nextRunAt":(\d+)/.exec(line)?.[1] ?? 0);
      return Promise.resolve(nextRunAt > 0);
    });
    // A margin after the earliest possible purge point, so a timer firing late cannot put the young room before it.
    const pointAtEarliest = nextRunAt - KEEP_MS;
    await until("the young room can be created well after the purge point", () => Promise.resolve(Date.now() > pointAtEarliest + 10_000), 30_000);
    const youngRoom = await scenario.spammer.createRoom({ name: "retention young", preset: "public_chat", room_alias_name: "retention-young" });
    const youngIds = [await scenario.spammer.sendText(youngRoom, "young a"), await scenario.spammer.sendText(youngRoom, "young b")];
    await scenario.spammer.sendText(oldRoom, "recent");
    expect(Date.now()).toBeLessThan(nextRunAt);
    const mark = scenario.recorder.mark();

    const summary = await scenario.recorder.waitFor(
      (event) => event.sender === scenario.wardenUser.userId && !isEdit(event) && bodyOf(event).includes(`Retention policy "${POLICY}": `),
      { from: mark, timeoutMs: nextRunAt - Date.now() + 90_000, what: "the retention run's summary" },
    );
    expect(bodyOf(summary)).toContain(`Retention policy "${POLICY}": 1 purged, 1 skipped, 0 failed.`);
    // Nobody asked for a scheduled run: it notifies nobody.
    expect(mentions(summary)).toEqual([]);
    const board = wardenPosts(mark).find((event) => WAVE_HEADING.test(firstLine(event)) && event.event_id !== summary.event_id);
    expect(board, "the run's board").toBeDefined();
    expect(bodyOf(board ?? summary)).toContain(`Retention policy "${POLICY}".`);

    for (const oldId of oldIds) expect(await scenario.admin.adminEventExists(oldId)).toBe(false);
    expect(await messageBodies(oldRoom)).toEqual(["recent"]);
    expect(await jobsOf(oldRoom, "purge_history")).toHaveLength(1);
    for (const youngId of youngIds) expect(await scenario.admin.adminEventExists(youngId)).toBe(true);
    expect(await messageBodies(youngRoom)).toEqual(["young a", "young b"]);
    expect(await jobsOf(youngRoom, "purge_history")).toEqual([]);

    const status = await scenario.send(`!status ${waveIdOf(board ?? summary)}`);
    const rows = bodyOf(await scenario.replyTo(status.eventId, status.mark)).split("\n");
    expect(rows.find((row) => row.includes(youngRoom))).toMatch(/: skipped/);
    expect(rows.find((row) => row.includes(oldRoom))).toMatch(/: done/);
  });
});
