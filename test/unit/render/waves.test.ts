import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { MESSAGE_BUDGET_BYTES, messageBytes } from "../../../src/matrix/chat.js";
import { mediaRunParameters } from "../../../src/model/retention.js";
import type { LeftOutRoom, SelectedRoom, WaveRoom, WaveRoomState, WaveView } from "../../../src/model/waves.js";
import { err, ok } from "../../../src/util/result.js";
import { renderPreview } from "../../../src/render/previews.js";
import { renderOutcome } from "../../../src/render/replies.js";
import { renderWaveBoard, renderWaveCancelled, renderWaveFinished, renderWaveStatus, wavePreview } from "../../../src/render/waves.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { expectOnlyOwnMarkup, HOSTILE } from "./markup.js";
import { issueView, MINUTE, REQUESTER, roomsIn, sampleWave } from "./waveSamples.js";

const ISSUE_LINE = "Wave w-4c1e0a (purge before 2026-05-01 UTC, 312 rooms): 180 done, 5 running, 121 queued, 6 failed, about 4 min left";

function firstLine(view: WaveView): string | undefined {
  return renderWaveBoard(view, "!").plain.split("\n")[0];
}

describe("renderWaveBoard", () => {
  it("starts with the issue's line, names the selection and says how to follow or stop the wave, without notifying", () => {
    const message = renderWaveBoard(issueView(), "!");
    expect(message.plain.split("\n")).toEqual([
      ISSUE_LINE,
      'Selection: rooms matching "spam". Requested by @mod:example.org.',
      "Local users' messages: kept",
      "!status w-4c1e0a for every room, !cancel w-4c1e0a to stop sending",
    ]);
    expect(message.mentions).toBeUndefined();
    expect(message.html.startsWith("<b>Wave <code>w-4c1e0a</code></b> (purge before 2026-05-01 UTC, 312 rooms): 180 done")).toBe(true);
    expectOnlyOwnMarkup(message.html);
    expect(message.short?.plain.split("\n")).toEqual([ISSUE_LINE, "!status w-4c1e0a for every room, !cancel w-4c1e0a to stop sending"]);
  });

  it("uses the configured prefix in its hint", () => {
    expect(renderWaveBoard(issueView(), "?").plain).toContain("?status w-4c1e0a for every room, ?cancel w-4c1e0a to stop sending");
  });

  it("carries a record of the wave: id, kind, selection, parameters, counts, status, policy", () => {
    const record = renderWaveBoard(issueView(), "!").record;
    expect(record).toMatchObject({
      type: "wave",
      id: "w-4c1e0a",
      kind: "purge",
      status: "running",
      policy: null,
      selection: { listed: [], listed_count: 0, matching: "spam", space: null, empty: false, all: false },
      parameters: { cutoff: "2026-05-01 UTC", cutoffTs: Date.UTC(2026, 4, 1), deleteLocalEvents: false },
      counts: { main: { total: 312, done: 180, running: 5, queued: 121, failed: 6, skipped: 0, cancelled: 0, waiting: 0 }, purge: null },
    });
  });

  it("words the time left: none without a pace, less than a minute, whole minutes and hours", () => {
    const view = issueView();
    expect(firstLine({ wave: view.wave, rooms: view.rooms, now: view.now })).toBe(ISSUE_LINE.replace(", about 4 min left", ""));
    expect(firstLine({ ...view, remainingMs: 59_000 })).toMatch(/, 6 failed, less than a minute left$/);
    expect(firstLine({ ...view, remainingMs: 2 * 3_600_000 + 10 * MINUTE + 20_000 })).toMatch(/, about 2 h 10 min left$/);
  });

  it("adds skipped and cancelled rooms only when there are some", () => {
    const rooms = roomsIn({ done: 3, skipped: 2, cancelled: 4 });
    expect(firstLine({ wave: sampleWave(), rooms, now: FIXED_NOW })).toBe(
      "Wave w-4c1e0a (purge before 2026-05-01 UTC, 9 rooms): 3 done, 0 running, 0 queued, 0 failed, 2 skipped, 4 cancelled",
    );
  });

  it("says when a wave finished, or who cancelled it", () => {
    const rooms = roomsIn({ done: 1 });
    const finished = sampleWave({ status: "finished", finishedAt: FIXED_NOW - 8 * MINUTE });
    expect(firstLine({ wave: finished, rooms, now: FIXED_NOW })).toBe(
      "Wave w-4c1e0a (purge before 2026-05-01 UTC, 1 room): 1 done, 0 running, 0 queued, 0 failed, finished in 12 min",
    );
    const cancelled = sampleWave({ status: "cancelled", cancelledBy: "@boss:example.org" });
    const board = renderWaveBoard({ wave: cancelled, rooms: roomsIn({ sent: 2, cancelled: 3 }), remainingMs: MINUTE, now: FIXED_NOW }, "!");
    expect(board.plain.split("\n")[0]).toBe("Wave w-4c1e0a (purge before 2026-05-01 UTC, 5 rooms): 0 done, 2 running, 0 queued, 0 failed, 3 cancelled, cancelled by @boss:example.org");
    expect(board.plain.split("\n").at(-1)).toBe("!status w-4c1e0a for every room");
    const ended = sampleWave({ status: "finished", cancelledBy: "@boss:example.org", finishedAt: FIXED_NOW });
    expect(firstLine({ wave: ended, rooms, now: FIXED_NOW })).toMatch(/, cancelled by @boss:example.org, finished in 20 min$/);
  });

  it("writes the cut-off from its timestamp when no text was kept", () => {
    const wave = sampleWave({ parameters: { cutoffTs: Date.UTC(2026, 4, 1, 6, 30) } });
    expect(firstLine({ wave, rooms: roomsIn({ queued: 2 }), now: FIXED_NOW })).toMatch(/^Wave w-4c1e0a \(purge before 2026-05-01 06:30:00 UTC, 2 rooms\): /);
  });

  it("shows a shutdown with a purge phase: the action, a line for the phase with its waiting rooms and until when", () => {
    const wave = sampleWave({ kind: "shutdown", parameters: { block: true, purge: false, purgeAfterMs: 2 * 86_400_000 }, selection: { listed: ["#a:x", "#b:x"], all: false } });
    const until = Date.UTC(2025, 0, 17, 9, 59, 30);
    const purge = [
      ...roomsIn({ queued: 40 }, { phase: "purge", notBefore: until }),
      ...roomsIn({ done: 2, failed: 1 }, { phase: "purge" }, 40),
    ];
    const view: WaveView = { wave, rooms: [...roomsIn({ done: 43 }), ...purge], now: FIXED_NOW };
    const lines = renderWaveBoard(view, "!").plain.split("\n");
    expect(lines.slice(0, 4)).toEqual([
      "Wave w-4c1e0a (shut down then purge after 2 d, 43 rooms): 43 done, 0 running, 0 queued, 0 failed",
      "Purge phase: 40 waiting until 2025-01-17 10:00 UTC, 2 done, 0 running, 0 queued, 1 failed",
      "Selection: 2 listed rooms. Requested by @mod:example.org.",
      "Block afterwards: yes; delete from database: in the purge phase",
    ]);
    const later = roomsIn({ queued: 1 }, { phase: "purge", notBefore: until + 3 * 3_600_000 }, 100);
    expect(renderWaveBoard({ ...view, rooms: [...view.rooms, ...later] }, "!").plain).toContain(
      "Purge phase: 41 waiting until 2025-01-17 10:00 UTC (the last until 2025-01-17 13:00 UTC), 2 done",
    );
  });

  it("names block and unblock waves, the rooms left out and the retention policy", () => {
    const wave = sampleWave({ kind: "block", parameters: {}, policy: "nightly", leftOut: [{ label: "#mgmt:x", why: "the management room" }] });
    const lines = renderWaveBoard({ wave, rooms: roomsIn({ done: 2 }), now: FIXED_NOW }, "!").plain.split("\n");
    expect(lines[0]).toMatch(/^Wave w-4c1e0a \(block, 2 rooms\): /);
    expect(lines[1]).toBe('Selection: rooms matching "spam"; 1 room left out. Retention policy "nightly".');
    expect(firstLine({ wave: { ...wave, kind: "unblock" }, rooms: roomsIn({ done: 1 }), now: FIXED_NOW })).toMatch(/^Wave w-4c1e0a \(unblock, 1 room\): /);
  });

  it("escapes and bounds what moderators and homeservers wrote", () => {
    const wave = sampleWave({ selection: { listed: [HOSTILE], matching: HOSTILE.repeat(20) }, parameters: { cutoff: HOSTILE, reason: HOSTILE.repeat(20) } });
    const message = renderWaveBoard({ wave, rooms: roomsIn({ failed: 2 }, { reason: HOSTILE }), now: FIXED_NOW }, "!");
    expectOnlyOwnMarkup(message.html);
    expect(message.plain.split("\n").every((line) => line.length < 800)).toBe(true);
  });
});

describe("renderWaveFinished", () => {
  const finished = (overrides: Parameters<typeof sampleWave>[0], rooms = roomsIn({ done: 300, failed: 6, skipped: 6 })): WaveView => ({
    wave: sampleWave({ status: "finished", finishedAt: FIXED_NOW - 2 * MINUTE, ...overrides }),
    rooms,
    now: FIXED_NOW,
  });

  it("mentions the requester, counts by outcome, lists each failed room with its reason, gives the time taken", () => {
    const message = renderWaveFinished(finished({}), "!");
    const lines = message.plain.split("\n");
    expect(lines[0]).toBe(`${REQUESTER}: Wave w-4c1e0a (purge before 2026-05-01 UTC, 312 rooms) finished in 18 min: 300 done, 6 failed, 6 skipped.`);
    expect(lines[1]).toBe("Failed (6):");
    expect(lines[2]).toBe("- #room300:example.org (!room300:example.org): the homeserver refused room 300");
    expect(lines.slice(-2)).toEqual(["Started 2025-01-15 11:40:00 UTC, ended 2025-01-15 11:58:00 UTC (18 min).", "!status w-4c1e0a for every room"]);
    expect(message.mentions).toEqual([REQUESTER]);
    expect(message.html.startsWith('<a href="https://matrix.to/#/%40mod%3Aexample.org">@mod:example.org</a>: ')).toBe(true);
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
    expect(message.short?.mentions).toEqual([REQUESTER]);
    expect(message.record).toMatchObject({ type: "wave-finished", id: "w-4c1e0a", outcome: "finished", counts: { main: { done: 300, failed: 6, skipped: 6 } } });
    expect(message.plain).not.toContain("Reminder");
  });

  it("says who cancelled the wave and how many rooms were never sent", () => {
    const message = renderWaveFinished(finished({ cancelledBy: "@boss:example.org" }, roomsIn({ done: 10, cancelled: 90 })), "!");
    expect(message.plain.split("\n")[0]).toBe(
      `${REQUESTER}: Wave w-4c1e0a (purge before 2026-05-01 UTC, 100 rooms) cancelled by @boss:example.org, ended after 18 min: 10 done, 0 failed, 90 cancelled before they were sent.`,
    );
    expect(message.record).toMatchObject({ outcome: "cancelled", cancelled_by: "@boss:example.org" });
  });

  it("lists as many failed rooms as fit, then how many more and where to read them", () => {
    const rooms = roomsIn({ failed: 5_000 }, { reason: HOSTILE });
    const message = renderWaveFinished(finished({}, rooms), "!");
    expect(messageBytes(message)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    const shown = message.plain.split("\n").filter((line) => line.startsWith("- ")).length;
    expect(shown).toBeGreaterThan(5);
    expect(message.plain).toContain(`... and ${5_000 - shown} more: !status w-4c1e0a`);
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
  });

  it("reports a retention run: purged, skipped, failed, time per room, and what purging does not do", () => {
    const rooms = [...roomsIn({ done: 3 }, { durationMs: 10_000 }), ...roomsIn({ done: 1 }, { durationMs: 200_000 }, 3), ...roomsIn({ skipped: 2, failed: 1 }, {}, 4)];
    const lines = renderWaveFinished(finished({ policy: "nightly" }, rooms), "!").plain.split("\n");
    expect(lines.slice(1, 5)).toEqual([
      'Retention policy "nightly": 4 purged, 2 skipped, 1 failed.',
      "Time per room: median 10 s, longest 3 min 20 s.",
      "Reminder: purging frees disk space only after the database is vacuumed (on PostgreSQL, autovacuum makes the space reusable; VACUUM FULL returns it to the system), and the state tables shrink only with a state compressor such as synapse-auto-compressor.",
      "Reminder: media is not removed: uploaded files stay until they are deleted through the media admin API, which is separate.",
    ]);
    const noDurations = renderWaveFinished(finished({ policy: "nightly" }, roomsIn({ done: 1 })), "!").plain;
    expect(noDurations).not.toContain("Time per room");
  });

  it("gives a retention run's media step in place of the reminder that media is not removed, each part's files or its failure", () => {
    const media = {
      at: FIXED_NOW - 20 * MINUTE,
      local: { beforeTs: Date.UTC(2024, 0, 16, 3, 30), files: ok(1) },
      remote: { beforeTs: Date.UTC(2024, 11, 16, 3, 30), files: err("the homeserver failed with HTTP 500: Internal server error") },
      keepProfiles: true,
      sizeOver: 0,
    };
    const wave = { policy: "nightly", parameters: { ...sampleWave().parameters, ...mediaRunParameters(media) } };
    const line =
      "Media (server-wide, 2025-01-15 11:40:00 UTC): 1 local file deleted (last used before 2024-01-16 03:30:00 UTC; profile pictures and room avatars kept); " +
      "cached remote files not dropped (last used before 2024-12-16 03:30:00 UTC): the homeserver failed with HTTP 500: Internal server error.";

    const summary = renderWaveFinished(finished(wave, roomsIn({ done: 1 })), "!").plain.split("\n");
    expect(summary).toContain(line);
    expect(summary.join("\n")).not.toContain("media is not removed");
    // The board says it from the start: the media step ran before the wave.
    expect(renderWaveBoard({ wave: sampleWave(wave), rooms: roomsIn({ queued: 1 }), now: FIXED_NOW }, "!").plain.split("\n")).toContain(line);
    expect(renderWaveBoard({ wave: sampleWave({ policy: "nightly" }), rooms: roomsIn({ queued: 1 }), now: FIXED_NOW }, "!").plain).not.toContain("Media");
  });

  it("notifies nobody when the requester is not a user ID, but still names it", () => {
    const message = renderWaveFinished(finished({ requester: "retention" }), "!");
    expect(message.mentions).toBeUndefined();
    expect(message.plain.startsWith("retention: Wave w-4c1e0a")).toBe(true);
  });
});

describe("renderWaveStatus", () => {
  const view = (): WaveView => {
    const base = issueView({ leftOut: [{ label: "#mgmt:example.org", roomId: "!mgmt:example.org", why: "the management room" }, { label: "#gone:example.org", why: "unknown to this homeserver" }] });
    return base;
  };

  it("shows the board's summary, then the first rooms with their state, task, attempts and reason", () => {
    const lines = renderWaveStatus(view(), undefined, "!").plain.split("\n");
    expect(lines[0]).toBe(ISSUE_LINE);
    expect(lines).toContain("Rooms, page 1 of 7:");
    expect(lines).toContain("Rooms (312), 1-50:");
    expect(lines).toContain("- #room0:example.org (!room0:example.org): done, task p-000000, 1 attempt");
    expect(lines.at(-1)).toBe("Next page: !status w-4c1e0a --page 2");
    expect(renderWaveStatus(view(), 1, "!").plain).toBe(lines.join("\n"));
  });

  it("pages through every room and every room left out, once each, in order", () => {
    const seen: string[] = [];
    for (let page = 1; page <= 7; page++) {
      const message = renderWaveStatus(view(), page, "!");
      expect(messageBytes(message)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
      seen.push(...message.plain.split("\n").filter((line) => line.startsWith("- ")));
    }
    expect(seen).toHaveLength(314);
    expect(seen[184]).toBe("- #room184:example.org (!room184:example.org): running, task p-000184, 1 attempt");
    expect(seen[185]).toBe("- #room185:example.org (!room185:example.org): queued");
    expect(seen[306]).toBe("- #room306:example.org (!room306:example.org): failed, task p-000306, 1 attempt: the homeserver refused room 306");
    expect(seen.slice(-2)).toEqual(["- #mgmt:example.org (!mgmt:example.org): the management room", "- #gone:example.org: unknown to this homeserver"]);
    const last = renderWaveStatus(view(), 7, "?").plain.split("\n");
    expect(last).toContain("Rooms (312), 301-312:");
    expect(last).toContain("Left out (2), 1-2:");
    expect(last.at(-1)).toBe("That is the last page.");
  });

  it("says how many pages there are when asked for one past the end", () => {
    const message = renderWaveStatus(view(), 9, "!");
    expect(message.plain).toBe("Wave w-4c1e0a: there is no page 9; its rooms take 7 pages (!status w-4c1e0a --page 1 to 7).");
    expect(message.record).toMatchObject({ type: "wave-status", page: 9, pages: 7 });
  });

  it("shows a waiting purge phase and a retry's attempts", () => {
    const rooms = [
      ...roomsIn({ queued: 1 }, { phase: "purge", notBefore: FIXED_NOW + 90 * MINUTE }),
      ...roomsIn({ failed: 1 }, { attempts: 3, name: "Spam <b>", reason: "timed out" }, 1),
    ];
    const lines = renderWaveStatus({ wave: sampleWave(), rooms, now: FIXED_NOW }, 1, "!").plain.split("\n");
    expect(lines).toContain("- #room0:example.org (!room0:example.org): purge phase waiting until 2025-01-15 13:30 UTC");
    expect(lines).toContain('- #room1:example.org (!room1:example.org) "Spam <b>": failed, task p-000001, 3 attempts: timed out');
  });

  it("is answered through renderOutcome, as is a cancel; a started wave's answer is its board", () => {
    expect(renderOutcome({ kind: "wave-status", view: view(), page: 2 }, "!", FIXED_NOW)?.plain).toContain("Rooms, page 2 of 7:");
    expect(renderOutcome({ kind: "wave-started", wave: sampleWave() }, "!", FIXED_NOW)).toBeUndefined();
    expect(renderOutcome({ kind: "wave-cancelled", view: view(), notSent: 121 }, "!", FIXED_NOW)?.plain).toBe(
      "Wave w-4c1e0a cancelled: 121 rooms will not be sent; 5 already with the homeserver run to their end and are reported.",
    );
  });
});

describe("renderWaveCancelled", () => {
  it("words one room, and nothing still running", () => {
    expect(renderWaveCancelled({ wave: sampleWave(), rooms: roomsIn({ sent: 1 }), now: FIXED_NOW }, 1).plain).toBe(
      "Wave w-4c1e0a cancelled: 1 room will not be sent; 1 already with the homeserver runs to its end and is reported.",
    );
    const message = renderWaveCancelled({ wave: sampleWave(), rooms: roomsIn({ done: 2 }), now: FIXED_NOW }, 0);
    expect(message.plain).toBe("Wave w-4c1e0a cancelled: 0 rooms will not be sent; none was with the homeserver.");
    expect(message.html).toBe("Wave <code>w-4c1e0a</code> cancelled: 0 rooms will not be sent; none was with the homeserver.");
  });
});

describe("wavePreview", () => {
  const room = (index: number, name = `Room ${index}`): SelectedRoom => ({
    roomId: `!r${index}:example.org`,
    label: `#r${index}:example.org`,
    name,
    joinedMembers: 10 + index,
    joinedLocalMembers: index,
  });

  it("shows a purge's plan, its rooms and the rooms left out", () => {
    const preview = wavePreview({
      kind: "purge",
      rooms: [room(1), room(2)],
      leftOut: [{ label: "#mgmt:example.org", roomId: "!mgmt:example.org", why: "the management room" }],
      parameters: { cutoff: "2026-05-01 UTC", deleteLocalEvents: true },
      selection: { listed: [], matching: "spam" },
    });
    expect(preview.title).toBe("purge the history of 2 rooms");
    expect(preview.lines.map((line) => `${line.label}: ${line.value}`)).toEqual([
      'Rooms: 2, chosen as rooms matching "spam"',
      "Left out: 1 room, listed below with why",
      "Removes history before: 2026-05-01 UTC",
      "Local users' messages: deleted too (--local)",
      'Room: #r1:example.org (!r1:example.org) "Room 1": 11 joined, 1 of them local',
      'Room: #r2:example.org (!r2:example.org) "Room 2": 12 joined, 2 of them local',
      "Left out: #mgmt:example.org (!mgmt:example.org): the management room",
    ]);
  });

  it("shows a shutdown's options and names the retention policy", () => {
    const preview = wavePreview({
      kind: "shutdown",
      rooms: Array.from({ length: 40 }, (_, index) => room(index)),
      leftOut: [],
      parameters: { block: true, purge: false, purgeAfterMs: 7 * 86_400_000, reason: "spam" },
      selection: { listed: [], space: "#spam-space:example.org" },
      policy: "old",
    });
    expect(preview.title).toBe('shut down 40 rooms (retention policy "old")');
    const shown = preview.lines.map((line) => `${line.label}: ${line.value}`);
    expect(shown.slice(0, 5)).toEqual([
      "Rooms: 40, chosen as space #spam-space:example.org and its rooms",
      "Block afterwards: yes",
      "Delete from database: in the purge phase",
      "Purge phase: each room is purged 7 d after its shutdown",
      "Reason: spam",
    ]);
    expect(shown.filter((line) => line.startsWith("Room: #"))).toHaveLength(20);
    expect(shown.at(-1)).toBe("Room: and 20 more");
  });

  it("stays within the budget with 5,000 hostile rooms and 5,000 left out, keeping the plan and both counts", () => {
    const rooms = Array.from({ length: 5_000 }, (_, index) => ({ ...room(index, HOSTILE.repeat(10)), label: `#${HOSTILE.repeat(5)}${index}:example.org` }));
    const leftOut = Array.from({ length: 5_000 }, (_, index) => ({ label: `#${HOSTILE.repeat(5)}${index}`, roomId: `!${HOSTILE}`, why: HOSTILE.repeat(10) }));
    const preview = wavePreview({ kind: "purge", rooms, leftOut, parameters: { cutoff: HOSTILE.repeat(10), deleteLocalEvents: false }, selection: { listed: rooms.map((r) => r.label), matching: HOSTILE } });
    const message = renderPreview(preview, { state: "dry-run" }, { type: "preview" });
    expect(messageBytes(message)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    const lines = message.plain.split("\n");
    expect(lines[1]).toMatch(/^Rooms: 5000, chosen as 5000 listed rooms \+ rooms matching "<script>/);
    expect(lines.some((line) => line.startsWith("Removes history before: "))).toBe(true);
    expect(lines.some((line) => /^Room: and \d+ more$/.test(line))).toBe(true);
    expect(lines.some((line) => /^Left out: and \d+ more$/.test(line))).toBe(true);
    // renderPreview's own cut ("... and N more" lines) never reached: the lists stopped first.
    expect(lines.some((line) => line.startsWith("... and"))).toBe(false);
    expect(lines.at(-1)).toBe("Dry run: nothing was done.");
    expectOnlyOwnMarkup(message.html);
  });
});

describe("renderWaveStatus, paging a large wave (issue 22)", () => {
  /** The pages as they were before issue 22: every entry's line measured, a page closed at 50 entries or 16 KiB. */
  function referencePages(sizes: readonly number[]): number[][] {
    const result: number[][] = [];
    let page: number[] = [];
    let bytes = 0;
    for (const [index, size] of sizes.entries()) {
      if (page.length > 0 && (page.length >= 50 || bytes + size > 16 * 1024)) {
        result.push(page);
        page = [];
        bytes = 0;
      }
      page.push(index);
      bytes += size;
    }
    if (page.length > 0) result.push(page);
    return result;
  }

  /** What the reference measured: a line's plain and HTML forms as JSON, in UTF-8. */
  const lineSize = (plain: string, html: string): number => Buffer.byteLength(JSON.stringify(plain)) + Buffer.byteLength(JSON.stringify(html));

  /** The rows of a page (plain and HTML), after its "Rooms, page k of n:" heading. */
  function pageBody(message: { plain: string; html: string }): { plain: string[]; html: string[] } {
    const plain = message.plain.split("\n");
    const html = message.html.split("<br>\n");
    const from = plain.findIndex((line) => /^Rooms, page \d+ of \d+:$/.test(line));
    return { plain: plain.slice(from), html: html.slice(from) };
  }

  /** An entry's row as a page shows it, from a wave holding only that entry (one page, whatever the breaks). */
  function rowAlone(wave: WaveView["wave"], entry: { kind: "room"; room: WaveRoom } | { kind: "left-out"; room: LeftOutRoom }, now: number): { plain: string; html: string } {
    const alone: WaveView = entry.kind === "room" ? { wave: { ...wave, leftOut: [] }, rooms: [entry.room], now } : { wave: { ...wave, leftOut: [entry.room] }, rooms: [], now };
    const body = pageBody(renderWaveStatus(alone, 1, "!"));
    return { plain: body.plain[2] ?? "", html: body.html[2] ?? "" };
  }

  // Text of every kind: short ASCII (pages end at 50 rows), long text in any script (pages end at 16 KiB), markup to
  // escape. `long`: how often a field is long, so that some waves break pages at 50 rows, others at 16 KiB, others at both.
  const text = (max: number, long: number): fc.Arbitrary<string> =>
    fc.oneof(
      { arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 12 }), weight: 12 },
      { arbitrary: fc.string({ unit: "binary", maxLength: max, size: "max" }), weight: 2 * long },
      { arbitrary: fc.string({ unit: "grapheme", maxLength: max, size: "max" }), weight: long },
      { arbitrary: fc.constantFrom(HOSTILE, "é".repeat(max), "😀".repeat(max), "\u0001".repeat(max), "\ud800x", `${"a".repeat(max - 1)}😀`), weight: long },
    );
  // Ids are never flattened: they carry no whitespace, so each row stays on one line of the body.
  const id = (prefix: string, long: number): fc.Arbitrary<string> => text(300, long).map((value) => `${prefix}${value.replace(/\s/g, "_")}:example.org`);
  const room = (long: number): fc.Arbitrary<WaveRoom> =>
    fc
      .record(
        {
          roomId: id("!", long),
          sameLabel: fc.boolean(),
          label: text(400, long),
          name: text(120, long),
          phase: fc.constantFrom("main" as const, "purge" as const),
          state: fc.constantFrom<WaveRoomState>("queued", "sending", "sent", "done", "failed", "skipped", "cancelled"),
          taskId: id("p-", long),
          attempts: fc.integer({ min: 0, max: 4 }),
          notBefore: fc.integer({ min: FIXED_NOW - 60 * MINUTE, max: FIXED_NOW + 120 * MINUTE }),
          reason: text(300, long),
          media: fc.oneof(fc.constant(undefined), fc.nat({ max: 100_000 }), fc.constant("failed")),
        },
        { requiredKeys: ["roomId", "sameLabel", "label", "phase", "state", "attempts", "media"] },
      )
      .map(({ sameLabel, label, media, ...rest }) => ({
        waveId: "w-4c1e0a",
        ...rest,
        label: sameLabel ? rest.roomId : label,
        ...(media === undefined ? {} : { steps: { media: media === "failed" ? { ok: false as const, reason: "not served", at: FIXED_NOW } : { ok: true as const, count: media, at: FIXED_NOW } } }),
      }));
  const leftOutRoom = (long: number): fc.Arbitrary<LeftOutRoom> => fc.record({ label: text(400, long), roomId: id("!", long), why: text(300, long) }, { requiredKeys: ["label", "why"] });
  const wave = fc
    .constantFrom(0, 1, 4)
    .chain((long) => fc.tuple(fc.array(room(long), { maxLength: 300, size: "max" }), fc.array(leftOutRoom(long), { maxLength: 30, size: "max" })));

  it("breaks pages exactly where measuring every row did, with each entry once and in order, and the same again later", () => {
    fc.assert(
      fc.property(
        wave,
        fc.integer({ min: 0, max: 180 * MINUTE }),
        ([rooms, leftOut], later) => {
          const record = sampleWave({ leftOut });
          const view: WaveView = { wave: record, rooms, now: FIXED_NOW };
          const entries = [...rooms.map((one) => ({ kind: "room" as const, room: one })), ...leftOut.map((one) => ({ kind: "left-out" as const, room: one }))];
          const rows = entries.map((entry) => rowAlone(record, entry, view.now));
          const expected = referencePages(rows.map((row) => lineSize(row.plain, row.html)));

          const shown: string[] = [];
          for (const [index, page] of expected.entries()) {
            const message = renderWaveStatus(view, index + 1, "!");
            expect(messageBytes(message)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
            const body = pageBody(message);
            const first = page[0] ?? 0;
            const end = first + page.length;
            const headings: string[] = [];
            if (first < rooms.length) headings.push(`Rooms (${rooms.length}), ${first + 1}-${Math.min(end, rooms.length)}:`);
            if (end > rooms.length) headings.push(`Left out (${leftOut.length}), ${Math.max(first, rooms.length) - rooms.length + 1}-${end - rooms.length}:`);
            const roomRows = page.filter((entry) => entry < rooms.length).map((entry) => rows[entry]?.plain);
            const leftOutRows = page.filter((entry) => entry >= rooms.length).map((entry) => rows[entry]?.plain);
            expect(body.plain).toEqual([
              `Rooms, page ${index + 1} of ${expected.length}:`,
              ...(roomRows.length === 0 ? [] : [headings[0], ...roomRows]),
              ...(leftOutRows.length === 0 ? [] : [headings.at(-1), ...leftOutRows]),
              index + 1 < expected.length ? `Next page: !status w-4c1e0a --page ${index + 2}` : "That is the last page.",
            ]);
            expect(body.html.filter((line) => line.startsWith("- "))).toEqual(page.map((entry) => rows[entry]?.html));
            shown.push(...body.plain.filter((line) => line.startsWith("- ")));
          }
          expect(shown).toEqual(rows.map((row) => row.plain));

          const past = renderWaveStatus(view, expected.length + 1, "!");
          expect(past.plain.split("\n").at(-1)).toBe(
            expected.length === 0
              ? "Wave w-4c1e0a has no rooms to list."
              : `Wave w-4c1e0a: there is no page ${expected.length + 1}; its rooms take ${expected.length === 1 ? "1 page" : `${expected.length} pages`} (!status w-4c1e0a --page 1 to ${expected.length}).`,
          );

          // Later, with the same room objects (sizes already known, some waits over), as a wave never seen before would show it.
          const then: WaveView = { wave: record, rooms, now: FIXED_NOW + later };
          const fresh = structuredClone(then);
          for (let page = 1; page <= expected.length + 1; page++) expect(renderWaveStatus(then, page, "!")).toEqual(renderWaveStatus(fresh, page, "!"));
        },
      ),
      { numRuns: 40 },
    );
    // Forty waves of up to 330 entries, each row also rendered alone: seconds, more on a busy machine.
  }, 60_000);

  it("builds the rows of the page asked for only, and measures a room again only when it changed", () => {
    const reads: number[] = [];
    // Every row starts with its room's label: reading it is building the row.
    const watched = <T extends { readonly label: string }>(entry: T, index: number): T =>
      Object.defineProperty({ ...entry }, "label", {
        get: () => {
          reads.push(index);
          return entry.label;
        },
        enumerable: true,
      });
    const base = issueView();
    const rooms = base.rooms.map(watched);
    const leftOut = [watched({ label: "#mgmt:example.org", why: "the management room" }, 312)];
    const view: WaveView = { ...base, wave: { ...base.wave, leftOut }, rooms };
    const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, index) => from + index);

    // The first look measures every row once, then builds page 2's.
    expect(renderWaveStatus(view, 2, "!").plain).toContain("Rooms (312), 51-100:");
    expect(reads).toEqual([...range(0, 313), ...range(50, 100)]);

    // Later, another page: the sizes are known, only page 3's rows are built.
    reads.length = 0;
    expect(renderWaveStatus({ ...view, now: view.now + MINUTE }, 3, "!").plain).toContain("Rooms (312), 101-150:");
    expect(reads).toEqual(range(100, 150));

    // A room that moved is a new object: it alone is measured again.
    reads.length = 0;
    const moved = [...rooms];
    moved[200] = watched({ ...base.rooms[200], state: "done" } as WaveRoom, 200);
    expect(renderWaveStatus({ ...view, rooms: moved }, 3, "!").plain).toContain("Rooms (312), 101-150:");
    expect(reads).toEqual([200, ...range(100, 150)]);

    // The last page: the rooms left out come after the wave's rooms.
    reads.length = 0;
    const last = renderWaveStatus({ ...view, rooms: moved }, 7, "!").plain.split("\n");
    expect(last).toContain("Rooms (312), 301-312:");
    expect(last).toContain("Left out (1), 1-1:");
    expect(reads).toEqual(range(300, 313));
  });
});
