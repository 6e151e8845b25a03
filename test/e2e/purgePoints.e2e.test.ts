import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyOf } from "../../scripts/harness/roomRecorder.js";
import { pointAfterNow, startScenario, type Scenario } from "./scenario.js";

let scenario: Scenario;

beforeAll(async () => {
  scenario = await startScenario();
});

afterAll(async () => {
  await scenario.stop();
});

async function roomWithMessages(count: number, alias?: string) {
  const roomId = await scenario.spammer.createRoom({
    name: "points",
    preset: "public_chat",
    ...(alias === undefined ? {} : { room_alias_name: alias }),
  });
  const eventIds: string[] = [];
  for (let index = 0; index < count; index++) eventIds.push(await scenario.spammer.sendText(roomId, `message ${index}`));
  return { roomId, eventIds };
}

async function existing(eventIds: readonly string[]): Promise<boolean[]> {
  return Promise.all(eventIds.map((eventId) => scenario.admin.adminEventExists(eventId)));
}

describe("!purge up to an event", () => {
  it("keeps the named event and deletes earlier ones (event ID)", async () => {
    const { roomId, eventIds } = await roomWithMessages(6);
    const point = eventIds[3] ?? "";
    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${point} --local --yes`);
    expect(bodyOf(await scenario.finalFor(eventId, mark))).toMatch(/done in/);
    expect(await existing(eventIds)).toEqual([false, false, false, true, true, true]);
  });

  it("accepts a matrix.to permalink to the event, and an alias as the room", async () => {
    const { roomId, eventIds } = await roomWithMessages(5, "pointsalias");
    const point = eventIds[2] ?? "";
    const link = `https://matrix.to/#/${encodeURIComponent(roomId)}/${encodeURIComponent(point)}?via=localhost`;
    const { eventId, mark } = await scenario.send(`!purge #pointsalias:localhost ${link} --local --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    expect(bodyOf(accepted)).toContain(`#pointsalias:localhost (${roomId})`);
    expect(bodyOf(await scenario.finalFor(eventId, mark))).toMatch(/done in/);
    expect(await existing(eventIds)).toEqual([false, false, true, true, true]);
  });

  it("refuses an event of another room, and changes nothing", async () => {
    const first = await roomWithMessages(3);
    const second = await roomWithMessages(3);
    const { eventId, mark } = await scenario.send(`!purge ${first.roomId} ${second.eventIds[2] ?? ""} --local --yes`);
    const reply = await scenario.replyTo(eventId, mark);
    expect(bodyOf(reply)).toContain(`belongs to ${second.roomId}`);
    expect(await existing([...first.eventIds, ...second.eventIds])).toEqual([true, true, true, true, true, true]);
  });
});

// Synapse's purge_up_to_ts takes the first event received after the time on the whole server and
// then keeps this room's newest event before it: with another room's message first after the
// cut-off, this room's last message before the cut-off would survive.
describe("!purge up to a time on a server with other rooms", () => {
  it("removes everything of this room before the time, also when another room spoke first after it", async () => {
    const here = await roomWithMessages(3);
    const other = await roomWithMessages(2);
    const cutoff = await pointAfterNow();
    const otherAfter = await scenario.spammer.sendText(other.roomId, "other room, after the cut-off");
    const hereAfter = await scenario.spammer.sendText(here.roomId, "this room, after the cut-off");

    const { eventId, mark } = await scenario.send(`!purge ${here.roomId} ${String(cutoff)} --local --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    expect(bodyOf(accepted)).toContain(`Kept from event: ${hereAfter}`);
    expect(bodyOf(await scenario.finalFor(eventId, mark))).toMatch(/done in/);

    expect(await existing([...here.eventIds, hereAfter])).toEqual([false, false, false, true]);
    expect(await existing([...other.eventIds, otherAfter])).toEqual([true, true, true]);
  });

  it("says when nothing of the room was sent after the time: its newest event stays", async () => {
    const { roomId, eventIds } = await roomWithMessages(3);
    const cutoff = await pointAfterNow();
    await scenario.spammer.sendText((await roomWithMessages(0)).roomId, "another room, after the cut-off");

    const { eventId, mark } = await scenario.send(`!purge ${roomId} ${String(cutoff)} --local --yes`);
    const accepted = await scenario.replyTo(eventId, mark);
    expect(bodyOf(accepted)).toContain("nothing in this room was sent after it: its newest event stays");
    expect(bodyOf(await scenario.finalFor(eventId, mark))).toMatch(/done in/);

    expect(await existing(eventIds)).toEqual([false, false, true]);
  });
});

// After a purge, the event Synapse kept (a room's newest always stays) is the room's only event
// before any later point: a second purge would remove nothing yet take one of Synapse's job slots.
describe("a room already purged, with nothing said since", () => {
  it("is not purged again: a second !purge is refused, and a wave skips it", async () => {
    const { roomId, eventIds } = await roomWithMessages(3);
    const first = await pointAfterNow();
    const purged = await scenario.send(`!purge ${roomId} ${String(first)} --local --yes`);
    expect(bodyOf(await scenario.finalFor(purged.eventId, purged.mark))).toMatch(/done in/);
    expect(await existing(eventIds)).toEqual([false, false, true]);
    const other = await roomWithMessages(2);

    const second = await pointAfterNow();
    const again = await scenario.send(`!purge ${roomId} ${String(second)} --local --yes`);
    expect(bodyOf(await scenario.replyTo(again.eventId, again.mark))).toContain(
      `nothing to purge: only the newest event of ${roomId} (${eventIds[2] ?? ""}, sent `,
    );

    const wave = await scenario.send(`!purge ${roomId} ${other.roomId} ${String(second)} --local --yes`);
    expect(bodyOf(await scenario.finalFor(wave.eventId, wave.mark))).toMatch(/finished in [^:]+: 1 done, 0 failed, 1 skipped\./);

    expect(await existing([...eventIds, ...other.eventIds])).toEqual([false, false, true, false, true]);
    const purges = (await scenario.admin.adminScheduledTasks()).filter((task) => task.action === "purge_history");
    expect(purges.filter((task) => task.resource_id === roomId)).toHaveLength(1);
    expect(purges.filter((task) => task.resource_id === other.roomId)).toHaveLength(1);
  });
});

describe("bad input changes nothing", () => {
  it.each([
    ["an unknown room", "!purge !nosuchroom:localhost 30d", /not a room this homeserver knows/],
    ["an unknown alias", "!purge #nosuchalias:localhost 30d", /could not be resolved/],
    ["a malformed point", "!purge ROOM yesterday", /Bad <point>/],
    ["a missing point", "!purge ROOM", /Bad <point>/],
    ["a time in the future", "!purge ROOM 2999-01-01", /in the past/],
    ["seconds instead of milliseconds", "!purge ROOM 1700000000", /looks like seconds/],
  ])("answers %s clearly", async (_name, template, expected) => {
    const { roomId, eventIds } = await roomWithMessages(3);
    const { eventId, mark } = await scenario.send(template.replace("ROOM", roomId));
    const reply = await scenario.replyTo(eventId, mark);
    expect(bodyOf(reply)).toMatch(expected);
    expect(await existing(eventIds)).toEqual([true, true, true]);
  });
});
