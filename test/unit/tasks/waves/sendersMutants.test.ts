import { describe, expect, it } from "vitest";
import type { WaveRecord, WaveRoom } from "../../../../src/model/waves.js";
import type { AdminError } from "../../../../src/synapse/errors.js";
import type { TaskLauncher } from "../../../../src/tasks/launcher.js";
import { SubmittingLauncher, submittingTaskOf } from "../../../fakes/submittingLauncher.js";
import { blockSender, deleteOptions, purgeSender, shutdownSender } from "../../../../src/tasks/waves/senders.js";
import { formatUtc } from "../../../../src/util/duration.js";
import { err, ok, type Result } from "../../../../src/util/result.js";

const CUTOFF = Date.parse("2026-05-01T00:00:00Z");

function adminError(kind: AdminError["kind"], detail?: string, retryAfterMs?: number): AdminError {
  return { kind, userMessage: `the homeserver said ${kind}`, ...(detail === undefined ? {} : { detail }), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}

const wave: WaveRecord = {
  id: "w-000001",
  kind: "purge",
  requester: "@mod:x",
  managementRoomId: "!mgmt:x",
  commandEventId: "$command",
  selection: { listed: [] },
  parameters: { cutoffTs: CUTOFF, deleteLocalEvents: false },
  leftOut: [],
  status: "running",
  createdAt: 0,
  finalNotificationSent: false,
};

function roomOf(roomId: string, change: Partial<WaveRoom> = {}): WaveRoom {
  return { waveId: wave.id, roomId, phase: "main", label: roomId, state: "sending", attempts: 1, ...change };
}

type TimestampAnswer = Result<{ event_id: string; origin_server_ts: number }, AdminError>;

/** A homeserver where every room has events before and after the point, unless told otherwise. */
function purgeAdmin(answers: { before?: TimestampAnswer; after?: TimestampAnswer; started?: Result<{ purge_id: string }, AdminError> } = {}) {
  const reads: string[] = [];
  const purges: unknown[][] = [];
  return {
    reads,
    purges,
    admin: {
      timestampToEvent: (roomId: string, _ts: number, direction: "f" | "b"): Promise<TimestampAnswer> => {
        reads.push(`${roomId} ${direction}`);
        const answer = direction === "b" ? answers.before : answers.after;
        return Promise.resolve(answer ?? ok({ event_id: `$${direction}-${roomId}`, origin_server_ts: CUTOFF }));
      },
      startPurge: (roomId: string, point: unknown, local: boolean): Promise<Result<{ purge_id: string }, AdminError>> => {
        purges.push([roomId, point, local]);
        return Promise.resolve(answers.started ?? ok({ purge_id: "purge-1" }));
      },
    },
  };
}

describe("purge sender: reading ahead", () => {
  it("uses a boundary read ahead once, for that room and phase only; a later send reads again", async () => {
    const { admin, reads, purges } = purgeAdmin();
    const sender = purgeSender(admin, new SubmittingLauncher());
    sender.prepare?.(wave, roomOf("!a:x"));
    sender.prepare?.(wave, roomOf("!a:x"));
    await new Promise((resolve) => setImmediate(resolve));
    expect(reads).toEqual(["!a:x b", "!a:x f"]);

    await sender.send(wave, roomOf("!a:x"));
    expect(reads).toHaveLength(2);
    await sender.send(wave, roomOf("!b:x"));
    await sender.send(wave, roomOf("!a:x", { phase: "purge" }));
    await sender.send(wave, roomOf("!a:x"));

    expect(reads).toEqual(["!a:x b", "!a:x f", "!b:x b", "!b:x f", "!a:x b", "!a:x f", "!a:x b", "!a:x f"]);
    expect(purges.map((purge) => purge[1])).toEqual([{ eventId: "$f-!a:x" }, { eventId: "$f-!b:x" }, { eventId: "$f-!a:x" }, { eventId: "$f-!a:x" }]);
  });

  it("a boundary read ahead for another wave is not used", async () => {
    const { admin, reads } = purgeAdmin();
    const sender = purgeSender(admin, new SubmittingLauncher());
    sender.prepare?.({ ...wave, id: "w-other" }, roomOf("!a:x"));
    await sender.send(wave, roomOf("!a:x"));

    expect(reads).toHaveLength(4);
  });

  it("reads nothing ahead for a wave without a purge point", async () => {
    const { admin, reads } = purgeAdmin();
    purgeSender(admin, new SubmittingLauncher()).prepare?.({ ...wave, parameters: {} }, roomOf("!a:x"));
    await new Promise((resolve) => setImmediate(resolve));

    expect(reads).toEqual([]);
  });

  it("keeps at most 64 boundaries read ahead, forgetting the oldest first", async () => {
    const { admin, reads } = purgeAdmin();
    const sender = purgeSender(admin, new SubmittingLauncher());
    for (let index = 0; index <= 64; index++) sender.prepare?.(wave, roomOf(`!r${index}:x`));
    await new Promise((resolve) => setImmediate(resolve));
    reads.splice(0);

    await sender.send(wave, roomOf("!r1:x"));
    expect(reads).toEqual([]);
    await sender.send(wave, roomOf("!r0:x"));
    expect(reads).toEqual(["!r0:x b", "!r0:x f"]);
  });
});

describe("purge sender: answers", () => {
  it("names the point in a skipped room's reason", async () => {
    const { admin } = purgeAdmin({ before: err(adminError("not-found")) });
    expect(await purgeSender(admin, new SubmittingLauncher()).send(wave, roomOf("!a:x"))).toEqual({ kind: "skipped", reason: `nothing to purge: no event was sent before ${formatUtc(CUTOFF)}` });
  });

  it("fails a room it may not read for good, and one whose point could not be read with a retry", async () => {
    const forbidden = purgeAdmin({ before: err(adminError("forbidden")) });
    expect(await purgeSender(forbidden.admin, new SubmittingLauncher()).send(wave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the homeserver said forbidden", retry: false });
    const badRequest = purgeAdmin({ after: err(adminError("bad-request")) });
    expect(await purgeSender(badRequest.admin, new SubmittingLauncher()).send(wave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the homeserver said bad-request", retry: true });
    const timeout = purgeAdmin({ before: err(adminError("timeout")) });
    expect(await purgeSender(timeout.admin, new SubmittingLauncher()).send(wave, roomOf("!a:x"))).toEqual({ kind: "slow-down", reason: "the homeserver said timeout" });
  });

  it("needs deleteLocalEvents recorded too", async () => {
    const { admin, purges } = purgeAdmin();
    expect(await purgeSender(admin, new SubmittingLauncher()).send({ ...wave, parameters: { cutoffTs: CUTOFF } }, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the wave's purge point was not recorded", retry: false });
    expect(purges).toEqual([]);
  });

  it("records the point in words when the wave did not, an unnamed room's name as empty, and no reason when none was given", async () => {
    const { admin } = purgeAdmin();
    const launcher = new SubmittingLauncher();
    await purgeSender(admin, launcher).send({ ...wave, parameters: { cutoffTs: CUTOFF, deleteLocalEvents: false, reason: 7 } }, roomOf("!a:x"));

    expect(launcher.requests[0]).toMatchObject({ kind: "purge", roomId: "!a:x", roomLabel: "!a:x", requester: "@mod:x", managementRoomId: "!mgmt:x", commandEventId: "$command" });
    expect(launcher.requests[0]?.parameters).toEqual({ waveId: "w-000001", wavePhase: "main", waveAttempt: 1, roomName: "", deleteLocalEvents: false, cutoffTs: CUTOFF, cutoff: formatUtc(CUTOFF), eventId: "$f-!a:x" });
  });

  it("follows a submission whose answer was lost, without a job id yet", async () => {
    const { admin } = purgeAdmin({ started: err(adminError("timeout")) });
    expect(await purgeSender(admin, new SubmittingLauncher()).send(wave, roomOf("!a:x"))).toEqual({ kind: "sent", taskId: "t-1" });
  });

  it("slows down on a rate-limited purge without a wait, and fails with the launcher's words when the homeserver gave none", async () => {
    const limited = purgeAdmin({ started: err(adminError("rate-limited")) });
    expect(await purgeSender(limited.admin, new SubmittingLauncher()).send(wave, roomOf("!a:x"))).toEqual({ kind: "slow-down", reason: "the homeserver said rate-limited" });

    const refusing: Pick<TaskLauncher, "launch"> = {
      launch: (request) => Promise.resolve({ kind: "started", task: submittingTaskOf(request, "t-1", { status: "failed" }) }),
    };
    expect(await purgeSender(purgeAdmin().admin, refusing).send(wave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the homeserver refused the job", retry: true });
    const withReason: Pick<TaskLauncher, "launch"> = {
      launch: async (request) => {
        await request.submit();
        return { kind: "started", task: submittingTaskOf(request, "t-1", { status: "failed", reason: "Warden's words" }) };
      },
    };
    const refused = purgeAdmin({ started: err(adminError("bad-request")) });
    expect(await purgeSender(refused.admin, withReason).send(wave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "Warden's words", retry: true });
    const silent: Pick<TaskLauncher, "launch"> = {
      launch: async (request) => {
        await request.submit();
        return { kind: "started", task: submittingTaskOf(request, "t-1", { status: "failed" }) };
      },
    };
    const refusedAgain = purgeAdmin({ started: err(adminError("bad-request")) });
    expect(await purgeSender(refusedAgain.admin, silent).send(wave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the homeserver said bad-request", retry: true });
  });

  it("a 404 without 'no event to be purged' is a failure", async () => {
    const gone = purgeAdmin({ started: err(adminError("not-found", "Unknown room")) });
    expect(await purgeSender(gone.admin, new SubmittingLauncher()).send(wave, roomOf("!a:x"))).toMatchObject({ kind: "failed" });
  });
});

describe("shutdown sender: what it sends", () => {
  const shutdownWave: WaveRecord = { ...wave, kind: "shutdown", parameters: {} };

  it("purges unless told not to, and blocks or forces only when told", () => {
    expect(deleteOptions(shutdownWave, roomOf("!a:x"))).toEqual({ block: false, purge: true, forcePurge: false });
    expect(deleteOptions({ ...shutdownWave, parameters: { block: "yes", forcePurge: "yes", purge: true } }, roomOf("!a:x"))).toEqual({ block: false, purge: true, forcePurge: false });
    expect(deleteOptions({ ...shutdownWave, parameters: { newRoomName: "Closed", notifyAs: 3 } }, roomOf("!a:x"))).toEqual({ block: false, purge: true, forcePurge: false, roomName: "Closed" });
    expect(deleteOptions({ ...shutdownWave, parameters: { block: false, purge: false } }, roomOf("!a:x", { phase: "purge" }))).toEqual({ block: false, purge: true, forcePurge: false });
  });

  it("records an unknown room as such, and the new room's name and message it asked for", async () => {
    const sent: unknown[] = [];
    const admin = {
      startDelete: (roomId: string, options: unknown): Promise<Result<{ delete_id: string }, AdminError>> => {
        sent.push(options);
        return Promise.resolve(ok({ delete_id: "delete-1" }));
      },
      quarantineRoomMedia: (): Promise<never> => Promise.reject(new Error("no media step without --quarantine-media")),
    };
    const launcher = new SubmittingLauncher();
    const parameters = { notifyAs: "@abuse:x", newRoomName: "Closed", message: "bye" };

    await shutdownSender(admin, launcher).send({ ...shutdownWave, parameters }, roomOf("!a:x"));
    await shutdownSender(admin, launcher).send(shutdownWave, roomOf("!b:x", { name: "B", joinedMembers: 4, joinedLocalMembers: 2 }));

    expect(launcher.requests[0]).toMatchObject({ kind: "shutdown", roomId: "!a:x", roomLabel: "!a:x", requester: "@mod:x", managementRoomId: "!mgmt:x", commandEventId: "$command" });
    expect(launcher.requests[0]?.parameters).toEqual({
      waveId: "w-000001",
      wavePhase: "main",
      waveAttempt: 1,
      knownRoom: false,
      roomName: "",
      joinedMembers: 0,
      joinedLocalMembers: 0,
      block: false,
      purge: true,
      forcePurge: false,
      notifyAs: "@abuse:x",
      newRoomName: "Closed",
      message: "bye",
    });
    expect(launcher.requests[1]?.parameters).toMatchObject({ knownRoom: true, roomName: "B", joinedMembers: 4, joinedLocalMembers: 2 });
    expect(sent[0]).toEqual({ block: false, purge: true, forcePurge: false, newRoomUserId: "@abuse:x", roomName: "Closed", message: "bye" });
  });

  it("a refused delete fails the room with a retry", async () => {
    const admin = { startDelete: (): Promise<Result<{ delete_id: string }, AdminError>> => Promise.resolve(err(adminError("bad-request"))), quarantineRoomMedia: (): Promise<never> => Promise.reject(new Error("no media step without --quarantine-media")) };
    expect(await shutdownSender(admin, new SubmittingLauncher()).send(shutdownWave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the homeserver said bad-request", retry: true });
  });
});

describe("block sender: answers", () => {
  it("blocks with block=true, fails for good on a bad request, retries other refusals, slows down on a server error", async () => {
    const answers: Result<{ block: boolean }, AdminError>[] = [ok({ block: true }), err(adminError("bad-request")), err(adminError("not-found")), err(adminError("server-error", undefined, 2_000))];
    const calls: unknown[] = [];
    const sender = blockSender(
      {
        setBlocked: (roomId: string, block: boolean): Promise<Result<{ block: boolean }, AdminError>> => {
          calls.push([roomId, block]);
          return Promise.resolve(answers.shift() ?? ok({ block }));
        },
      },
      true,
    );

    expect(await sender.send(wave, roomOf("!a:x"))).toEqual({ kind: "done" });
    expect(await sender.send(wave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the homeserver said bad-request", retry: false });
    expect(await sender.send(wave, roomOf("!a:x"))).toEqual({ kind: "failed", reason: "the homeserver said not-found", retry: true });
    expect(await sender.send(wave, roomOf("!a:x"))).toEqual({ kind: "slow-down", reason: "the homeserver said server-error", waitMs: 2_000 });
    expect(calls[0]).toEqual(["!a:x", true]);
  });
});
