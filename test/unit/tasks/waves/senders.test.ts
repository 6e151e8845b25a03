import { describe, expect, it } from "vitest";
import type { WaveRecord, WaveRoom } from "../../../../src/model/waves.js";
import type { AdminError } from "../../../../src/synapse/errors.js";
import { FakeAdmin } from "../../../fakes/fakeAdmin.js";
import { SubmittingLauncher } from "../../../fakes/submittingLauncher.js";
import { blockSender, deleteOptions, purgeSender, shutdownSender } from "../../../../src/tasks/waves/senders.js";
import { err, ok, type Result } from "../../../../src/util/result.js";

const CUTOFF = Date.parse("2026-05-01T00:00:00Z");

function adminError(kind: AdminError["kind"], detail?: string, retryAfterMs?: number): AdminError {
  return { kind, userMessage: `the homeserver said ${kind}`, ...(detail === undefined ? {} : { detail }), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}


const wave: WaveRecord = {
  id: "w-000001",
  kind: "purge",
  requester: "@mod:example.org",
  managementRoomId: "!mgmt:example.org",
  commandEventId: "$command",
  selection: { listed: [], matching: "spam" },
  parameters: { cutoffTs: CUTOFF, cutoff: "2026-05-01 00:00:00 UTC", deleteLocalEvents: true, reason: "spam" },
  leftOut: [],
  status: "running",
  createdAt: 0,
  finalNotificationSent: false,
};

const room: WaveRoom = { waveId: wave.id, roomId: "!r:example.org", phase: "main", label: "#r:example.org", name: "R", state: "sending", attempts: 2 };

type TimestampAnswer = Result<{ event_id: string; origin_server_ts: number }, AdminError>;

function purgeAdmin(before: TimestampAnswer, after: TimestampAnswer, started: Result<{ purge_id: string }, AdminError> = ok({ purge_id: "purge-1" })) {
  const calls: { kind: string; args: unknown[] }[] = [];
  return {
    calls,
    admin: {
      timestampToEvent: (roomId: string, ts: number, direction: "f" | "b"): Promise<TimestampAnswer> => {
        calls.push({ kind: "timestamp", args: [roomId, ts, direction] });
        return Promise.resolve(direction === "b" ? before : after);
      },
      startPurge: (roomId: string, point: unknown, local: boolean): Promise<Result<{ purge_id: string }, AdminError>> => {
        calls.push({ kind: "purge", args: [roomId, point, local] });
        return Promise.resolve(started);
      },
    },
  };
}

describe("purge sender", () => {
  it("purge up to the room's first event at or after the point, recording the wave on the task", async () => {
    const { admin, calls } = purgeAdmin(ok({ event_id: "$old", origin_server_ts: CUTOFF - 5 }), ok({ event_id: "$kept", origin_server_ts: CUTOFF + 5 }));
    const launcher = new SubmittingLauncher();

    const result = await purgeSender(admin, launcher).send(wave, room);

    expect(result).toEqual({ kind: "sent", taskId: "t-1", jobId: "purge-1" });
    expect(calls).toEqual([
      { kind: "timestamp", args: ["!r:example.org", CUTOFF - 1, "b"] },
      { kind: "timestamp", args: ["!r:example.org", CUTOFF, "f"] },
      { kind: "purge", args: ["!r:example.org", { eventId: "$kept" }, true] },
    ]);
    expect(launcher.requests[0]?.parameters).toMatchObject({ waveId: "w-000001", wavePhase: "main", waveAttempt: 2, eventId: "$kept", cutoffTs: CUTOFF, deleteLocalEvents: true, reason: "spam" });
  });

  it("skip a room with nothing before the point, sending no purge", async () => {
    const { admin, calls } = purgeAdmin(err(adminError("not-found")), err(adminError("not-found")));

    const result = await purgeSender(admin, new SubmittingLauncher()).send(wave, room);

    expect(result.kind).toBe("skipped");
    expect(calls.filter((call) => call.kind === "purge")).toHaveLength(0);
  });

  // After a purge, the event Synapse kept is the room's only event before any later point: a
  // second purge would remove nothing, take a job slot and be counted as purged.
  it("skip a room whose only event before the point is its newest, which Synapse keeps, sending no purge", async () => {
    const admin = new FakeAdmin();
    admin.addEvent("$kept", room.roomId, CUTOFF - 86_400_000);
    const launcher = new SubmittingLauncher();

    const result = await purgeSender(admin, launcher).send(wave, room);

    expect(result).toEqual({ kind: "skipped", reason: "nothing to purge: only the room's newest event, which Synapse always keeps, lies before 2026-05-01 00:00:00 UTC" });
    expect(launcher.requests).toEqual([]);
    expect(admin.calls).toEqual([]);
  });

  it("purge up to the newest event when older events lie before the point too", async () => {
    const admin = new FakeAdmin();
    admin.addEvent("$older", room.roomId, CUTOFF - 2 * 86_400_000);
    admin.addEvent("$newest", room.roomId, CUTOFF - 86_400_000);

    const result = await purgeSender(admin, new SubmittingLauncher()).send(wave, room);

    expect(result.kind).toBe("sent");
    expect(admin.calls).toEqual([{ method: "startPurge", roomId: room.roomId, point: { eventId: "$newest" }, deleteLocalEvents: true }]);
  });

  it("slow down on a 429 or 5xx while finding the point, honouring retry_after_ms", async () => {
    const { admin } = purgeAdmin(err(adminError("rate-limited", undefined, 7_000)), ok({ event_id: "$x", origin_server_ts: 0 }));
    expect(await purgeSender(admin, new SubmittingLauncher()).send(wave, room)).toEqual({ kind: "slow-down", reason: "the homeserver said rate-limited", waitMs: 7_000 });
    const server = purgeAdmin(err(adminError("server-error")), ok({ event_id: "$x", origin_server_ts: 0 }));
    expect((await purgeSender(server.admin, new SubmittingLauncher()).send(wave, room)).kind).toBe("slow-down");
  });

  it("slow down when the purge itself is rate-limited, and fail with retry when it is refused", async () => {
    const limited = purgeAdmin(ok({ event_id: "$old", origin_server_ts: 1 }), ok({ event_id: "$kept", origin_server_ts: 2 }), err(adminError("rate-limited", undefined, 3_000)));
    expect(await purgeSender(limited.admin, new SubmittingLauncher()).send(wave, room)).toMatchObject({ kind: "slow-down", waitMs: 3_000 });
    const refused = purgeAdmin(ok({ event_id: "$old", origin_server_ts: 1 }), ok({ event_id: "$kept", origin_server_ts: 2 }), err(adminError("bad-request", "busy")));
    expect(await purgeSender(refused.admin, new SubmittingLauncher()).send(wave, room)).toEqual({ kind: "failed", reason: "the homeserver said bad-request", retry: true });
  });

  it("call a 404 'no event to be purged' a skip, not a failure", async () => {
    const nothing = purgeAdmin(ok({ event_id: "$old", origin_server_ts: 1 }), ok({ event_id: "$kept", origin_server_ts: 2 }), err(adminError("not-found", "There is no event to be purged")));
    expect((await purgeSender(nothing.admin, new SubmittingLauncher()).send(wave, room)).kind).toBe("skipped");
  });

  it("follow a purge already running on the room instead of sending a second", async () => {
    const { admin, calls } = purgeAdmin(ok({ event_id: "$old", origin_server_ts: 1 }), ok({ event_id: "$kept", origin_server_ts: 2 }));
    const launcher = new SubmittingLauncher();
    launcher.joined = {
      id: "p-running",
      kind: "purge",
      roomId: room.roomId,
      roomLabel: room.label,
      requester: "@other:example.org",
      managementRoomId: wave.managementRoomId,
      commandEventId: "$other",
      homeserverTaskId: "purge-0",
      parameters: {},
      status: "active",
      createdAt: 0,
      statusChangedAt: 0,
      finalNotificationSent: false,
    };

    const result = await purgeSender(admin, launcher).send(wave, room);

    expect(result).toEqual({ kind: "sent", taskId: "p-running", jobId: "purge-0" });
    expect(calls.filter((call) => call.kind === "purge")).toHaveLength(0);
  });

  it("refuse to guess a point the wave did not record", async () => {
    const { admin } = purgeAdmin(ok({ event_id: "$old", origin_server_ts: 1 }), ok({ event_id: "$kept", origin_server_ts: 2 }));
    expect(await purgeSender(admin, new SubmittingLauncher()).send({ ...wave, parameters: {} }, room)).toMatchObject({ kind: "failed", retry: false });
  });
});

describe("shutdown sender", () => {
  const shutdownWave: WaveRecord = { ...wave, kind: "shutdown", parameters: { block: true, purge: false, forcePurge: true, purgeAfterMs: 60_000, notifyAs: "@abuse:example.org", message: "closed" } };

  it("send the wave's delete in the main phase and only the purge in the purge phase", () => {
    expect(deleteOptions(shutdownWave, room)).toEqual({ block: true, purge: false, forcePurge: true, newRoomUserId: "@abuse:example.org", message: "closed" });
    expect(deleteOptions(shutdownWave, { ...room, phase: "purge" })).toEqual({ block: true, purge: true, forcePurge: true });
  });

  it("start the delete through the launcher with the wave's parameters", async () => {
    const sent: unknown[] = [];
    const admin = {
      startDelete: (roomId: string, options: unknown): Promise<Result<{ delete_id: string }, AdminError>> => {
        sent.push([roomId, options]);
        return Promise.resolve(ok({ delete_id: "delete-1" }));
      },
      quarantineRoomMedia: (): Promise<never> => Promise.reject(new Error("no media step without --quarantine-media")),
    };
    const launcher = new SubmittingLauncher();

    const result = await shutdownSender(admin, launcher).send(shutdownWave, { ...room, joinedMembers: 4, joinedLocalMembers: 1 });

    expect(result).toEqual({ kind: "sent", taskId: "t-1", jobId: "delete-1" });
    expect(sent).toEqual([["!r:example.org", { block: true, purge: false, forcePurge: true, newRoomUserId: "@abuse:example.org", message: "closed" }]]);
    expect(launcher.requests[0]).toMatchObject({ kind: "shutdown", parameters: { waveId: "w-000001", knownRoom: true, joinedMembers: 4, block: true, purge: false } });
  });
});

describe("block sender", () => {
  it("block or unblock each room with one request, slowing down on 429 and failing for good on 403", async () => {
    const answers: Result<{ block: boolean }, AdminError>[] = [ok({ block: true }), err(adminError("rate-limited")), err(adminError("forbidden"))];
    const calls: unknown[] = [];
    const admin = {
      setBlocked: (roomId: string, block: boolean): Promise<Result<{ block: boolean }, AdminError>> => {
        calls.push([roomId, block]);
        return Promise.resolve(answers.shift() ?? ok({ block }));
      },
    };
    const sender = blockSender(admin, false);

    expect(await sender.send(wave, room)).toEqual({ kind: "done" });
    expect((await sender.send(wave, room)).kind).toBe("slow-down");
    expect(await sender.send(wave, room)).toMatchObject({ kind: "failed", retry: false });
    expect(calls).toEqual([
      ["!r:example.org", false],
      ["!r:example.org", false],
      ["!r:example.org", false],
    ]);
    expect(sender.usesJobSlot).toBe(false);
  });
});
