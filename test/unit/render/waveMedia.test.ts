import { describe, expect, it } from "vitest";
import { failedStep, tallyMedia, type RoomSteps, type WaveRoom, type WaveView } from "../../../src/model/waves.js";
import { detailLines, renderFinished, renderProgress } from "../../../src/render/taskMessages.js";
import { mediaPreview, renderStepFailures, renderWaveBoard, renderWaveFinished, renderWaveMainPhaseEnded, renderWaveStatus, wavePreview } from "../../../src/render/waves.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { expectOnlyOwnMarkup, HOSTILE } from "./markup.js";
import { MINUTE, REQUESTER, roomsIn, sampleWave } from "./waveSamples.js";

const PLAIN = { block: true, purge: true, forcePurge: false };
const QUARANTINE = { ...PLAIN, quarantineMedia: true };
const NOT_SERVED = "its media could not be quarantined, so the room was not shut down: not served here";

const quarantined = (count: number, at = FIXED_NOW - MINUTE): RoomSteps => ({ media: { ok: true, count, at } });
const notQuarantined = (at = FIXED_NOW - MINUTE): RoomSteps => ({ media: { ok: false, reason: NOT_SERVED, at } });

/** Three rooms quarantined (12 files), one whose quarantine failed, one not sent yet. */
function mediaView(parameters: Record<string, boolean | number | string> = QUARANTINE, status: "running" | "finished" = "running"): WaveView {
  const done = roomsIn({ done: 3 });
  const rooms: WaveRoom[] = [
    { ...done[0], steps: quarantined(4) } as WaveRoom,
    { ...done[1], steps: quarantined(8) } as WaveRoom,
    { ...done[2], steps: quarantined(0) } as WaveRoom,
    ...roomsIn({ failed: 1 }, { reason: NOT_SERVED, steps: notQuarantined() }, 3),
    ...roomsIn({ queued: 1 }, {}, 4),
  ];
  const wave = sampleWave({ kind: "shutdown", parameters, status, ...(status === "finished" ? { finishedAt: FIXED_NOW } : {}) });
  return { wave, rooms, now: FIXED_NOW };
}

describe("the media step in numbers", () => {
  it("counts each room once, by its latest outcome of either phase, and the rooms whose latest quarantine failed", () => {
    const [a, b, c] = roomsIn({ done: 3 });
    const rooms = [
      // Quarantined before the first delete, then again (more files) before the purge.
      { ...a, steps: quarantined(2, 1) },
      { ...a, phase: "purge", steps: quarantined(5, 3) },
      // Quarantined before the first delete; the purge phase's quarantine failed later.
      { ...b, steps: quarantined(7, 1) },
      { ...b, phase: "purge", state: "failed", steps: notQuarantined(2) },
      // The purge row is older than the main row's retry (equal times: the later row wins).
      { ...c, steps: quarantined(1, 9) },
      { ...c, phase: "purge", steps: quarantined(3, 9) },
    ] as WaveRoom[];
    expect(tallyMedia(rooms)).toEqual({ files: 8, rooms: 2, failed: 1 });
    expect(tallyMedia(roomsIn({ done: 2 }))).toEqual({ files: 0, rooms: 0, failed: 0 });
    expect(tallyMedia([{ ...a, steps: quarantined(2, 5) }, { ...a, phase: "purge", steps: quarantined(9, 4) }] as WaveRoom[])).toEqual({ files: 2, rooms: 1, failed: 0 });
  });

  it("a room failed at a step names it; a room that failed later, or is still to be tried again, does not", () => {
    const [room] = roomsIn({ failed: 1 });
    if (room === undefined) throw new Error("no room");
    expect(failedStep({ ...room, steps: notQuarantined() })).toBe("media");
    expect(failedStep({ ...room, steps: quarantined(1) })).toBeUndefined();
    expect(failedStep(room)).toBeUndefined();
    expect(failedStep({ ...room, state: "queued", steps: notQuarantined() })).toBeUndefined();
  });
});

describe("the media step on the board, in the summary and in !status", () => {
  it("the board carries it right under its first line, with the rooms whose delete was not sent", () => {
    const board = renderWaveBoard(mediaView(), "!");
    expect(board.plain.split("\n").slice(0, 2)).toEqual([
      "Wave w-4c1e0a (shut down, 5 rooms): 3 done, 0 running, 1 queued, 1 failed",
      "Media quarantined: 12 files in 3 rooms; could not be quarantined in 1 room, whose delete was not sent",
    ]);
    expect(board.record).toMatchObject({ type: "wave", media: { files: 12, rooms: 3, failed: 1 } });
    const one = { ...mediaView(), rooms: [{ ...roomsIn({ done: 1 })[0], steps: quarantined(1) } as WaveRoom] };
    expect(renderWaveBoard(one, "!").plain.split("\n")[1]).toBe("Media quarantined: 1 file in 1 room");
  });

  it("without --quarantine-media nothing about media is said or recorded", () => {
    const view = mediaView(PLAIN, "finished");
    for (const message of [renderWaveBoard(view, "!"), renderWaveFinished(view, "!"), renderWaveMainPhaseEnded(view, "!"), renderWaveStatus(view, 1, "!")]) {
      expect(message.plain).not.toContain("Media");
      expect(message.record).not.toHaveProperty("media");
    }
    expect(renderWaveStatus(view, 1, "!").plain).toContain("media: 4 quarantined");
  });

  it("the summary says it after its first line, in its short form and its record too", () => {
    const summary = renderWaveFinished(mediaView(QUARANTINE, "finished"), "!");
    expect(summary.plain.split("\n").slice(0, 2)).toEqual([
      `${REQUESTER}: Wave w-4c1e0a (shut down, 5 rooms) finished in 20 min: 3 done, 1 failed, 1 still queued.`,
      "Media quarantined: 12 files in 3 rooms; could not be quarantined in 1 room, whose delete was not sent",
    ]);
    expect(summary.plain).toContain(`- #room3:example.org (!room3:example.org): ${NOT_SERVED}`);
    expect(summary.short?.plain.split("\n")[1]).toBe("Media quarantined: 12 files in 3 rooms; could not be quarantined in 1 room, whose delete was not sent");
    expect(summary.record).toMatchObject({ type: "wave-finished", media: { files: 12, rooms: 3, failed: 1 } });
  });

  it("the message that the rooms are emptied says it too", () => {
    const message = renderWaveMainPhaseEnded(mediaView({ ...QUARANTINE, purge: false, purgeAfterMs: 60 * MINUTE }), "!");
    expect(message.plain.split("\n")[1]).toBe("Media quarantined: 12 files in 3 rooms; could not be quarantined in 1 room, whose delete was not sent");
    expect(message.record).toMatchObject({ media: { files: 12, rooms: 3, failed: 1 } });
  });

  it("!status <wave-id> gives each room's count, and says where it was not quarantined", () => {
    const status = renderWaveStatus(mediaView(), 1, "!");
    const lines = status.plain.split("\n");
    expect(lines[1]).toBe("Media quarantined: 12 files in 3 rooms; could not be quarantined in 1 room, whose delete was not sent");
    expect(lines).toContain("- #room0:example.org (!room0:example.org): done, task p-000000, 1 attempt, media: 4 quarantined");
    expect(lines).toContain("- #room2:example.org (!room2:example.org): done, task p-000002, 1 attempt, media: 0 quarantined");
    expect(lines).toContain(`- #room3:example.org (!room3:example.org): failed, task p-000003, 1 attempt, media: not quarantined: ${NOT_SERVED}`);
    expect(lines).toContain("- #room4:example.org (!room4:example.org): queued");
    expect(status.record).toMatchObject({ type: "wave-status", media: { files: 12, rooms: 3, failed: 1 } });
    expectOnlyOwnMarkup(status.html);
  });
});

describe("the media step in previews", () => {
  const mediaLine = (parameters: Record<string, boolean | number | string>): string | undefined =>
    wavePreview({ kind: "shutdown", rooms: roomsIn({ queued: 2 }), leftOut: [], parameters, selection: { listed: ["!a:x", "!b:x"] } }).lines.find((line) => line.label === "Media")?.value;

  it("says the media is quarantined before each room's delete, with files of the same content, and that a failure stops the delete", () => {
    expect(mediaLine(QUARANTINE)).toBe(
      "quarantined in each room right before its delete, so it is no longer served: every file the room's messages name, local and remote, except files protected from quarantine (since Synapse 1.128 every file with the same content goes with it); a room whose media cannot be quarantined is not deleted",
    );
    expect(mediaLine({ ...QUARANTINE, purge: false, purgeWhen: "members-seen", purgeDeadlineMs: 86_400_000 })).toMatch(/^quarantined in each room right before its delete, and again right before the purge phase, so it/);
    expect(mediaLine(PLAIN)).toBeUndefined();
  });

  it("for a single room the homeserver does not know, that there is nothing to quarantine", () => {
    expect(mediaPreview(QUARANTINE, false)).toEqual([{ label: "Media", value: "nothing to quarantine: the homeserver does not know the room, so it holds none of its messages" }]);
    expect(mediaPreview({ block: true }, false)).toEqual([]);
    expect(mediaPreview(QUARANTINE)).toHaveLength(1);
  });
});

describe("a single room's shutdown that stopped at its media step", () => {
  it("mentions the requester with the room and why, and where to look", () => {
    const view: WaveView = {
      wave: sampleWave({ kind: "shutdown", parameters: QUARANTINE, board: false, status: "finished" }),
      rooms: roomsIn({ failed: 1 }, { label: HOSTILE, reason: NOT_SERVED, steps: notQuarantined() }),
      now: FIXED_NOW,
    };
    const message = renderStepFailures(view, "!");
    expect(message.plain.split("\n")).toEqual([
      `${REQUESTER}: Shutdown not done: 1 room stopped before the homeserver was asked to delete it.`,
      expect.stringMatching(new RegExp(`^- .* \\(!room0:example.org\\): ${NOT_SERVED}$`)) as string,
      "!status w-4c1e0a shows it",
    ]);
    expect(message.mentions).toEqual([REQUESTER]);
    expect(message.record).toEqual({ type: "wave-step-failed", id: "w-4c1e0a", kind: "shutdown", failed: ["!room0:example.org"], media: { files: 0, rooms: 0, failed: 1 } });
    expect(message.short?.plain).toBe(`${REQUESTER}: Shutdown not done: 1 room stopped before the homeserver was asked to delete it.\n!status w-4c1e0a shows it`);
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
  });

  it("lists only the rooms that stopped at a step, and says it of several", () => {
    const rooms = [...roomsIn({ failed: 2 }, { reason: NOT_SERVED, steps: notQuarantined() }), ...roomsIn({ failed: 1 }, {}, 2)];
    const message = renderStepFailures({ wave: sampleWave({ kind: "shutdown", parameters: QUARANTINE, board: false }), rooms, now: FIXED_NOW }, "!");
    expect(message.plain.split("\n")[0]).toBe(`${REQUESTER}: Shutdown not done: 2 rooms stopped before the homeserver was asked to delete them.`);
    expect(message.plain).not.toContain("!room2:example.org");
  });
});

describe("the media step in a single shutdown's messages", () => {
  const shutdownTask = (parameters: Record<string, boolean | number | string>, status: "scheduled" | "complete" = "scheduled") =>
    sampleTask({
      kind: "shutdown",
      id: "s-0a1b2c",
      status,
      ...(status === "complete" ? { finishedAt: FIXED_NOW, outcome: { kickedUsers: [], failedToKickUsers: [], localAliases: [], newRoomId: null, blocked: true } } : {}),
      parameters: { knownRoom: true, roomName: "Spam", joinedMembers: 3, joinedLocalMembers: 1, block: true, purge: true, forcePurge: false, ...parameters },
    });

  it("the progress message, the final message and !status <task-id> say how many files were quarantined before the delete", () => {
    const task = shutdownTask({ mediaQuarantined: 4 });
    expect(renderProgress(task, FIXED_NOW).plain.split("\n")).toContain("Media quarantined: 4 files before this delete, no longer served");
    const final = renderFinished(shutdownTask({ mediaQuarantined: 1 }, "complete"), FIXED_NOW).plain.split("\n");
    expect(final[1]).toBe("Media quarantined: 1 file before this delete, no longer served");
    expect(final.filter((line) => line.startsWith("Media"))).toHaveLength(1);
    expect(detailLines(shutdownTask({ mediaQuarantined: 0 }, "complete"), FIXED_NOW).plain.split("\n").filter((line) => line.startsWith("Media"))).toEqual([
      "Media quarantined: 0 files before this delete, no longer served",
    ]);
  });

  it("the purge step's messages say it for the purge's own quarantine; without the step nothing is said", () => {
    const purgeStep = shutdownTask({ waveId: "w-4c1e0a", wavePhase: "purge", mediaQuarantined: 6 });
    expect(renderProgress(purgeStep, FIXED_NOW).plain.split("\n")).toContain("Media quarantined: 6 files before this delete, no longer served");
    for (const message of [renderProgress(shutdownTask({}), FIXED_NOW), renderFinished(shutdownTask({}, "complete"), FIXED_NOW), detailLines(shutdownTask({}, "complete"), FIXED_NOW)]) {
      expect(message.plain).not.toContain("Media");
    }
  });
});
