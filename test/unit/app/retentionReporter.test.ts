import { describe, expect, it } from "vitest";
import type { AuditEntry } from "../../../src/audit/auditLog.js";
import { ChatMediaStepReporter } from "../../../src/app/retentionReporter.js";
import type { RoomId } from "../../../src/matrix/ids.js";
import type { RetentionMediaRun } from "../../../src/model/retention.js";
import { err, ok } from "../../../src/util/result.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingChat } from "../../fakes/recordingChat.js";

const ROOM = "!mgmt:example.org" as RoomId;
const D = 86_400_000;
const RUN: RetentionMediaRun = {
  at: FIXED_NOW,
  local: { beforeTs: FIXED_NOW - 365 * D, files: ok(3) },
  remote: { beforeTs: FIXED_NOW - 30 * D, files: err("the homeserver failed with HTTP 500") },
  keepProfiles: true,
  sizeOver: 0,
};

function setup() {
  const chat = new RecordingChat();
  const audit: AuditEntry[] = [];
  const logger = new MemoryLogger();
  const reporter = new ChatMediaStepReporter(chat, ROOM, logger.log, { record: (entry) => audit.push(entry) }, "!");
  return { chat, audit, logger, reporter };
}

describe("ChatMediaStepReporter", () => {
  it("posts a scheduled run's media step that no wave tells, as a notice that mentions nobody, and audits it", async () => {
    const { chat, audit, reporter } = setup();

    await reporter.mediaStepEnded({ policy: "media", run: RUN, requester: "@warden:example.org", announce: true, noWave: "it selected no room" });

    expect(chat.sent).toHaveLength(1);
    expect(chat.sent[0]?.roomId).toBe(ROOM);
    expect(chat.sent[0]?.message.mentions).toBeUndefined();
    expect(chat.sent[0]?.options).toEqual({ transactionId: `warden-retention-media-media-${FIXED_NOW}` });
    expect(chat.plainBodies()[0]?.split("\n")).toEqual([
      'Retention policy "media": media step done.',
      expect.stringContaining("Media (server-wide, 2025-01-15 12:00:00 UTC): 3 local files deleted"),
      "No room was purged: it selected no room.",
    ]);
    expect(audit).toEqual([
      {
        at: FIXED_NOW,
        type: "task-finished",
        actor: "@warden:example.org",
        command: "retention media",
        target: "the whole server's media (retention policy media)",
        outcome: "failed in part",
        detail: "3 local files deleted, cached remote files not dropped: the homeserver failed with HTTP 500",
      },
    ]);
  });

  it("only audits a step a wave or a command's reply already tells", async () => {
    const { chat, audit, reporter } = setup();

    await reporter.mediaStepEnded({ policy: "old-history", run: { ...RUN, remote: { beforeTs: 1, files: ok(0) } }, requester: "@alice:example.org", announce: false });

    expect(chat.sent).toEqual([]);
    expect(audit.map((entry) => [entry.actor, entry.outcome])).toEqual([["@alice:example.org", "finished"]]);
  });

  it("logs a report it could not post, and does not throw", async () => {
    const { chat, logger, reporter } = setup();
    chat.failWith = "the homeserver is down";

    await reporter.mediaStepEnded({ policy: "media", run: RUN, requester: "@warden:example.org", announce: true });

    expect(logger.withMessage("could not post a retention run's media report")).toHaveLength(1);
  });
});
