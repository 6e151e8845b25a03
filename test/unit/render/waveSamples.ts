import type { WaveRecord, WaveRoom, WaveRoomState, WaveView } from "../../../src/model/waves.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";

export const MINUTE = 60_000;
export const REQUESTER = "@mod:example.org";

/** A running purge wave; override what a test is about. */
export function sampleWave(overrides: Partial<WaveRecord> = {}): WaveRecord {
  return {
    id: "w-4c1e0a",
    kind: "purge",
    requester: REQUESTER,
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    selection: { listed: [], matching: "spam" },
    parameters: { cutoff: "2026-05-01 UTC", cutoffTs: Date.UTC(2026, 4, 1), deleteLocalEvents: false },
    leftOut: [],
    status: "running",
    createdAt: FIXED_NOW - 20 * MINUTE,
    finalNotificationSent: false,
    ...overrides,
  };
}

/** Rooms in the given states, in that order, numbered from `from` so two calls never share a room. */
export function roomsIn(states: Partial<Record<WaveRoomState, number>>, overrides: Partial<WaveRoom> = {}, from = 0): WaveRoom[] {
  const rooms: WaveRoom[] = [];
  for (const [state, count] of Object.entries(states) as [WaveRoomState, number][]) {
    for (let index = 0; index < count; index++) {
      const number = from + rooms.length;
      rooms.push({
        waveId: "w-4c1e0a",
        roomId: `!room${number}:example.org`,
        phase: "main",
        label: `#room${number}:example.org`,
        state,
        attempts: state === "queued" || state === "cancelled" ? 0 : 1,
        ...(state === "failed" ? { reason: `the homeserver refused room ${number}` } : {}),
        ...(state === "sent" || state === "done" || state === "failed" ? { taskId: `p-${String(number).padStart(6, "0")}` } : {}),
        ...overrides,
      });
    }
  }
  return rooms;
}

/** The issue's example: 312 rooms, 180 done, 5 running, 121 queued, 6 failed, about 4 minutes left. */
export function issueView(overrides: Partial<WaveRecord> = {}): WaveView {
  return {
    wave: sampleWave(overrides),
    rooms: roomsIn({ done: 180, sent: 5, queued: 121, failed: 6 }),
    remainingMs: 4 * MINUTE,
    now: FIXED_NOW,
  };
}
