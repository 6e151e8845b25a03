import pino from "pino";
import { describe, expect, it } from "vitest";
import type { UserId } from "../../../../src/matrix/ids.js";
import type { WaveRecord, WaveRoom } from "../../../../src/model/waves.js";
import type { AdminError } from "../../../../src/synapse/errors.js";
import type { UserDevicesBody } from "../../../../src/synapse/schemas.js";
import type { TaskRecord } from "../../../../src/tasks/types.js";
import { LeaveSeenGate, type PreviousPhase } from "../../../../src/tasks/waves/leaveSeen.js";
import { err, ok, type Result } from "../../../../src/util/result.js";
import { formatUtc } from "../../../../src/util/duration.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";

const KICKED_AT = Date.parse("2026-12-01T10:00:00Z");
const DAY = 86_400_000;
const DEADLINE = KICKED_AT + DAY;
const READ_FAILED = "could not read a kicked member's devices; their room's purge waits for the deadline unless they can be read later";

type Device = UserDevicesBody["devices"][number];

/** The user devices admin API: devices by user, or an error; every read recorded. */
class FakeDevices {
  readonly devices = new Map<string, Device[] | AdminError>();
  readonly reads: string[] = [];

  userDevices(userId: UserId): Promise<Result<UserDevicesBody, AdminError>> {
    this.reads.push(userId);
    const answer = this.devices.get(userId) ?? [];
    return Promise.resolve(Array.isArray(answer) ? ok({ devices: answer }) : err(answer));
  }
}

const wave: WaveRecord = {
  id: "w-aaaaaa",
  kind: "shutdown",
  requester: "@mod:x",
  managementRoomId: "!mgmt:x",
  commandEventId: "$c",
  selection: { listed: [] },
  parameters: { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: DAY },
  leftOut: [],
  status: "running",
  createdAt: KICKED_AT - 1_000,
  finalNotificationSent: false,
};

const purgeRoom: WaveRoom = { waveId: wave.id, roomId: "!spam:x", phase: "purge", label: "!spam:x", state: "queued", attempts: 0 };

function shutdownTask(kicked: readonly string[], change: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id: "s-000001",
    kind: "shutdown",
    roomId: "!spam:x",
    roomLabel: "!spam:x",
    requester: "@mod:x",
    managementRoomId: "!mgmt:x",
    commandEventId: "$c",
    parameters: {},
    status: "complete",
    createdAt: KICKED_AT - 1_000,
    statusChangedAt: KICKED_AT,
    finishedAt: KICKED_AT,
    outcome: { kickedUsers: [...kicked], failedToKickUsers: [], localAliases: [], newRoomId: null },
    finalNotificationSent: true,
    ...change,
  };
}

function gateAt(now: number, admin = new FakeDevices(), log = pino({ level: "silent" })): { gate: LeaveSeenGate; admin: FakeDevices; clock: { now: () => number; set(at: number): void } } {
  let time = now;
  const clock = { now: () => time, set: (at: number) => (time = at) };
  return { gate: new LeaveSeenGate(admin, clock, log, { recheckMinMs: 10_000, recheckMaxMs: 120_000, usersPerCheck: 2 }), admin, clock };
}

function previous(kicked: readonly string[]): PreviousPhase {
  return { task: shutdownTask(kicked), endedAt: KICKED_AT };
}

const waitingFor = (count: number, of: number): string =>
  `waiting for the clients of ${count} of ${of} kicked member${of === 1 ? "" : "s"} to see that they left (at the latest until ${formatUtc(DEADLINE)})`;

describe("LeaveSeenGate: a shutdown's purge waits until the kicked members' clients have seen the leave", () => {
  it("waits while a device that was active before the kick has not been seen since; goes once it has", async () => {
    const { gate, admin, clock } = gateAt(KICKED_AT + 5_000);
    admin.devices.set("@alice:x", [{ device_id: "PHONE", last_seen_ts: KICKED_AT - 60_000 }]);

    expect(await gate.ready(wave, purgeRoom, previous(["@alice:x"]))).toEqual({ ready: false, until: KICKED_AT + 15_000, reason: waitingFor(1, 1) });

    clock.set(KICKED_AT + 15_000);
    admin.devices.set("@alice:x", [{ device_id: "PHONE", last_seen_ts: KICKED_AT + 12_000 }]);
    expect(await gate.ready(wave, purgeRoom, previous(["@alice:x"]))).toEqual({
      ready: true,
      reason: "purged once every kicked member's recently active clients had been seen after the shutdown",
    });
  });

  it("a device seen at the very moment the shutdown ended counts as seen; one a millisecond before does not", async () => {
    const { gate, admin } = gateAt(KICKED_AT + 1_000);
    admin.devices.set("@seen:x", [{ device_id: "A", last_seen_ts: KICKED_AT }]);
    admin.devices.set("@not:x", [{ device_id: "B", last_seen_ts: KICKED_AT - 1 }]);
    expect((await gate.ready(wave, purgeRoom, previous(["@seen:x"]))).ready).toBe(true);
    expect((await gate.ready(wave, { ...purgeRoom, roomId: "!other:x" }, previous(["@not:x"]))).ready).toBe(false);
  });

  it("does not wait for devices idle for longer than the whole wait, never seen, or dehydrated, nor for members the server no longer knows", async () => {
    const { gate, admin } = gateAt(KICKED_AT + 1_000);
    admin.devices.set("@bob:x", [
      { device_id: "OLD", last_seen_ts: KICKED_AT - DAY - 1 },
      { device_id: "NEVER", last_seen_ts: null },
      { device_id: "MISSING" },
      { device_id: "DEHYDRATED", last_seen_ts: KICKED_AT - 1_000, dehydrated: true },
      { device_id: "NEW", last_seen_ts: KICKED_AT + 500 },
    ]);
    admin.devices.set("@gone:x", { kind: "not-found", status: 404, errcode: "M_NOT_FOUND", detail: "Unknown user", userMessage: "the homeserver answered: Unknown user" });

    expect(await gate.ready(wave, purgeRoom, previous(["@bob:x", "@gone:x"]))).toEqual({
      ready: true,
      reason: "purged once every kicked member's recently active clients had been seen after the shutdown",
    });
  });

  it("a device active just inside the wait before the kick is waited for", async () => {
    const { gate, admin } = gateAt(KICKED_AT + 1_000);
    admin.devices.set("@carol:x", [{ device_id: "LAPTOP", last_seen_ts: KICKED_AT - DAY }]);
    expect((await gate.ready(wave, purgeRoom, previous(["@carol:x"]))).ready).toBe(false);
  });

  it("goes at once when nobody was kicked", async () => {
    const { gate, admin } = gateAt(KICKED_AT + 1_000);
    expect(await gate.ready(wave, purgeRoom, previous([]))).toEqual({ ready: true, reason: "no local member was kicked: purged at once" });
    expect(admin.reads).toEqual([]);
  });

  it("goes at the deadline whatever was seen, reading nothing", async () => {
    const { gate, admin } = gateAt(DEADLINE);
    admin.devices.set("@alice:x", [{ device_id: "PHONE", last_seen_ts: KICKED_AT - 1 }]);
    expect(await gate.ready(wave, purgeRoom, previous(["@alice:x"]))).toEqual({
      ready: true,
      reason: `purged at the end of the wait (${formatUtc(DEADLINE)}), whatever members' clients had seen`,
    });
    expect(admin.reads).toEqual([]);
  });

  it("looks again later the longer it has waited, at most every two minutes, and never past the deadline", async () => {
    const { gate, admin, clock } = gateAt(KICKED_AT + 1_000);
    admin.devices.set("@alice:x", [{ device_id: "PHONE", last_seen_ts: KICKED_AT - 1 }]);
    const until = async (at: number): Promise<number | undefined> => {
      clock.set(at);
      const readiness = await gate.ready(wave, purgeRoom, previous(["@alice:x"]));
      return readiness.ready ? undefined : readiness.until;
    };
    expect(await until(KICKED_AT + 1_000)).toBe(KICKED_AT + 11_000);
    expect(await until(KICKED_AT + 40_000)).toBe(KICKED_AT + 80_000);
    expect(await until(KICKED_AT + 3_600_000)).toBe(KICKED_AT + 3_720_000);
    expect(await until(DEADLINE - 30_000)).toBe(DEADLINE);
  });

  it("reads at most usersPerCheck device lists per look, and does not read a member seen already again", async () => {
    const { gate, admin } = gateAt(KICKED_AT + 1_000);
    const seen = { device_id: "A", last_seen_ts: KICKED_AT + 100 };
    for (const user of ["@a:x", "@b:x", "@c:x"]) admin.devices.set(user, [seen]);
    admin.devices.set("@d:x", [{ device_id: "D", last_seen_ts: KICKED_AT - 1 }]);
    const kicked = ["@a:x", "@b:x", "@c:x", "@d:x"];

    expect(await gate.ready(wave, purgeRoom, previous(kicked))).toMatchObject({ ready: false, reason: waitingFor(2, 4) });
    expect(admin.reads).toEqual(["@a:x", "@b:x"]);
    expect(await gate.ready(wave, purgeRoom, previous(kicked))).toMatchObject({ ready: false, reason: waitingFor(1, 4) });
    expect(admin.reads).toEqual(["@a:x", "@b:x", "@c:x", "@d:x"]);

    admin.devices.set("@d:x", [seen]);
    expect((await gate.ready(wave, purgeRoom, previous(kicked))).ready).toBe(true);
    expect(admin.reads).toEqual(["@a:x", "@b:x", "@c:x", "@d:x", "@d:x"]);
  });

  it("a room found ready is not read again while it waits for a job slot; what it saw is forgotten at its deadline", async () => {
    const { gate, admin, clock } = gateAt(KICKED_AT + 1_000);
    admin.devices.set("@alice:x", [{ device_id: "PHONE", last_seen_ts: KICKED_AT + 500 }]);
    expect((await gate.ready(wave, purgeRoom, previous(["@alice:x"]))).ready).toBe(true);
    expect((await gate.ready(wave, purgeRoom, previous(["@alice:x"]))).ready).toBe(true);
    expect(admin.reads).toEqual(["@alice:x"]);

    // A look after the deadline forgets what was seen: asked again with a longer wait, it reads again.
    clock.set(DEADLINE + 10);
    await gate.ready({ ...wave, parameters: { ...wave.parameters, purgeDeadlineMs: 2 * DAY } }, purgeRoom, previous(["@alice:x"]));
    expect(admin.reads).toEqual(["@alice:x", "@alice:x"]);
  });

  it("a member waits until every recently active device of theirs was seen, not just one", async () => {
    const { gate, admin } = gateAt(KICKED_AT + 1_000);
    admin.devices.set("@alice:x", [
      { device_id: "PHONE", last_seen_ts: KICKED_AT + 500 },
      { device_id: "LAPTOP", last_seen_ts: KICKED_AT - 60_000 },
    ]);
    expect((await gate.ready(wave, purgeRoom, previous(["@alice:x"]))).ready).toBe(false);
  });

  it("what a member's clients saw counts for the room they were kicked from: another room, kicked later, waits for them again", async () => {
    const { gate, admin, clock } = gateAt(KICKED_AT + 1_000);
    admin.devices.set("@alice:x", [{ device_id: "PHONE", last_seen_ts: KICKED_AT + 500 }]);
    expect((await gate.ready(wave, purgeRoom, previous(["@alice:x"]))).ready).toBe(true);

    clock.set(KICKED_AT + 60_000);
    const later: PreviousPhase = { task: shutdownTask(["@alice:x"]), endedAt: KICKED_AT + 30_000 };
    expect((await gate.ready(wave, { ...purgeRoom, roomId: "!later:x" }, later)).ready).toBe(false);
  });

  it("a shutdown whose record names nobody kicked (an older record without the list) goes at once", async () => {
    const { gate } = gateAt(KICKED_AT + 1_000);
    const withoutOutcome: TaskRecord = { ...shutdownTask([]) };
    delete withoutOutcome.outcome;
    expect(await gate.ready(wave, purgeRoom, { task: withoutOutcome, endedAt: KICKED_AT })).toEqual({ ready: true, reason: "no local member was kicked: purged at once" });
  });

  it("waits out a member whose devices cannot be read (an endpoint the deployment does not serve, a 5xx), said once in the log", async () => {
    const logger = new MemoryLogger();
    const { gate, admin } = gateAt(KICKED_AT + 1_000, new FakeDevices(), logger.log);
    admin.devices.set("@alice:x", { kind: "not-found", status: 404, errcode: "M_UNRECOGNIZED", detail: "Unrecognized request", userMessage: "the homeserver answered: Unrecognized request" });
    admin.devices.set("@bob:x", { kind: "server-error", status: 502, userMessage: "the homeserver failed with HTTP 502" });

    expect(await gate.ready(wave, purgeRoom, previous(["@alice:x", "@bob:x"]))).toMatchObject({ ready: false, reason: waitingFor(2, 2) });
    expect(await gate.ready(wave, purgeRoom, previous(["@alice:x", "@bob:x"]))).toMatchObject({ ready: false });
    expect(logger.withMessage(READ_FAILED).map((entry) => entry["userId"])).toEqual(["@alice:x", "@bob:x"]);
  });

  it("without the shutdown's task (pruned), waits until the deadline and says why", async () => {
    const { gate } = gateAt(KICKED_AT + 1_000);
    expect(await gate.ready(wave, purgeRoom, { task: undefined, endedAt: KICKED_AT })).toEqual({
      ready: false,
      until: DEADLINE,
      reason: `waiting until ${formatUtc(DEADLINE)}: Warden no longer has the record of who was kicked`,
    });
  });

  it("lets a room of a wave without that purge phase go, and a main-phase room, reading nothing", async () => {
    const { gate, admin } = gateAt(KICKED_AT + 1_000);
    const after = { ...wave, parameters: { block: true, purge: false, forcePurge: false, purgeAfterMs: 60_000 } };
    expect(await gate.ready(after, purgeRoom, previous(["@alice:x"]))).toEqual({ ready: true });
    expect(await gate.ready(wave, { ...purgeRoom, phase: "main" }, previous(["@alice:x"]))).toEqual({ ready: true });
    expect(admin.reads).toEqual([]);
  });
});
