import { describe, expect, it } from "vitest";
import type { WaveView } from "../../../src/model/waves.js";
import { renderFinished, renderProgress } from "../../../src/render/taskMessages.js";
import { renderWaveBoard, renderWaveMainPhaseEnded, wavePreview } from "../../../src/render/waves.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { expectOnlyOwnMarkup } from "./markup.js";
import { MINUTE, REQUESTER, roomsIn, sampleWave } from "./waveSamples.js";

const DAY = 86_400_000;
const MEMBERS_SEEN = { block: true, purge: false, forcePurge: false, purgeWhen: "members-seen", purgeDeadlineMs: DAY };

function membersSeenView(): WaveView {
  const wave = sampleWave({ kind: "shutdown", parameters: MEMBERS_SEEN, selection: { listed: ["!a:x", "!b:x"] } });
  const endedAt = FIXED_NOW - 10 * MINUTE;
  const main = [...roomsIn({ done: 3 }, { finishedAt: endedAt }), ...roomsIn({ failed: 1 }, {}, 3)];
  const purge = [
    ...roomsIn({ queued: 2 }, { phase: "purge", notBefore: FIXED_NOW + 20_000, reason: "waiting for the clients of 1 of 2 kicked members to see that they left" }),
    ...roomsIn({ done: 1 }, { phase: "purge" }, 2),
  ];
  return { wave, rooms: [...main, ...purge], now: FIXED_NOW };
}

describe("a shutdown whose purge waits for members' clients, as the board and messages show it", () => {
  it("the board names the phase, counts the rooms waiting for members' clients and says until when at the latest", () => {
    const lines = renderWaveBoard(membersSeenView(), "!").plain.split("\n");
    expect(lines.slice(0, 2)).toEqual([
      "Wave w-4c1e0a (shut down then purge once members have seen it, 4 rooms): 3 done, 0 running, 0 queued, 1 failed",
      "Purge phase: 2 waiting for members' clients to see that they left (at the latest until 2025-01-16 11:50 UTC), 1 done, 0 running, 0 failed",
    ]);
  });

  it("the main phase's end mentions the requester, with the counts, the purge phase, the failures and how to keep the data", () => {
    const message = renderWaveMainPhaseEnded(membersSeenView(), "!");
    expect(message.plain.split("\n")).toEqual([
      `${REQUESTER}: Wave w-4c1e0a (shut down then purge once members have seen it, 4 rooms) main phase finished in 20 min: 3 done, 1 failed.`,
      "Purge phase: 2 waiting for members' clients to see that they left (at the latest until 2025-01-16 11:50 UTC), 1 done, 0 running, 0 failed",
      "Failed (1):",
      "- #room3:example.org (!room3:example.org): the homeserver refused room 3",
      "The summary follows when the purge phase ends. !status w-4c1e0a for every room; !cancel w-4c1e0a keeps the rooms' data (drops the purge phase).",
    ]);
    expect(message.mentions).toEqual([REQUESTER]);
    expect(message.record).toMatchObject({ type: "wave-main-phase-ended", id: "w-4c1e0a", counts: { main: { done: 3, failed: 1 } } });
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
    expect(message.short?.plain.split("\n")).toHaveLength(3);
  });

  it("the preview says each room waits for its members' clients, bounded, and --purge-now that clients keep the room listed", () => {
    const shown = (parameters: Record<string, boolean | number | string>): string[] =>
      wavePreview({ kind: "shutdown", rooms: roomsIn({ queued: 2 }), leftOut: [], parameters, selection: { listed: ["!a:x", "!b:x"] } })
        .lines.map((line) => `${line.label}: ${line.value}`)
        .filter((line) => line.startsWith("Delete from database") || line.startsWith("Purge phase") || line.startsWith("Members' clients"));
    expect(shown(MEMBERS_SEEN)).toEqual([
      "Delete from database: in the purge phase",
      "Purge phase: each room is purged once its kicked members' clients have seen that they left (every device active in the last 1 d seen again after the shutdown), at the latest 1 d after its shutdown",
    ]);
    expect(shown({ block: true, purge: true, forcePurge: false })).toEqual([
      "Delete from database: yes, with the shutdown (--purge-now)",
      "Members' clients: will keep the room in their room list: the purge deletes their leave before they sync (without --purge-now, the purge waits until they have seen it)",
    ]);
    expect(shown({ block: true, purge: false, forcePurge: false })).toEqual(["Delete from database: no (--no-purge)"]);
  });
});

describe("a single-room shutdown's own messages, in two steps", () => {
  const first = sampleTask({
    id: "s-00000a",
    kind: "shutdown",
    roomLabel: "#spam:example.org",
    status: "complete",
    createdAt: FIXED_NOW - 3_000,
    finishedAt: FIXED_NOW,
    parameters: { ...MEMBERS_SEEN, waveId: "w-4c1e0a", wavePhase: "main", waveAttempt: 1, waveBoard: false, knownRoom: true, joinedMembers: 3, joinedLocalMembers: 2, roomName: "" },
    outcome: { kickedUsers: ["@a:x", "@b:x"], failedToKickUsers: [], localAliases: [], newRoomId: null, blocked: true },
  });

  it("the first step says the room leaves the database later, and its end says when at the latest and how to keep the data", () => {
    expect(renderProgress(first, FIXED_NOW).plain).toContain(
      "Delete from database: later, once the kicked members' clients have seen that they left, at the latest 1 d after the shutdown (w-4c1e0a)",
    );
    const final = renderFinished(first, FIXED_NOW, "!").plain.split("\n");
    expect(final).toContain("Kicked (2): @a:x, @b:x");
    expect(final.at(-1)).toBe(
      "Purge from the database: once the kicked members' clients have seen that they left, at the latest 2025-01-16 12:00:00 UTC; !status w-4c1e0a shows it, !cancel w-4c1e0a keeps the room's data.",
    );
  });

  it("with --purge-after, the end names the time of the purge", () => {
    const after = { ...first, parameters: { ...first.parameters, purgeAfterMs: 2 * 3_600_000 } };
    delete (after.parameters as Record<string, unknown>)["purgeWhen"];
    expect(renderFinished(after, FIXED_NOW, "!").plain).toContain("Purge from the database: at 2025-01-15 14:00:00 UTC; !status w-4c1e0a shows it");
  });

  it("a first step that failed says nothing of a purge to come", () => {
    expect(renderFinished({ ...first, status: "failed", reason: "no" }, FIXED_NOW, "!").plain).not.toContain("Purge from the database");
  });

  it("the purge step says what it does, and its end that the room is deleted from the database", () => {
    const purge = sampleTask({
      id: "s-00000b",
      kind: "shutdown",
      roomLabel: "#spam:example.org",
      status: "complete",
      createdAt: FIXED_NOW - 2_000,
      finishedAt: FIXED_NOW,
      parameters: { waveId: "w-4c1e0a", wavePhase: "purge", waveAttempt: 1, waveBoard: false, block: true, purge: true, forcePurge: false, knownRoom: true },
      outcome: { kickedUsers: [], failedToKickUsers: [], localAliases: [], newRoomId: null, blocked: true },
    });
    expect(renderProgress(purge, FIXED_NOW).plain).toContain("Step: the purge phase of w-4c1e0a: deletes the emptied room from the database");
    const final = renderFinished(purge, FIXED_NOW, "!").plain.split("\n");
    expect(final.slice(1)).toEqual(["Result: the room is deleted from the database", "Blocked now: yes"]);
  });
});
