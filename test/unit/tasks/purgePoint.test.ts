import { describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { findPurgeBoundary } from "../../../src/tasks/kinds/purgePoint.js";
import { err, ok, type Result } from "../../../src/util/result.js";
import type { AdminError } from "../../../src/synapse/adminClient.js";
import { adminError, FakeAdmin } from "../../fakes/fakeAdmin.js";

const ROOM = "!quiet:example.org" as RoomId;
const POINT = Date.UTC(2026, 4, 1);
const HOUR = 3_600_000;

function roomWith(...events: readonly [string, number][]): FakeAdmin {
  const admin = new FakeAdmin();
  for (const [eventId, sent] of events) admin.addEvent(eventId, ROOM, sent);
  return admin;
}

describe("findPurgeBoundary", () => {
  it("runs up to the room's first event at or after the point, with two reads", async () => {
    const admin = roomWith(["$old", POINT - HOUR], ["$kept", POINT + HOUR]);

    expect(await findPurgeBoundary(admin, ROOM, POINT)).toEqual(ok({ eventId: "$kept", sentTs: POINT + HOUR, newestOnly: false }));
    expect(admin.timestampReads).toEqual([
      { roomId: ROOM, timestamp: POINT - 1, direction: "b" },
      { roomId: ROOM, timestamp: POINT, direction: "f" },
    ]);
  });

  it("finds nothing before the point in a room whose history starts after it", async () => {
    const admin = roomWith(["$later", POINT + HOUR]);

    const found = await findPurgeBoundary(admin, ROOM, POINT);

    expect(found).toEqual(err({ kind: "nothing-before", reason: "no event was sent before 2026-05-01 00:00:00 UTC" }));
    expect(admin.timestampReads).toHaveLength(1);
  });

  it("runs up to the newest event when nothing was sent after the point and older events lie before it", async () => {
    const admin = roomWith(["$older", POINT - 2 * HOUR], ["$newest", POINT - HOUR]);

    expect(await findPurgeBoundary(admin, ROOM, POINT)).toEqual(ok({ eventId: "$newest", sentTs: POINT - HOUR, newestOnly: true }));
    expect(admin.timestampReads.at(-1)).toEqual({ roomId: ROOM, timestamp: POINT - HOUR - 1, direction: "b" });
  });

  // After a purge the kept event is the room's only event before any later point: a purge up to
  // it would remove nothing, yet take one of the homeserver's job slots.
  it("finds nothing to purge when the room's newest event, which Synapse keeps, is its only event before the point", async () => {
    const admin = roomWith(["$newest", POINT - HOUR]);

    const found = await findPurgeBoundary(admin, ROOM, POINT);

    expect(found).toEqual(
      err({
        kind: "nothing-before",
        reason: "only the room's newest event, which Synapse always keeps, lies before 2026-05-01 00:00:00 UTC",
        newest: { eventId: "$newest", sentTs: POINT - HOUR },
      }),
    );
    expect(admin.timestampReads).toEqual([
      { roomId: ROOM, timestamp: POINT - 1, direction: "b" },
      { roomId: ROOM, timestamp: POINT, direction: "f" },
      { roomId: ROOM, timestamp: POINT - HOUR - 1, direction: "b" },
    ]);
  });

  it("passes on a failure of the read that looks past the newest event", async () => {
    const failure = adminError("server-error", 502);
    const answers: Result<{ event_id: string; origin_server_ts: number }, AdminError>[] = [
      ok({ event_id: "$newest", origin_server_ts: POINT - HOUR }),
      err(adminError("not-found", 404)),
      err(failure),
    ];
    const admin = { timestampToEvent: () => Promise.resolve(answers.shift() ?? err(adminError("not-found", 404))) };

    expect(await findPurgeBoundary(admin, ROOM, POINT)).toEqual(err({ kind: "admin", error: failure }));
  });
});
