import { describe, expect, it } from "vitest";
import { detailLines, RECORD_KEY, renderFinished, renderProgress, renderStuck, renderTaskPage, taskRecord } from "../../../src/render/taskMessages.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { expectOnlyOwnMarkup, HOSTILE } from "./markup.js";

const REQUESTER = "@mod:example.org";
const MINUTE = 60_000;

function shutdownTask(outcome: Record<string, string | number | boolean | string[] | null>, parameters: Record<string, string | number | boolean> = {}) {
  return sampleTask({
    id: "s-00abcd",
    kind: "shutdown",
    roomId: "!spam:example.org",
    roomLabel: "#spam:example.org (!spam:example.org)",
    status: "complete",
    createdAt: FIXED_NOW - 5 * MINUTE,
    finishedAt: FIXED_NOW - MINUTE,
    parameters: { knownRoom: true, roomName: "Spam", joinedMembers: 12, joinedLocalMembers: 2, block: true, purge: true, forcePurge: false, ...parameters },
    outcome,
  });
}

describe("renderProgress", () => {
  it("shows the plan of a purge without notifying anyone", () => {
    const task = sampleTask({
      status: "active",
      parameters: { roomName: "Spam", cutoff: "2024-05-01 00:00:00 UTC", deleteLocalEvents: true, reason: "spam wave" },
    });
    const message = renderProgress(task, FIXED_NOW);
    expect(message.plain.split("\n")).toEqual([
      "Purge p-0a1b2c accepted for @mod:example.org: running (1 min)",
      'Room: "Spam" !target:example.org',
      "Removes history before: 2024-05-01 00:00:00 UTC",
      "Local users' messages: deleted too (--local)",
      "Reason: spam wave",
    ]);
    expect(message.mentions).toBeUndefined();
    expect(message.record).toEqual(taskRecord(task));
    expectOnlyOwnMarkup(message.html);
  });

  it("escapes a hostile room name and reason in HTML", () => {
    const task = sampleTask({ parameters: { roomName: HOSTILE, cutoff: "x", deleteLocalEvents: false, reason: HOSTILE }, roomLabel: `#${HOSTILE}:example.org` });
    const message = renderProgress(task, FIXED_NOW);
    expect(message.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(message.html).toContain("**bold** [click](https://evil.example) @room");
    expectOnlyOwnMarkup(message.html);
    expect(message.mentions).toBeUndefined();
  });

  it("shows the plan of a shutdown, including the new room's creator", () => {
    const task = shutdownTask({}, { notifyAs: "@abuse:example.org", forcePurge: true });
    const lines = renderProgress({ ...task, status: "scheduled" }, FIXED_NOW).plain.split("\n");
    expect(lines).toContain("Members: 12 joined, 2 of them local");
    expect(lines).toContain("Block afterwards: yes");
    expect(lines).toContain("Delete from database: yes, forced");
    expect(lines).toContain("New room for members, created by: @abuse:example.org");
  });

  it("says an unknown room can only be blocked", () => {
    const task = shutdownTask({}, { knownRoom: false, purge: false });
    const lines = renderProgress({ ...task, status: "scheduled" }, FIXED_NOW).plain.split("\n");
    expect(lines).toContain("Note: this homeserver does not know the room: it can only be blocked");
    expect(lines).toContain("Delete from database: no (--no-purge)");
  });
});

describe("renderFinished", () => {
  it("mentions the requester, in m.mentions and as a pill, and nobody else", () => {
    const task = sampleTask({
      status: "complete",
      finishedAt: FIXED_NOW,
      createdAt: FIXED_NOW - 125_000,
      parameters: { roomName: `${HOSTILE} @victim:example.org` },
      roomLabel: `#${HOSTILE}:example.org`,
    });
    const message = renderFinished(task, FIXED_NOW);
    expect(message.mentions).toEqual([REQUESTER]);
    expect(message.plain.split("\n")[0]).toBe(`${REQUESTER}: Purge p-0a1b2c of #${HOSTILE}:example.org done in 2 min 5 s.`);
    expect(message.html.startsWith('<a href="https://matrix.to/#/%40mod%3Aexample.org">@mod:example.org</a>: ')).toBe(true);
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
    expect(message.record).toEqual(taskRecord(task));
  });

  it("gives the reason of a failed job", () => {
    const task = sampleTask({ status: "failed", finishedAt: FIXED_NOW, reason: "the homeserver refused the request: <b>bad</b>" });
    const message = renderFinished(task, FIXED_NOW);
    expect(message.plain.split("\n")).toEqual([
      `${REQUESTER}: Purge p-0a1b2c of !target:example.org failed after 1 min.`,
      "Reason: the homeserver refused the request: <b>bad</b>",
    ]);
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
    expect(message.mentions).toEqual([REQUESTER]);
  });

  it("says when the homeserver gave no reason or the status is unknown", () => {
    expect(renderFinished(sampleTask({ status: "failed", finishedAt: FIXED_NOW }), FIXED_NOW).plain).toContain(
      "Reason: the homeserver gave no reason",
    );
    expect(renderFinished(sampleTask({ status: "unknown", finishedAt: FIXED_NOW }), FIXED_NOW).plain).toContain("ended: status unknown");
  });

  it("lists kicked users, users it could not kick with the --force-purge hint, moved aliases, the new room and the block", () => {
    const task = shutdownTask({
      kickedUsers: ["@a:example.org", "@b:example.org"],
      failedToKickUsers: ["@stuck:example.org"],
      localAliases: ["#spam:example.org"],
      newRoomId: "!new:example.org",
      blocked: true,
    });
    const message = renderFinished(task, FIXED_NOW);
    expect(message.plain.split("\n")).toEqual([
      `${REQUESTER}: Shutdown s-00abcd of #spam:example.org (!spam:example.org) done in 4 min.`,
      "Kicked (2): @a:example.org, @b:example.org",
      "Could not kick (1): @stuck:example.org",
      "Hint: run the shutdown again with --force-purge to delete the room anyway",
      "Aliases moved (1): #spam:example.org",
      "New room: !new:example.org",
      "Blocked now: yes",
    ]);
    expect(message.mentions).toEqual([REQUESTER]);
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
  });

  it("ends a shutdown of a room with 1,100 local members with the first users kicked, a count of the rest and where to read them all", () => {
    const kicked = Array.from({ length: 1_100 }, (_, index) => `@member${index}:example.org`);
    const message = renderFinished(shutdownTask({ kickedUsers: kicked, failedToKickUsers: [], localAliases: [], newRoomId: null, blocked: true }), FIXED_NOW);
    const lines = message.plain.split("\n");
    expect(lines).toContain(`Kicked (1100): ${kicked.slice(0, 20).join(", ")}, and 1080 more`);
    expect(lines.at(-1)).toBe("Every entry, page by page: !status s-00abcd --page 1");
    expect(message.short?.plain.split("\n")).toEqual([lines[0], "Kicked: 1100", "Every entry, page by page: !status s-00abcd --page 1"]);
    expect(message.short?.mentions).toEqual([REQUESTER]);
  });

  it("shows page 2 of a shutdown's lists: which page of how many, the entries under their list, the next page's command", () => {
    const kicked = Array.from({ length: 250 }, (_, index) => `@member${index}:example.org`);
    const task = shutdownTask({ kickedUsers: kicked, failedToKickUsers: ["@stuck:example.org"], localAliases: [] });
    const page = renderTaskPage(task, 2, "?").plain.split("\n");
    expect(page[0]).toBe("Shutdown s-00abcd of #spam:example.org (!spam:example.org): lists, page 2 of 3");
    expect(page[1]).toBe("Kicked (250), 101-200:");
    expect(page[2]).toBe("- @member100:example.org");
    expect(page.at(-1)).toBe("Next page: ?status s-00abcd --page 3");
    const last = renderTaskPage(task, 3, "?").plain.split("\n");
    expect(last.slice(1, 2)).toEqual(["Kicked (250), 201-250:"]);
    expect(last.slice(-3)).toEqual(["Could not kick (1), 1-1:", "- @stuck:example.org", "That is the last page."]);
  });

  it("leaves out the hint when everyone was kicked, and says so when there is no new room", () => {
    const message = renderFinished(shutdownTask({ kickedUsers: [], failedToKickUsers: [], localAliases: [], newRoomId: null, blocked: false }), FIXED_NOW);
    const lines = message.plain.split("\n");
    expect(lines).toContain("Kicked: nobody");
    expect(lines).toContain("Aliases moved: none");
    expect(lines).toContain("New room: none");
    expect(lines).toContain("Blocked now: no");
    expect(message.plain).not.toContain("--force-purge");
    expect(message.plain).not.toContain("Could not kick");
  });

  it("escapes hostile user IDs and room IDs reported by the homeserver", () => {
    const message = renderFinished(
      shutdownTask({ kickedUsers: [`@${HOSTILE}:example.org`], failedToKickUsers: [HOSTILE], newRoomId: HOSTILE }),
      FIXED_NOW,
    );
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
    expect(message.mentions).toEqual([REQUESTER]);
  });

  it("reports an unknown room as blocked only, or as nothing done", () => {
    const blocked = renderFinished(shutdownTask({ blocked: true }, { knownRoom: false }), FIXED_NOW);
    const notBlocked = renderFinished(shutdownTask({ blocked: false }, { knownRoom: false }), FIXED_NOW);
    expect(blocked.plain.split("\n").slice(1)).toEqual(["Result: unknown room (blocked only)"]);
    expect(notBlocked.plain.split("\n").slice(1)).toEqual(["Result: unknown room: nothing was done"]);
  });
});

describe("detailLines and renderStuck", () => {
  it("shows a finished shutdown in full, with its times and homeserver job id", () => {
    const task = { ...shutdownTask({ kickedUsers: ["@a:example.org"], blocked: true }), homeserverTaskId: "del<1>" };
    const message = detailLines(task, FIXED_NOW);
    const lines = message.plain.split("\n");
    expect(lines[0]).toBe("s-00abcd shutdown #spam:example.org (!spam:example.org) by @mod:example.org: done, 5 min ago");
    expect(lines).toContain("Requested at: 2025-01-15 11:55:00 UTC");
    expect(lines).toContain("Finished at: 2025-01-15 11:59:00 UTC");
    expect(lines).toContain("Homeserver job id: del<1>");
    expect(lines).toContain("Kicked (1): @a:example.org");
    expect(message.html).toContain("<code>del&lt;1&gt;</code>");
    expect(message.mentions).toBeUndefined();
    expectOnlyOwnMarkup(message.html);
  });

  it("warns about a job stuck in one status, without pinging", () => {
    const task = sampleTask({ status: "active", statusChangedAt: FIXED_NOW - 3 * 3_600_000 });
    const message = renderStuck(task, FIXED_NOW);
    expect(message.plain).toBe(
      "Warning: purge p-0a1b2c of !target:example.org has been running for 3 h. Warden keeps watching; check the homeserver's logs.",
    );
    expect(message.mentions).toBeUndefined();
  });

  it("keeps a machine-readable record under the namespaced key", () => {
    const task = shutdownTask({ blocked: true });
    expect(RECORD_KEY).toBe("org.warden.record");
    expect(taskRecord(task)).toEqual({
      id: "s-00abcd",
      kind: "shutdown",
      room_id: "!spam:example.org",
      requester: REQUESTER,
      status: "complete",
      parameters: task.parameters,
      homeserver_task_id: null,
      created_at: FIXED_NOW - 5 * MINUTE,
      finished_at: FIXED_NOW - MINUTE,
      outcome: { blocked: true },
      counts: {},
    });
  });

  it("keeps the first entries of each long list in the record, and every list's full count", () => {
    const kicked = Array.from({ length: 1_100 }, (_, index) => `@user${index}:example.org`);
    const record = taskRecord(shutdownTask({ kickedUsers: kicked, failedToKickUsers: [], blocked: true }));
    expect(record["outcome"]).toEqual({ kickedUsers: kicked.slice(0, 20), failedToKickUsers: [], blocked: true });
    expect(record["counts"]).toEqual({ kickedUsers: 1_100, failedToKickUsers: 0 });
  });
});

describe("redact messages", () => {
  const USER = "@spammer:example.org";

  function redactTask(overrides: Partial<TaskRecord> = {}, parameters: TaskRecord["parameters"] = { rooms: [], joinedRooms: 3, bannedRooms: 1 }): TaskRecord {
    return sampleTask({
      id: "r-00abcd",
      kind: "redact",
      roomId: USER,
      roomLabel: USER,
      status: "active",
      createdAt: FIXED_NOW - 2 * MINUTE,
      parameters,
      ...overrides,
    });
  }

  it("plans Synapse's default rooms, saying rooms the user left are not covered, with Synapse's default limit", () => {
    const message = renderProgress(redactTask(), FIXED_NOW);
    expect(message.plain.split("\n")).toEqual([
      "Redact r-00abcd accepted for @mod:example.org: running (2 min)",
      `User: ${USER}`,
      "Rooms: the rooms the user is joined to or banned from (not rooms they left): 3 joined and 1 banned from when sent",
      "Limit: at most 1000 of the user's events per room (Synapse's default)",
    ]);
    expect(message.mentions).toBeUndefined();
    expectOnlyOwnMarkup(message.html);
  });

  it("plans the rooms named, the limit and the reason, listing 20 rooms and counting the rest", () => {
    const labels = Array.from({ length: 22 }, (_, index) => `!r${index}:example.org`);
    const message = renderProgress(redactTask({}, { rooms: labels, roomLabels: labels, limit: 50, reason: "spam wave" }), FIXED_NOW);
    expect(message.plain.split("\n").slice(1)).toEqual([
      `User: ${USER}`,
      `Rooms (22): ${labels.slice(0, 20).join(", ")}, and 2 more`,
      "Limit: at most 50 of the user's events per room",
      "Reason: spam wave",
    ]);
  });

  it("ends with the rooms processed and no failed redaction", () => {
    const message = renderFinished(redactTask({ status: "complete", finishedAt: FIXED_NOW, outcome: { failedRedactions: [] } }), FIXED_NOW);
    expect(message.plain.split("\n")).toEqual([
      `${REQUESTER}: Redact r-00abcd of ${USER} done in 2 min.`,
      "Rooms processed: 4, the 3 joined and 1 banned from when the job was sent (Warden's count: Synapse's status gives no count of rooms, only the redactions that failed)",
      "Failed redactions: none",
    ]);
    expect(message.mentions).toEqual([REQUESTER]);
    expectOnlyOwnMarkup(message.html, [REQUESTER]);
  });

  it("counts the rooms named, and lists each failed redaction, 20 at most, with a count of the rest", () => {
    const failed = Array.from({ length: 23 }, (_, index) => `$event${index}:example.org: Not allowed to redact`);
    const task = redactTask(
      { status: "complete", finishedAt: FIXED_NOW, outcome: { failedRedactions: failed } },
      { rooms: ["!a:example.org", "!b:example.org"], roomLabels: ["#a:example.org (!a:example.org)", "!b:example.org"] },
    );
    const lines = renderFinished(task, FIXED_NOW).plain.split("\n");
    expect(lines[1]).toBe("Rooms processed: 2, the rooms named (Synapse's status gives no count of rooms, only the redactions that failed)");
    expect(lines[2]).toBe("Failed redactions (23):");
    expect(lines.slice(3, 23)).toEqual(failed.slice(0, 20).map((entry) => `- ${entry}`));
    expect(lines.slice(23)).toEqual(["... and 3 more", "Every entry, page by page: !status r-00abcd --page 1"]);
  });

  it("escapes hostile event IDs, reasons and room labels in HTML", () => {
    const task = redactTask(
      { status: "complete", finishedAt: FIXED_NOW, outcome: { failedRedactions: [`$${HOSTILE}: ${HOSTILE}`] } },
      { rooms: ["!a:example.org"], roomLabels: [`#${HOSTILE}:example.org`], reason: HOSTILE },
    );
    const finished = renderFinished(task, FIXED_NOW);
    const progress = renderProgress(task, FIXED_NOW);
    for (const message of [finished, progress]) expect(message.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(finished.html).toContain("<code>$&lt;script&gt;");
    expectOnlyOwnMarkup(finished.html, [REQUESTER]);
    expectOnlyOwnMarkup(progress.html);
    expect(finished.mentions).toEqual([REQUESTER]);
  });

  it("a failed redaction gives Synapse's error and says the rooms processed are unknown", () => {
    const message = renderFinished(
      redactTask({ status: "failed", finishedAt: FIXED_NOW, reason: "a redaction of this user is already running on the homeserver" }),
      FIXED_NOW,
    );
    expect(message.plain.split("\n")).toEqual([
      `${REQUESTER}: Redact r-00abcd of ${USER} failed after 2 min.`,
      "Reason: a redaction of this user is already running on the homeserver",
      "Rooms processed: unknown (Synapse's status gives no count of rooms, only the redactions that failed)",
    ]);
  });

  it("shows a finished redaction in full in !status", () => {
    const task = redactTask({ status: "complete", finishedAt: FIXED_NOW, homeserverTaskId: "abc", outcome: { failedRedactions: ["$e:example.org: gone"] } });
    const lines = detailLines(task, FIXED_NOW).plain.split("\n");
    expect(lines[0]).toBe(`r-00abcd redact ${USER} by @mod:example.org: done, 2 min ago`);
    expect(lines).toContain("Homeserver job id: abc");
    expect(lines).toContain("Failed redactions (1):");
    expect(lines).toContain("- $e:example.org: gone");
  });
});
