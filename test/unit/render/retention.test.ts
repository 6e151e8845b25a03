import { describe, expect, it } from "vitest";
import { MESSAGE_BUDGET_BYTES, messageBytes } from "../../../src/matrix/chat.js";
import type { RetentionPolicy } from "../../../src/model/retention.js";
import { renderOutcome } from "../../../src/render/replies.js";
import { renderRetention } from "../../../src/render/retention.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { err, ok } from "../../../src/util/result.js";
import { policy as basePolicy, type PolicyOverrides } from "../../fakes/retention.js";
import { expectOnlyOwnMarkup, HOSTILE } from "./markup.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function policy(overrides: PolicyOverrides = {}): RetentionPolicy {
  return basePolicy({ name: "nightly", exclude: { rooms: [], spaces: [], dm: false, members: [] }, ...overrides });
}

describe("!retention", () => {
  it("lists each policy: selection, exclusions, keep, local, schedule, next run and last result", () => {
    const message = renderRetention(
      {
        kind: "retention-list",
        now: FIXED_NOW,
        policies: [
          {
            policy: policy({ at: "03:00", exclude: { rooms: ["#keep:example.org"], spaces: ["#hq:example.org"], dm: true, members: ["@whatsapp_.*", "@signal_.*"] } }),
            paused: false,
            nextRunAt: FIXED_NOW + 15 * HOUR,
            lastRun: { waveId: "w-4c1e0a", startedAt: FIXED_NOW - 9 * HOUR, finishedAt: FIXED_NOW - 8 * HOUR, purged: 300, skipped: 6, failed: 2 },
          },
          {
            policy: policy({ name: "spam", selection: { kind: "matching", words: "spam" }, local: true, keep: "7d", every: "6h", at: "03:00" }),
            paused: true,
            lastRun: { waveId: "w-000001", startedAt: FIXED_NOW - HOUR, purged: 3, skipped: 0, failed: 0 },
          },
        ],
      },
      "!",
    );
    expect(message.plain.split("\n")).toEqual([
      "Retention policies (2, 1 paused):",
      "- nightly",
      "    every room, except #keep:example.org; the rooms of #hq:example.org; direct messages; rooms with a member matching @whatsapp_.* or @signal_.*; keeps 180d of history; local users' messages kept; every 1d at 03:00 UTC; next run 2025-01-16 03:00:00 UTC (in 15 h); last run w-4c1e0a, ended 2025-01-15 04:00:00 UTC: 300 purged, 6 skipped, 2 failed",
      "- spam (paused)",
      '    rooms matching "spam"; keeps 7d of history; local users\' messages deleted too; every 6h at 03:00 UTC; paused: no runs until !retention resume spam; last run w-000001, started 2025-01-15 11:00:00 UTC, still running: 3 purged, 0 skipped, 0 failed so far',
      "Run, dry-run, pause and resume: !help retention",
    ]);
    expectOnlyOwnMarkup(message.html);
  });

  it("says when no policy is configured, and names listed rooms and a space", () => {
    expect(renderRetention({ kind: "retention-list", now: FIXED_NOW, policies: [] }, "!").plain).toBe("No retention policies: the config file names none.");
    const rooms = Array.from({ length: 8 }, (_, index) => `#r${index}:x`);
    const listed = renderRetention(
      {
        kind: "retention-list",
        now: FIXED_NOW,
        policies: [
          { policy: policy({ selection: { kind: "rooms", rooms } }), paused: false },
          { policy: policy({ name: "space", selection: { kind: "space", space: "#s:x" } }), paused: false, nextRunAt: FIXED_NOW - 1 },
        ],
      },
      "!",
    ).plain;
    expect(listed).toContain("8 listed rooms (#r0:x, #r1:x, #r2:x, #r3:x, #r4:x, and 3 more); keeps 180d");
    expect(listed).toContain("no run scheduled; no run yet");
    expect(listed).toContain("space #s:x and its rooms; keeps 180d of history; local users' messages kept; every 1d; next run 2025-01-15 11:59:59 UTC (due now)");
  });

  it("answers a pause and a resume", () => {
    const paused = renderRetention({ kind: "retention-changed", policy: "nightly", paused: true }, "?");
    expect(paused.plain).toBe('Retention policy "nightly" paused: it starts no run until ?retention resume nightly. A run already going goes on.');
    expect(paused.html).toContain("<code>?retention resume nightly</code>");
    expect(renderRetention({ kind: "retention-changed", policy: "nightly", paused: false, nextRunAt: FIXED_NOW + HOUR }, "!").plain).toBe(
      'Retention policy "nightly" resumed: next run 2025-01-15 13:00:00 UTC.',
    );
  });

  it("estimates a dry run per room: about, at least when capped, skipped, unknown; and names the rooms left out", () => {
    const message = renderOutcome(
      {
        kind: "retention-dry-run",
        policy: policy(),
        history: {
          cutoffTs: FIXED_NOW - 180 * DAY,
          estimates: [
            { roomId: "!a:x", label: "#a:x", events: 1200, capped: false },
            { roomId: "!b:x", label: "!b:x", events: 10_000, capped: true },
            { roomId: "!c:x", label: "#c:x", events: 0, capped: false, skip: "nothing before the point" },
            { roomId: "!d:x", label: "#d:x", capped: false },
            { roomId: "!e:x", label: "#e:x", events: 1, capped: false },
          ],
          leftOut: [{ label: "#mgmt:x", roomId: "!mgmt:x", why: "the management room" }],
        },
      },
      "!",
      FIXED_NOW,
    );
    expect(message?.plain.split("\n")).toEqual([
      'Dry run of retention policy "nightly": would purge history before 2024-07-19 12:00:00 UTC (keeps 180d) in 4 rooms; local users\' messages kept.',
      "Events before the point: at least 11201 in 3 rooms; 1 skipped with nothing before the point; 1 unknown; 1 room left out.",
      "Rooms (5):",
      "- #a:x (!a:x): about 1200 events",
      "- !b:x: at least 10000 events",
      "- #c:x (!c:x): nothing before the point, skipped",
      "- #d:x (!d:x): unknown (the count could not be read)",
      "- #e:x (!e:x): about 1 event",
      "Left out (1):",
      "- #mgmt:x (!mgmt:x): the management room",
      "Dry run: nothing was done.",
    ]);
  });

  it("cuts a dry run of 5,000 hostile rooms and 5,000 left out to the budget, counting the rest", () => {
    const estimates = Array.from({ length: 5_000 }, (_, index) => ({ roomId: `!${index}:x`, label: `#${HOSTILE}${index}`, events: index, capped: index % 2 === 0, ...(index % 3 === 0 ? { skip: HOSTILE } : {}) }));
    const leftOut = Array.from({ length: 5_000 }, (_, index) => ({ label: `#${HOSTILE}${index}`, why: HOSTILE }));
    const message = renderRetention({ kind: "retention-dry-run", policy: policy({ name: HOSTILE, keep: HOSTILE }), history: { cutoffTs: FIXED_NOW, estimates, leftOut } }, "!");
    expect(messageBytes(message)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    expect(message.plain).toMatch(/\n\.\.\. and \d+ more rooms\nLeft out \(5000\):\n/);
    expect(message.plain).toMatch(/\n\.\.\. and \d+ more rooms\nDry run: nothing was done\.$/);
    expectOnlyOwnMarkup(message.html);
  });

  describe("with media", () => {
    const MEDIA = { local: { ms: 365 * DAY, text: "365d" }, remote: { ms: 30 * DAY, text: "30d" }, keepProfiles: true, sizeOver: 0 };
    const RUN = {
      at: FIXED_NOW - HOUR,
      local: { beforeTs: FIXED_NOW - HOUR - 365 * DAY, files: ok(12) },
      remote: { beforeTs: FIXED_NOW - HOUR - 30 * DAY, files: err("the homeserver did not answer in time") },
      keepProfiles: true,
      sizeOver: 0,
    };

    it("lists a media-only policy and a policy with both, with the last media step's files", () => {
      const message = renderRetention(
        {
          kind: "retention-list",
          now: FIXED_NOW,
          policies: [
            { policy: policy({ name: "media", history: undefined, media: { ...MEDIA, sizeOver: 1024, keepProfiles: false } }), paused: false, nextRunAt: FIXED_NOW + HOUR, lastMedia: RUN },
            { policy: policy({ name: "both", media: { remote: MEDIA.remote, keepProfiles: true, sizeOver: 0 } }), paused: false },
          ],
        },
        "!",
      );
      expect(message.plain.split("\n").slice(1, 5)).toEqual([
        "- media",
        "    no rooms (media only); media, server-wide: local files unused for 365d, larger than 1024 bytes deleted (profile pictures and room avatars too), cached remote files unused for 30d dropped; every 1d; next run 2025-01-15 13:00:00 UTC (in 1 h); last media step 2025-01-15 11:00:00 UTC: 12 local files deleted, cached remote files not dropped: the homeserver did not answer in time",
        "- both",
        "    every room; keeps 180d of history; local users' messages kept; media, server-wide: cached remote files unused for 30d dropped; every 1d; no run scheduled; no run yet; no media step yet",
      ]);
      expectOnlyOwnMarkup(message.html);
    });

    it("reports a run with no wave: the media step, and why no room was purged", () => {
      const message = renderOutcome({ kind: "retention-media-run", policy: "both", media: { ...RUN, local: { beforeTs: RUN.local.beforeTs, files: ok(1) } }, noWave: "it selected no room (1 left out)" }, "!", FIXED_NOW);
      expect(message?.plain.split("\n")).toEqual([
        'Retention policy "both": media step done.',
        "Media (server-wide, 2025-01-15 11:00:00 UTC): 1 local file deleted (last used before 2024-01-16 11:00:00 UTC; profile pictures and room avatars kept); cached remote files not dropped (last used before 2024-12-16 11:00:00 UTC): the homeserver did not answer in time.",
        "No room was purged: it selected no room (1 left out).",
      ]);
    });

    it("dry-runs media by its rule and says Synapse gives no count in advance", () => {
      const message = renderRetention(
        { kind: "retention-dry-run", policy: policy({ name: "media", history: undefined, media: MEDIA }), media: { local: FIXED_NOW - 365 * DAY, keepProfiles: true, sizeOver: 0 } },
        "!",
      );
      expect(message.plain.split("\n")).toEqual([
        'Dry run of retention policy "media": would delete old media, server-wide; Synapse gives no count in advance.',
        "Media:",
        "Local media: files uploaded to this server, last used before 2024-01-16 12:00:00 UTC; profile pictures and room avatars kept; protected and quarantined files kept",
        "Media: deleted server-wide, whatever rooms the policy selects; used means downloaded, or uploaded if never downloaded. Synapse gives no count in advance: the run's report says how many files went",
        "Dry run: nothing was done.",
      ]);
    });
  });
});
