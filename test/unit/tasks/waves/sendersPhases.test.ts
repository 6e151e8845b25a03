import { describe, expect, it } from "vitest";
import type { WaveRecord, WaveRoom } from "../../../../src/model/waves.js";
import type { AdminError } from "../../../../src/synapse/errors.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import type { PreviousPhase, Readiness } from "../../../../src/tasks/waves/leaveSeen.js";
import { purgeSender, shutdownSender, waveTaskParameters } from "../../../../src/tasks/waves/senders.js";
import { ok, type Result } from "../../../../src/util/result.js";
import { SubmittingLauncher } from "../../../fakes/submittingLauncher.js";

const CUTOFF = Date.parse("2026-05-01T00:00:00Z");

const purgeWave: WaveRecord = {
  id: "w-000001",
  kind: "purge",
  requester: "@mod:example.org",
  managementRoomId: "!mgmt:example.org",
  commandEventId: "$command",
  selection: { listed: [], matching: "spam" },
  parameters: { cutoffTs: CUTOFF, cutoff: "2026-05-01 00:00:00 UTC", deleteLocalEvents: false },
  leftOut: [],
  status: "running",
  createdAt: 0,
  finalNotificationSent: false,
};
const shutdownWave: WaveRecord = { ...purgeWave, kind: "shutdown", parameters: { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: 86_400_000 } };
const room: WaveRoom = { waveId: purgeWave.id, roomId: "!r:example.org", phase: "main", label: "#r:example.org", state: "sending", attempts: 1, sendId: "1-0a0b0c0d" };

function running(kind: TaskRecord["kind"], parameters: TaskRecord["parameters"]): TaskRecord {
  return {
    id: "x-running",
    kind,
    roomId: room.roomId,
    roomLabel: room.label,
    requester: "@other:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$other",
    homeserverTaskId: "job-0",
    parameters,
    status: "active",
    createdAt: 0,
    statusChangedAt: 0,
    finalNotificationSent: false,
  };
}

const purgeAdmin = {
  timestampToEvent: (_roomId: string, ts: number): Promise<Result<{ event_id: string; origin_server_ts: number }, AdminError>> => Promise.resolve(ok({ event_id: `$at-${ts}`, origin_server_ts: ts })),
  startPurge: (): Promise<Result<{ purge_id: string }, AdminError>> => Promise.resolve(ok({ purge_id: "purge-1" })),
};
const deleteAdmin = {
  startDelete: (): Promise<Result<{ delete_id: string }, AdminError>> => Promise.resolve(ok({ delete_id: "delete-1" })),
  quarantineRoomMedia: (): Promise<never> => Promise.reject(new Error("no media step without --quarantine-media")),
};

describe("wave senders: what a task carries of its wave room", () => {
  it("the wave, the phase, the attempt and the send's own id; waveBoard: false only for a wave without a board", () => {
    expect(waveTaskParameters(purgeWave, room)).toEqual({ waveId: "w-000001", wavePhase: "main", waveAttempt: 1, waveSend: "1-0a0b0c0d" });
    const unclaimed: WaveRoom = { waveId: room.waveId, roomId: room.roomId, phase: "purge", label: room.label, state: "sending", attempts: 1 };
    expect(waveTaskParameters({ ...purgeWave, board: false }, unclaimed)).toEqual({
      waveId: "w-000001",
      wavePhase: "purge",
      waveAttempt: 1,
      waveBoard: false,
    });
  });

  it("a shutdown's first step carries when its purge follows, so its messages can say so; the purge step does not", async () => {
    const launcher = new SubmittingLauncher();
    const sender = shutdownSender(deleteAdmin, launcher);
    await sender.send(shutdownWave, room);
    await sender.send({ ...shutdownWave, parameters: { block: true, purge: false, forcePurge: false, purgeAfterMs: 60_000 } }, room);
    await sender.send(shutdownWave, { ...room, phase: "purge" });
    await sender.send({ ...shutdownWave, parameters: { block: false, purge: true, forcePurge: false } }, room);

    expect(launcher.requests.map((request) => [request.parameters["purgeWhen"], request.parameters["purgeDeadlineMs"], request.parameters["purgeAfterMs"]])).toEqual([
      ["members-seen", 86_400_000, undefined],
      [undefined, undefined, 60_000],
      [undefined, undefined, undefined],
      [undefined, undefined, undefined],
    ]);
    expect(launcher.requests[2]?.parameters).toMatchObject({ wavePhase: "purge", purge: true, block: true });
  });
});

describe("wave senders: joining a job already running on the room", () => {
  it("a purge joins one that purges to a point no earlier, and local users' messages whenever this wave does", () => {
    const sender = purgeSender(purgeAdmin, new SubmittingLauncher());
    expect(sender.joins?.(purgeWave, room, running("purge", { cutoffTs: CUTOFF, deleteLocalEvents: false }))).toBe(true);
    expect(sender.joins?.(purgeWave, room, running("purge", { cutoffTs: CUTOFF - 1, deleteLocalEvents: true }))).toBe(false);
    expect(sender.joins?.({ ...purgeWave, parameters: { ...purgeWave.parameters, deleteLocalEvents: true } }, room, running("purge", { cutoffTs: CUTOFF + 1, deleteLocalEvents: false }))).toBe(false);
    expect(sender.joins?.(purgeWave, room, running("shutdown", { block: true, purge: true, forcePurge: true }))).toBe(false);
    expect(sender.joins?.({ ...purgeWave, parameters: {} }, room, running("purge", { cutoffTs: CUTOFF, deleteLocalEvents: true }))).toBe(false);
  });

  it("a shutdown's step joins a delete that blocks, purges and forces whenever the step does", () => {
    const sender = shutdownSender(deleteAdmin, new SubmittingLauncher());
    // The first step keeps the data; any delete that blocks covers it.
    expect(sender.joins?.(shutdownWave, room, running("shutdown", { block: true, purge: true, forcePurge: false }))).toBe(true);
    expect(sender.joins?.(shutdownWave, room, running("shutdown", { block: false, purge: true, forcePurge: false }))).toBe(false);
    // A purge phase must not join a --no-purge delete.
    expect(sender.joins?.(shutdownWave, { ...room, phase: "purge" }, running("shutdown", { block: true, purge: false, forcePurge: false }))).toBe(false);
    expect(sender.joins?.(shutdownWave, { ...room, phase: "purge" }, running("shutdown", { block: true, purge: true, forcePurge: false }))).toBe(true);
  });

  it("a launch that meets a smaller job of the room sends nothing: the room waits for that task", async () => {
    const launcher = new SubmittingLauncher();
    launcher.busy = running("purge", { cutoffTs: CUTOFF - 86_400_000, deleteLocalEvents: false });
    const calls: string[] = [];
    const admin = {
      ...purgeAdmin,
      startPurge: () => {
        calls.push("purge");
        return purgeAdmin.startPurge();
      },
    };

    expect(await purgeSender(admin, launcher).send(purgeWave, room)).toEqual({
      kind: "busy",
      taskId: "x-running",
      reason: "waiting for x-running, which runs on this room and does less than this wave asks, to end",
    });
    expect(calls).toEqual([]);
  });
});

describe("wave senders: the purge phase's gate", () => {
  it("a shutdown sender asks its gate, with the previous phase; without a gate there is none", async () => {
    const asked: { room: string; previous: PreviousPhase }[] = [];
    const gate = {
      ready: (_wave: WaveRecord, gated: WaveRoom, previous: PreviousPhase): Promise<Readiness> => {
        asked.push({ room: gated.roomId, previous });
        return Promise.resolve({ ready: false, until: 5, reason: "waiting" });
      },
    };
    const previous: PreviousPhase = { task: undefined, endedAt: 3 };
    const gated = shutdownSender(deleteAdmin, new SubmittingLauncher(), gate);

    expect(await gated.ready?.(shutdownWave, { ...room, phase: "purge" }, previous)).toEqual({ ready: false, until: 5, reason: "waiting" });
    expect(asked).toEqual([{ room: room.roomId, previous }]);
    expect("ready" in shutdownSender(deleteAdmin, new SubmittingLauncher())).toBe(false);
    expect("ready" in purgeSender(purgeAdmin, new SubmittingLauncher())).toBe(false);
  });
});
