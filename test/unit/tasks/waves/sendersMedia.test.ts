import { describe, expect, it } from "vitest";
import type { WaveRecord, WaveRoom } from "../../../../src/model/waves.js";
import { MEDIA_NOT_SERVED } from "../../../../src/synapse/adminClient.js";
import type { AdminError } from "../../../../src/synapse/errors.js";
import { roomMediaStep, shutdownSender } from "../../../../src/tasks/waves/senders.js";
import { err, ok, type Result } from "../../../../src/util/result.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { SubmittingLauncher } from "../../../fakes/submittingLauncher.js";

const wave: WaveRecord = {
  id: "w-000001",
  kind: "shutdown",
  requester: "@mod:example.org",
  managementRoomId: "!mgmt:example.org",
  commandEventId: "$command",
  selection: { listed: [], matching: "spam" },
  parameters: { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: 86_400_000, quarantineMedia: true },
  leftOut: [],
  status: "running",
  createdAt: 0,
  finalNotificationSent: false,
};
const known: WaveRoom = { waveId: wave.id, roomId: "!r:example.org", phase: "main", label: "#r:example.org", joinedMembers: 4, joinedLocalMembers: 1, state: "sending", attempts: 1 };

/** The media admin endpoint, answering from a script and recording the rooms asked for. */
function mediaAdmin(...answers: Result<{ num_quarantined: number }, AdminError>[]) {
  const asked: string[] = [];
  const deletes: string[] = [];
  return {
    asked,
    deletes,
    admin: {
      quarantineRoomMedia: (roomId: string): Promise<Result<{ num_quarantined: number }, AdminError>> => {
        asked.push(roomId);
        return Promise.resolve(answers.shift() ?? ok({ num_quarantined: 0 }));
      },
      startDelete: (roomId: string): Promise<Result<{ delete_id: string }, AdminError>> => {
        deletes.push(roomId);
        return Promise.resolve(ok({ delete_id: "delete-1" }));
      },
    },
  };
}

describe("the media step", () => {
  it("quarantines the room's media and answers the homeserver's count", async () => {
    const { admin, asked } = mediaAdmin(ok({ num_quarantined: 12 }));
    expect(await roomMediaStep(admin).run(wave, known)).toEqual({ kind: "done", count: 12 });
    expect(asked).toEqual(["!r:example.org"]);
    expect(roomMediaStep(admin).name).toBe("media");
  });

  it("a refusal fails the try, saying what was not done and why (a process that does not serve the media API named)", async () => {
    const notServed: AdminError = { ...adminError("not-found", 404), errcode: "M_UNRECOGNIZED", userMessage: MEDIA_NOT_SERVED };
    const { admin } = mediaAdmin(err(notServed), err(adminError("forbidden", 403)));
    expect(await roomMediaStep(admin).run(wave, known)).toEqual({ kind: "failed", reason: `its media could not be quarantined, so the room was not shut down: ${MEDIA_NOT_SERVED}` });
    expect(await roomMediaStep(admin).run(wave, { ...known, phase: "purge" })).toEqual({
      kind: "failed",
      reason: "its media could not be quarantined, so the room was not purged: the homeserver refused: Warden's account is not allowed to do this",
    });
  });

  it("a rate limit or a server error slows the wave down instead, with the homeserver's wait", async () => {
    const { admin } = mediaAdmin(err({ ...adminError("rate-limited", 429), retryAfterMs: 7_000 }), err(adminError("server-error", 502)));
    expect(await roomMediaStep(admin).run(wave, known)).toEqual({
      kind: "slow-down",
      reason: "its media could not be quarantined, so the room was not shut down: the homeserver is rate-limiting Warden; try again in a moment",
      waitMs: 7_000,
    });
    expect(await roomMediaStep(admin).run(wave, { ...known, phase: "purge" })).toEqual({ kind: "slow-down", reason: "its media could not be quarantined, so the room was not purged: the homeserver failed with HTTP 502" });
  });
});

describe("shutdown sender: --quarantine-media", () => {
  it("quarantines before each delete of a room it knows, the purge phase's too; not without the flag, nor for a room the homeserver does not know", () => {
    const { admin } = mediaAdmin();
    const sender = shutdownSender(admin, new SubmittingLauncher());
    const steps = (on: WaveRecord, room: WaveRoom): string[] => (sender.stepsBefore?.(on, room) ?? []).map((step) => step.name);
    const unknown: WaveRoom = { waveId: wave.id, roomId: "!gone:example.org", phase: "main", label: "!gone:example.org", state: "sending", attempts: 1 };

    expect(steps(wave, known)).toEqual(["media"]);
    // A purge-phase row carries no member counts: the room was known, or it would have no purge phase.
    expect(steps(wave, { ...unknown, phase: "purge" })).toEqual(["media"]);
    expect(steps(wave, unknown)).toEqual([]);
    expect(steps({ ...wave, parameters: { ...wave.parameters, quarantineMedia: false } }, known)).toEqual([]);
    expect(steps({ ...wave, parameters: { block: true, purge: false, forcePurge: false } }, known)).toEqual([]);
  });

  it("its steps quarantine through the admin client", async () => {
    const { admin, asked } = mediaAdmin(ok({ num_quarantined: 2 }));
    const [step] = shutdownSender(admin, new SubmittingLauncher()).stepsBefore?.(wave, known) ?? [];
    expect(await step?.run(wave, known)).toEqual({ kind: "done", count: 2 });
    expect(asked).toEqual(["!r:example.org"]);
  });

  it("the delete's task carries the count its step quarantined, so its messages say it; none when the step did not run", async () => {
    const { admin, deletes } = mediaAdmin();
    const launcher = new SubmittingLauncher();
    const sender = shutdownSender(admin, launcher);

    await sender.send(wave, { ...known, steps: { media: { ok: true, count: 4, at: 1 } } });
    await sender.send(wave, { ...known, phase: "purge", steps: { media: { ok: true, count: 0, at: 2 } } });
    await sender.send(wave, known);

    expect(launcher.requests.map((request) => request.parameters["mediaQuarantined"])).toEqual([4, 0, undefined]);
    expect(deletes).toHaveLength(3);
  });
});
