import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { TakedownRecord } from "../../../src/model/takedowns.js";
import { MAX_USERS } from "../../../src/commands/users/targets.js";
import { renderTakedownBoard, renderTakedownFinished } from "../../../src/render/users/takedown.js";
import type { AuditEntry } from "../../../src/audit/auditLog.js";
import { cutToBytes, fitMessage, jsonBytes, MESSAGE_BUDGET_BYTES, messageBytes, type OutgoingMessage } from "../../../src/matrix/chat.js";
import type { UserId } from "../../../src/matrix/ids.js";
import type { CommandSpec } from "../../../src/model/commandSpec.js";
import type { CommandOutcome } from "../../../src/model/outcomes.js";
import type { Digest, StoredEventReport, StoredReport, StoredUserReport } from "../../../src/model/reports.js";
import { mediaRunParameters, type RetentionMediaRun, type RetentionPolicy } from "../../../src/model/retention.js";
import type { MediaFile, MediaPage } from "../../../src/model/media.js";
import type { LeftOutRoom, WaveRecord, WaveRoom, WaveView } from "../../../src/model/waves.js";
import type { LocalUserLook, ReportMention, RoomEntry } from "../../../src/model/users.js";
import { renderUserAddresses } from "../../../src/render/users/user.js";
import { firstEntries, inlineList, lineBytes, lineBytesOnce, listLines, pages, pageStarts, textLine, type Line } from "../../../src/render/budget.js";
import { renderPreview } from "../../../src/render/previews.js";
import { deletionPreview } from "../../../src/render/media/media.js";
import { restrictionPreview } from "../../../src/render/users/restrict.js";
import { renderReady } from "../../../src/render/ready.js";
import { renderDigest, renderReportCard, renderReportOutcome } from "../../../src/render/reports.js";
import { renderOutcome, renderRoomExposed } from "../../../src/render/replies.js";
import { renderWaveBoard, renderWaveFinished, renderWaveStatus, wavePreview } from "../../../src/render/waves.js";
import { detailLines, renderFinished, renderProgress, renderStuck, renderTaskPage, taskLists } from "../../../src/render/taskMessages.js";
import type { TaskKind, TaskRecord } from "../../../src/tasks/types.js";
import { commandFakes } from "../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { sampleTask } from "../../fakes/sampleTask.js";
import { err } from "../../../src/util/result.js";

const MANY = 5_000;
/** Escaping makes these six times longer in HTML; a room name or reason may be all of them. */
const HOSTILE = `"<>&'`.repeat(100);

function many<T>(make: (index: number) => T): T[] {
  return Array.from({ length: MANY }, (_, index) => make(index));
}

const users = many((index) => `@user-with-a-rather-long-localpart-${index}:a-homeserver.example.org`);
const failedRedactions = many((index) => `$event${index}:example.org: ${HOSTILE}`);
const aliases = many((index) => `#${HOSTILE}${index}:example.org`);

function hugeTask(kind: TaskKind, status: TaskRecord["status"]): TaskRecord {
  return sampleTask({
    id: `${kind[0] ?? "p"}-00abcd`,
    kind,
    status,
    roomLabel: `#${HOSTILE}:example.org`,
    finishedAt: FIXED_NOW,
    reason: HOSTILE.repeat(200),
    homeserverTaskId: HOSTILE,
    parameters: {
      roomName: HOSTILE,
      reason: HOSTILE,
      cutoff: "2024-05-01 00:00:00 UTC",
      rooms: aliases,
      roomLabels: aliases,
      notifyAs: HOSTILE,
      joinedMembers: MANY,
      joinedLocalMembers: MANY,
    },
    outcome: { kickedUsers: users, failedToKickUsers: users, localAliases: aliases, failedRedactions, newRoomId: HOSTILE, blocked: true },
  });
}

function expectFits(message: OutgoingMessage | undefined, what: string): void {
  expect(message, what).toBeDefined();
  if (message === undefined) return;
  expect(messageBytes(message), what).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
  if (message.short !== undefined) expect(messageBytes(message.short), `${what} (short)`).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES / 4);
}

function firstCommand(): CommandSpec {
  const [command] = commandFakes().table;
  if (command === undefined) throw new Error("the command table is empty");
  return command;
}

const auditEntries: AuditEntry[] = many((index) => ({
  at: FIXED_NOW - index,
  type: "task-finished",
  actor: `@moderator${index}:example.org`,
  command: "shutdown",
  taskId: "s-00abcd",
  target: HOSTILE,
  outcome: "complete",
  detail: HOSTILE,
}));

const leftOut: LeftOutRoom[] = many((index) => ({ label: `#${HOSTILE}${index}`, roomId: `!${HOSTILE}${index}`, why: HOSTILE }));

function hugeWave(overrides: Partial<WaveRecord> = {}): WaveRecord {
  return {
    id: "w-00abcd",
    kind: "shutdown",
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    selection: { listed: aliases, matching: HOSTILE, space: HOSTILE, empty: true, all: true },
    // A retention run's media step, both calls failed with a homeserver's megabyte of text.
    parameters: { cutoff: HOSTILE, reason: HOSTILE, block: true, purge: false, purgeAfterMs: 86_400_000, notifyAs: HOSTILE, rooms: aliases, ...mediaRunParameters(hugeMediaRun) },
    policy: HOSTILE,
    leftOut,
    status: "running",
    createdAt: FIXED_NOW - 3_600_000,
    cancelledBy: HOSTILE,
    finalNotificationSent: false,
    ...overrides,
  };
}

const WAVE_STATES: readonly WaveRoom["state"][] = ["queued", "sending", "sent", "done", "failed", "skipped", "cancelled"];

/** Every room in both phases, in every state, with the longest name, label, task and reason. */
function hugeWaveView(overrides: Partial<WaveRecord> = {}, count = MANY): WaveView {
  const rooms = Array.from(
    { length: count },
    (_, index): WaveRoom => ({
      waveId: "w-00abcd",
      roomId: `!${HOSTILE}${index}`,
      phase: index % 2 === 0 ? "main" : "purge",
      label: `#${HOSTILE}${index}`,
      name: HOSTILE,
      state: WAVE_STATES[index % WAVE_STATES.length] ?? "failed",
      taskId: HOSTILE,
      attempts: index,
      notBefore: FIXED_NOW + index * 60_000,
      reason: HOSTILE.repeat(20),
      durationMs: index * 1000,
    }),
  );
  return { wave: hugeWave({ leftOut: leftOut.slice(0, count), ...overrides }), rooms, remainingMs: 3_600_000, now: FIXED_NOW };
}

const hugePolicy: RetentionPolicy = {
  name: HOSTILE,
  history: {
    selection: { kind: "rooms", rooms: aliases },
    keepMs: 86_400_000,
    keep: HOSTILE,
    local: true,
    exclude: { rooms: aliases, spaces: aliases, dm: true, members: aliases },
  },
  media: { local: { ms: 1000, text: HOSTILE }, remote: { ms: 1000, text: HOSTILE }, keepProfiles: false, sizeOver: Number.MAX_SAFE_INTEGER },
  everyMs: 86_400_000,
  every: HOSTILE,
  at: HOSTILE,
};

/** A media step whose both calls failed with a homeserver's megabyte of text. */
const hugeMediaRun: RetentionMediaRun = {
  at: FIXED_NOW,
  local: { beforeTs: FIXED_NOW, files: err(HOSTILE.repeat(2000)) },
  remote: { beforeTs: FIXED_NOW, files: err(HOSTILE.repeat(2000)) },
  keepProfiles: false,
  sizeOver: Number.MAX_SAFE_INTEGER,
};

/** One huge outcome of every kind: a new kind will not compile until it is added here. */
const OUTCOMES: { readonly [K in CommandOutcome["kind"]]: () => Extract<CommandOutcome, { kind: K }> } = {
  "task-started": () => ({ kind: "task-started", task: hugeTask("shutdown", "scheduled") }),
  "task-joined": () => ({ kind: "task-joined", task: hugeTask("shutdown", "active") }),
  refused: () => ({ kind: "refused", reason: HOSTILE.repeat(200), hint: HOSTILE.repeat(200) }),
  "status-list": () => ({
    kind: "status-list",
    inFlight: many(() => hugeTask("purge", "active")),
    recent: many(() => hugeTask("redact", "complete")),
    takedowns: Array.from({ length: 60 }, hugeTakedown),
  }),
  "status-one": () => ({ kind: "status-one", task: hugeTask("shutdown", "complete") }),
  "help-all": () => ({ kind: "help-all", commands: commandFakes().table }),
  "help-one": () => ({ kind: "help-one", command: firstCommand() }),
  "room-info": () => ({
    kind: "room-info",
    roomId: "!a:example.org" as never,
    label: HOSTILE,
    room: { name: HOSTILE, topic: HOSTILE.repeat(200), canonicalAlias: HOSTILE, creator: HOSTILE, joinedMembers: MANY, joinedLocalMembers: MANY, roomType: HOSTILE },
    block: { read: false, problem: HOSTILE.repeat(200) },
  }),
  "room-list": () => ({
    kind: "room-list",
    rooms: many((index) => ({ roomId: `!room${index}:example.org`, name: HOSTILE, canonicalAlias: HOSTILE, joinedMembers: index })),
    total: MANY,
    offset: 0,
    searchTerm: HOSTILE,
    nextPageCommand: `!rooms --from ${MANY}`,
  }),
  "room-members": () => ({ kind: "room-members", roomId: "!a:example.org" as never, label: HOSTILE, roomName: HOSTILE, members: aliases }),
  "homeserver-tasks": () => ({
    kind: "homeserver-tasks",
    tasks: many((index) => ({ id: `task${index}`, action: HOSTILE, status: "failed", timestampMs: FIXED_NOW, resourceId: HOSTILE, error: HOSTILE, wardenTaskId: "s-00abcd" })),
  }),
  "room-block": () => ({ kind: "room-block", action: "block", roomId: "!a:example.org" as never, label: HOSTILE, roomName: HOSTILE, knownRoom: true, changed: false, blockedBy: HOSTILE }),
  "room-admin-granted": () => ({ kind: "room-admin-granted", roomId: "!a:example.org" as never, label: HOSTILE, roomName: HOSTILE, user: HOSTILE as UserId }),
  audit: () => ({ kind: "audit", since: FIXED_NOW - 1000, user: HOSTILE, entries: auditEntries }),
  extremities: () => ({
    kind: "extremities",
    roomId: "!a:example.org" as never,
    label: HOSTILE,
    count: MANY,
    newest: many((index) => ({ eventId: `$${HOSTILE}${index}`, depth: index, receivedTs: FIXED_NOW })),
  }),
  "extremities-deleted": () => ({ kind: "extremities-deleted", roomId: "!a:example.org" as never, label: HOSTILE, before: MANY, deleted: MANY - 1 }),
  "report-list": () => ({
    kind: "report-list",
    reports: many((index) => hugeReport(index)),
    total: MANY,
    from: 0,
    filter: { includeResolved: true, roomId: HOSTILE, user: HOSTILE },
    nextPageCommand: `!reports --from ${MANY}`,
  }),
  "report-one": () => ({
    kind: "report-one",
    card: {
      kind: "event",
      report: hugeReport(1),
      earlierAboutSender: MANY,
      context: {
        kind: "shown",
        lines: many((index) => ({ sender: HOSTILE, at: FIXED_NOW, text: HOSTILE.repeat(20), placeholder: false, reported: index === 0 })),
      },
    },
  }),
  "report-changed": () => ({ kind: "report-changed", report: hugeReport(2), change: "dismissed", deletion: { ok: false, problem: HOSTILE.repeat(200) } }),
  "wave-started": () => ({ kind: "wave-started", wave: hugeWave() }),
  "wave-status": () => ({ kind: "wave-status", view: hugeWaveView() }),
  "wave-cancelled": () => ({ kind: "wave-cancelled", view: hugeWaveView({ status: "cancelled" }), notSent: MANY }),
  "retention-list": () => ({
    kind: "retention-list",
    now: FIXED_NOW,
    policies: many((index) => ({
      policy: hugePolicy,
      paused: index % 2 === 0,
      nextRunAt: FIXED_NOW + index,
      lastRun: { waveId: HOSTILE, startedAt: FIXED_NOW, purged: MANY, skipped: MANY, failed: MANY },
      lastMedia: hugeMediaRun,
    })),
  }),
  "retention-changed": () => ({ kind: "retention-changed", policy: HOSTILE.repeat(200), paused: true, nextRunAt: FIXED_NOW }),
  "media-action": () => ({
    kind: "media-action",
    action: "quarantine",
    entries: many((index) => ({
      kind: (["room", "user", "file"] as const)[index % 3] ?? "file",
      label: `mxc://${HOSTILE}/${index}`,
      result: [
        { status: "done", count: index } as const,
        { status: "unchanged", unchanged: { why: "already-quarantined", by: HOSTILE } } as const,
        { status: "failed", reason: `${HOSTILE.repeat(20)}${index}` } as const,
        { status: "not-tried" } as const,
      ][index % 4] ?? { status: "not-tried" },
    })),
    stopped: HOSTILE.repeat(20),
    serverError: true,
  }),
  "retention-dry-run": () => ({
    kind: "retention-dry-run",
    policy: hugePolicy,
    history: {
      cutoffTs: FIXED_NOW,
      estimates: many((index) => ({ roomId: `!${HOSTILE}${index}`, label: `#${HOSTILE}${index}`, events: index, capped: true, skip: HOSTILE })),
      leftOut,
    },
    media: { local: FIXED_NOW, remote: FIXED_NOW, keepProfiles: false, sizeOver: Number.MAX_SAFE_INTEGER },
  }),
  "media-room": () => ({ kind: "media-room", label: HOSTILE, local: MANY, remote: MANY, size: { read: false, why: HOSTILE.repeat(200) }, listing: hugeMediaPage() }),
  "media-user": () => ({ kind: "media-user", userId: HOSTILE, uploads: MANY, size: { read: true, bytes: 2 ** 50, unknown: MANY, boundedAt: 500 }, listing: hugeMediaPage() }),
  "media-file": () => ({ kind: "media-file", file: hugeMediaFile(0), local: false }),
  "media-deleted": () => ({
    kind: "media-deleted",
    deleted: many((index) => ({ uri: hugeMediaFile(index).uri, bytes: index })),
    bytes: 2 ** 40,
    protectedFiles: many((index) => ({ uri: hugeMediaFile(index).uri, why: HOSTILE })),
    gone: many((index) => ({ uri: hugeMediaFile(index).uri, why: `${HOSTILE}${index}` })),
    failed: many((index) => ({ uri: hugeMediaFile(index).uri, why: `${HOSTILE.repeat(20)}${index % 50}` })),
    users: many((index) => ({ userId: `${HOSTILE}${index}`, uploads: MANY, looked: index % 2 })),
  }),
  "retention-media-run": () => ({ kind: "retention-media-run", policy: HOSTILE.repeat(200), media: hugeMediaRun, noWave: HOSTILE.repeat(200) }),
  "takedown-started": () => ({ kind: "takedown-started", record: hugeTakedown() }),
  "takedown-status": () => ({ kind: "takedown-status", record: hugeTakedown() }),
  "account-action": () => ({
    kind: "account-action",
    command: HOSTILE,
    change: { kind: "restriction", restriction: "suspend", on: true },
    entries: many((index) => ({
      userId: `@${HOSTILE}${index}:example.org`,
      result: [
        { status: "done" } as const,
        { status: "unchanged", unchanged: { why: "left-out", reason: HOSTILE } } as const,
        { status: "failed", reason: `${HOSTILE.repeat(20)}${index}` } as const,
        { status: "not-tried" } as const,
      ][index % 4] ?? { status: "not-tried" },
    })),
    undo: HOSTILE,
    stopped: HOSTILE.repeat(20),
  }),
  "user-look": () => ({ kind: "user-look", look: hugeUserLook() }),
  "user-unknown": () => ({ kind: "user-unknown", userId: `@${HOSTILE.repeat(200)}:example.org` as UserId }),
};

/** A takedown of the most users one command takes, every step with a homeserver's long reason. */
function hugeTakedown(): TakedownRecord {
  const steps = (["restrict", "media", "redact", "rooms", "deactivate"] as const).map((name) => ({ name, state: "failed" as const, detail: HOSTILE.repeat(50) }));
  return {
    id: "t-0a1b2c",
    requester: HOSTILE,
    managementRoomId: "!mgmt:example.org",
    commandEventId: "$command",
    options: { deactivate: true, erase: true, rooms: true, quarantineMedia: true, reason: HOSTILE.repeat(200) },
    users: Array.from({ length: MAX_USERS }, (_, index) => ({ userId: `@${HOSTILE}${index}:example.org`, local: index % 2 === 0, rooms: many(() => HOSTILE), ownRooms: many(() => HOSTILE), steps })),
    leftOut: many((index) => ({ userId: `@${HOSTILE}${index}:example.org`, why: HOSTILE })),
    status: "finished",
    createdAt: FIXED_NOW,
    finishedAt: FIXED_NOW,
    finalNotificationSent: false,
  };
}

describe("every takedown message fits the budget", () => {
  it("the board and the final message", () => {
    expectFits(renderTakedownBoard(hugeTakedown(), "!", FIXED_NOW), "takedown board");
    expectFits(renderTakedownFinished(hugeTakedown(), "!", FIXED_NOW), "takedown final");
  });
});


const hugeRoom = (index: number): RoomEntry => ({ roomId: `!${HOSTILE}${index}`, name: HOSTILE, canonicalAlias: HOSTILE, joinedMembers: MANY, joinedLocalMembers: MANY, ...(index % 2 === 0 ? { unread: HOSTILE.repeat(20) } : {}) });
const hugeMentions = (): ReportMention[] => many((index) => ({ id: index, receivedTs: FIXED_NOW, roomId: HOSTILE, reporter: HOSTILE, reason: HOSTILE.repeat(20), state: "open" }));

/** A local user in thousands of rooms, with thousands of devices and reports, every text hostile and at its longest. */
function hugeUserLook(): LocalUserLook {
  const userId = `@${HOSTILE}:example.org` as UserId;
  const roomIds = many((index) => `!${HOSTILE}${index}`);
  return {
    kind: "local",
    userId,
    account: { state: "read", value: { displayName: HOSTILE.repeat(20), admin: true, deactivated: true, erased: true, suspended: true, locked: true, shadowBanned: true, createdAt: FIXED_NOW, lastSeenAt: FIXED_NOW, userType: HOSTILE, guest: true, appserviceId: HOSTILE } },
    protectedReason: HOSTILE.repeat(20),
    devices: { state: "read", value: many((index) => ({ deviceId: `${HOSTILE}${index}`, displayName: HOSTILE, lastSeenAt: FIXED_NOW, dehydrated: true })) },
    rooms: {
      joined: { state: "read", value: { total: MANY, shown: many(hugeRoom), withLocalMembers: MANY, checked: MANY } },
      memberships: { state: "read", value: { rooms: { join: roomIds, leave: roomIds, ban: roomIds, invite: roomIds, knock: roomIds, [HOSTILE]: roomIds }, total: MANY * 6 } },
      created: { state: "read", value: { rooms: many(hugeRoom), among: "joined rooms", candidates: MANY, checked: 100, unreadable: MANY } },
    },
    activity: { since: FIXED_NOW - 86_400_000, invitesSent: { state: "failed", why: HOSTILE.repeat(200) }, roomsJoined: { state: "needs", text: HOSTILE.repeat(200) } },
    media: { state: "read", value: { files: MANY, size: { read: false, why: HOSTILE.repeat(200) } } },
    reports: {
      warden: { state: "read", value: { aboutThem: MANY, openAboutThem: MANY, byThem: MANY, newest: hugeMentions(), boundedAt: 1000 } },
      events: { state: "read", value: { total: MANY, newest: hugeMentions() } },
      user: { state: "failed", why: HOSTILE.repeat(200) },
    },
    addresses: { kind: "not-sent", why: HOSTILE.repeat(200) },
    next: many((index) => ({ command: `!suspend ${userId} ${index}`, what: HOSTILE })),
  };
}

/** A file with every fact at its longest, for the media replies. */
function hugeMediaFile(index: number): MediaFile {
  return {
    uri: `mxc://${HOSTILE}/${index}`,
    bytes: index,
    type: HOSTILE,
    uploader: HOSTILE,
    uploadedAt: FIXED_NOW,
    quarantinedBy: HOSTILE,
    protected: true,
    ...(index % 3 === 0 ? { unread: HOSTILE.repeat(20) } : {}),
  };
}

function hugeMediaPage(): MediaPage {
  return { page: 1, pages: MANY, pageSize: 20, entries: many(hugeMediaFile), nextPageCommand: `!media ${HOSTILE} --page 2` };
}

/** Kinds whose answer is another message (a task's progress, a wave's board), not a reply. */
const ANSWERED_ELSEWHERE: ReadonlySet<CommandOutcome["kind"]> = new Set(["task-started", "wave-started", "takedown-started"]);

function hugeReport(id: number): StoredEventReport {
  return {
    kind: "event",
    id,
    // A number other than the homeserver's (a reused id) makes every heading longer.
    homeserverId: id + 10 ** 12,
    receivedTs: FIXED_NOW,
    roomId: `!${HOSTILE}:example.org`,
    roomName: HOSTILE,
    canonicalAlias: HOSTILE,
    eventId: `$${HOSTILE}`,
    reporter: HOSTILE,
    sender: HOSTILE,
    reason: HOSTILE.repeat(200),
    state: "open",
    changedAt: FIXED_NOW,
    deletedOnHomeserver: false,
  };
}

function hugeUserReport(id: number): StoredUserReport {
  return {
    kind: "user",
    id,
    homeserverId: id + 10 ** 12,
    receivedTs: FIXED_NOW,
    target: `@${HOSTILE}:example.org`,
    reporter: HOSTILE,
    reason: HOSTILE.repeat(200),
    state: "resolved",
    resolution: "dismissed",
    changedAt: FIXED_NOW,
    deletedOnHomeserver: true,
  };
}

describe("every message fits the budget, whatever the length of its lists", () => {
  it.each(Object.keys(OUTCOMES) as CommandOutcome["kind"][])("the reply to a %s outcome", (kind) => {
    const message = renderOutcome(OUTCOMES[kind](), "!", FIXED_NOW);
    if (ANSWERED_ELSEWHERE.has(kind)) expect(message).toBeUndefined();
    else expectFits(message, kind);
  });

  const cases: [TaskKind, TaskRecord["status"]][] = [
    ["purge", "failed"],
    ["shutdown", "complete"],
    ["shutdown", "failed"],
    ["redact", "complete"],
    ["redact", "unknown"],
  ];

  it.each(cases)("every message about a %s task that ended %s", (kind, status) => {
    const task = hugeTask(kind, status);
    expectFits(renderProgress({ ...task, status: "active" }, FIXED_NOW), "progress");
    expectFits(renderFinished(task, FIXED_NOW), "finished");
    expectFits(renderStuck({ ...task, status: "active" }, FIXED_NOW), "stuck");
    expectFits(detailLines(task, FIXED_NOW), "status");
  });

  it("every page of a task's lists, which together hold every entry once, in order", () => {
    // Fewer entries than elsewhere: each page is rendered from the whole list, and there are many pages.
    const kicked = users.slice(0, 1_000);
    const notKicked = users.slice(1_000, 1_300);
    const task = sampleTask({ id: "s-00abcd", kind: "shutdown", status: "complete", outcome: { kickedUsers: kicked, failedToKickUsers: notKicked, localAliases: [] } });
    const count = pageCount(renderTaskPage(task, 1, "!"));
    expect(count).toBeGreaterThan(5);
    const seen: string[] = [];
    for (let page = 1; page <= count; page++) {
      const message = renderTaskPage(task, page, "!");
      expectFits(message, `page ${page}`);
      seen.push(...message.plain.split("\n").filter((line) => line.startsWith("- ")));
      if (page < count) expect(message.plain).toContain(`Next page: !status s-00abcd --page ${page + 1}`);
    }
    expect(seen).toEqual([...kicked, ...notKicked].map((user) => `- ${user}`));
    expect(renderTaskPage(task, count, "!").plain).toContain("That is the last page.");
    expect(renderTaskPage(task, count + 1, "!").plain).toContain(`there is no page ${count + 1}`);
  });

  it("the first, a middle and the last page of a huge task's hostile lists", () => {
    const task = hugeTask("shutdown", "complete");
    const count = pageCount(renderTaskPage(task, 1, "!"));
    for (const page of [1, Math.ceil(count / 2), count]) expectFits(renderTaskPage(task, page, "!"), `page ${page}`);
    const total = taskLists(task).reduce((sum, list) => sum + list.entries.length, 0);
    expect(total).toBe(3 * MANY);
  });

  it("a preview with thousands of lines, the ready message with thousands of warnings, an exposed room with thousands of problems", () => {
    const preview = { title: HOSTILE, lines: many((index) => ({ label: `Line ${index}`, value: HOSTILE })) };
    expectFits(renderPreview(preview, { state: "waiting", id: "c-000000", windowMs: 60_000, prefix: "!", requester: "@mod:example.org" }, { type: "preview" }), "preview");
    expectFits(
      renderReady({ version: "1", homeserverUrl: "http://x", serverVersion: "1", prefix: "!", resumedTasks: MANY, damagedFiles: many(() => HOSTILE) }),
      "ready",
    );
    expectFits(renderRoomExposed(many(() => HOSTILE)), "exposed");
  });

  it.each(["running", "cancelled", "finished"] as const)("a %s wave's board and final summary", (status) => {
    const view = hugeWaveView({ status, finishedAt: FIXED_NOW });
    expectFits(renderWaveBoard(view, "!"), "board");
    const summary = renderWaveFinished(view, "!");
    expectFits(summary, "summary");
    expect(summary.plain).toMatch(/\n\.\.\. and \d+ more: !status w-00abcd\n/);
  });

  it("the middle and the last page of a huge wave's rooms, and the answer past the end", () => {
    // Fewer rooms than elsewhere: the first page asked for measures every room's line, and hostile lines are slow to build.
    const view = hugeWaveView({}, 1_000);
    const count = Number(renderWaveStatus(view, MANY, "!").record?.["pages"]);
    expect(count).toBeGreaterThan(10);
    for (const page of [Math.ceil(count / 2), count]) expectFits(renderWaveStatus(view, page, "!"), `page ${page}`);
  });

  it("a wave's preview of 5,000 rooms and 5,000 left out", () => {
    const rooms = many((index) => ({ roomId: `!${HOSTILE}${index}`, label: `#${HOSTILE}${index}`, name: HOSTILE, joinedMembers: index, joinedLocalMembers: index }));
    for (const kind of ["purge", "shutdown"] as const) {
      const wave = hugeWave({ kind });
      const preview = wavePreview({ kind, rooms, leftOut, parameters: wave.parameters, selection: wave.selection, policy: HOSTILE });
      expectFits(renderPreview(preview, { state: "dry-run" }, { type: "preview" }), `${kind} preview`);
    }
  });

  it("a media deletion's preview of thousands of files, protected files, files not held and users", () => {
    const plan = {
      files: many((index) => ({ mxc: { origin: HOSTILE, mediaId: String(index) }, file: hugeMediaFile(index) })),
      protectedFiles: many(hugeMediaFile),
      notHeld: many((index) => hugeMediaFile(index).uri),
      users: many((index) => ({ userId: `${HOSTILE}${index}`, uploads: MANY, looked: 0 })),
    };
    const message = renderPreview(deletionPreview(plan), { state: "waiting", id: "c-000000", windowMs: 60_000, prefix: "!", requester: "@mod:example.org" }, { type: "preview" });
    expectFits(message, "media deletion preview");
    // The lines after the lists still say what the deletion leaves alone.
    expect(message.plain).toContain("A file protected since this preview: stays");
  });

  it("an account change's preview of thousands of users, acting and left out", () => {
    const plan = {
      command: "deactivate",
      change: { kind: "deactivate", erase: true } as const,
      users: many((index) =>
        index % 2 === 0
          ? { userId: `@${HOSTILE}${index}:example.org`, flags: { suspended: true, locked: true, shadowBanned: true }, change: "act" as const }
          : { userId: `@${HOSTILE}${index}:example.org`, change: { why: "left-out" as const, reason: `${HOSTILE}${index % 7}` } },
      ),
      effect: "what the change does, as the command table says it",
    };
    const message = renderPreview(restrictionPreview(plan, "!"), { state: "waiting", id: "c-000000", windowMs: 60_000, prefix: "!", requester: "@mod:example.org" }, { type: "preview" });
    expectFits(message, "account change preview");
    // What cannot be undone comes before the lists, so no list pushes it out.
    expect(message.plain).toContain("Cannot be undone: Synapse can re-enable a deactivated account");
  });

  it("the report poller's cards: a digest of thousands of reports, a card with a huge context", () => {
    const reports = many((index) => ({ ...hugeReport(index), sender: `@${HOSTILE}${index % 700}:example.org`, roomId: `!${HOSTILE}${index % 900}:example.org` }));
    for (const kind of ["room", "sender"] as const) {
      const digest: Digest = { key: `${kind} ${HOSTILE}`, kind, subject: HOSTILE, reportIds: reports.map((report) => ({ kind: report.kind, id: report.id })), lastTs: FIXED_NOW };
      const message = renderDigest(digest, reports, "!");
      expectFits(message, `${kind} digest`);
      expect(message.plain).toContain(`${MANY} more reports folded here`);
      expect(message.plain).toMatch(/Reports: 0, 1, 2, .*, and \d+ more/);
    }
    const lines = many((index) => ({ sender: HOSTILE, at: FIXED_NOW, text: HOSTILE.repeat(20), placeholder: index % 2 === 0, reported: index === 3 }));
    for (const state of ["open", "resolved"] as const) {
      const card = renderReportCard({ kind: "event", report: { ...hugeReport(7), state, changedBy: HOSTILE }, earlierAboutSender: MANY, context: { kind: "shown", lines } }, "!");
      expectFits(card, `${state} card`);
      expect(card.plain).toMatch(/\.\.\. and \d+ more lines of context/);
      expect(card.plain).toContain("← reported");
      expect(card.html).not.toMatch(/<>|"<|'</);
    }
    const unavailable = renderReportCard({ kind: "event", report: hugeReport(8), context: { kind: "unavailable", why: HOSTILE.repeat(200) } }, "!");
    expectFits(unavailable, "card without context");
  });

  it("!user --ips's notice of thousands of sessions, every address and agent hostile", () => {
    const connections = many((index) => ({ deviceId: `${HOSTILE}${index}`, ip: HOSTILE, lastSeenAt: FIXED_NOW, userAgent: HOSTILE.repeat(20) }));
    const message = renderUserAddresses({ userId: `@${HOSTILE}:example.org` as UserId, requester: `@${HOSTILE}:example.org` as UserId, connections }, FIXED_NOW);
    expectFits(message, "user addresses");
    expect(message.plain).toMatch(/\.\.\. and \d+ more$/);
  });

  it("the cards of reports about users: a huge card, a digest of thousands of both kinds, a list of both kinds", () => {
    const aboutUser = (id: number): StoredUserReport => ({ ...hugeUserReport(id), changedBy: HOSTILE });
    expectFits(renderReportCard({ kind: "user", report: aboutUser(1), earlierAboutTarget: { count: MANY, atLeast: true }, eventReportsAboutTarget: MANY }, "!"), "user report card");
    const reports: StoredReport[] = many((index) => (index % 2 === 0 ? aboutUser(index) : { ...hugeReport(index), roomId: `!${HOSTILE}${index % 900}:example.org` }));
    const digest: Digest = { key: `sender ${HOSTILE}`, kind: "sender", subject: HOSTILE, reportIds: reports.map((report) => ({ kind: report.kind, id: report.id })), lastTs: FIXED_NOW };
    const message = renderDigest(digest, reports, "!");
    expectFits(message, "digest of both kinds");
    expect(message.plain).toMatch(/Reports: u0, 1, u2, .*, and \d+ more/);
    expectFits(renderReportOutcome({ kind: "report-list", reports, total: MANY, from: 0, filter: { includeResolved: true, kind: "user", user: HOSTILE } }, "!"), "list of both kinds");
  });
});

function pageCount(message: OutgoingMessage): number {
  return Number(/page 1 of (\d+)/.exec(message.plain)?.[1]);
}

describe("the list helper", () => {
  it("shows the first entries within both limits and counts the rest", () => {
    const { shown, rest } = firstEntries(users, textLine, { entries: 3, bytes: 10_000 });
    expect(shown.map((line) => line.plain)).toEqual(users.slice(0, 3));
    expect(rest).toBe(MANY - 3);
    expect(firstEntries(users, textLine, { entries: 100, bytes: 200 }).shown.length).toBeLessThan(3);
    expect(listLines(["a", "b", "c"], textLine, { entries: 2, bytes: 1000 }).map((line) => line.plain)).toEqual(["a", "b", "... and 1 more"]);
    expect(inlineList(["a", "b", "c"], { entries: 2, bytes: 1000 })).toBe("a, b, and 1 more");
    expect(inlineList(["a", "b"])).toBe("a, b");
  });

  it("splits a list into pages that each fit and keep the order", () => {
    const split = pages(users, textLine, { entries: 7, bytes: 1_000_000 });
    expect(split.flat()).toEqual(users);
    expect(split.every((page) => page.length <= 7)).toBe(true);
  });
});

describe("the final guard", () => {
  it("leaves a message within the budget alone", () => {
    const message = { plain: "a", html: "b", record: { type: "reply" } };
    expect(fitMessage(message)).toBe(message);
  });

  it("uses the shorter form when the full one is over", () => {
    const short = { plain: "short", html: "short" };
    expect(fitMessage({ plain: "x".repeat(MESSAGE_BUDGET_BYTES), html: "", short })).toBe(short);
  });

  it("cuts one long field: keeps the record's short fields, drops the HTML and cuts the body", () => {
    const message = { plain: "é".repeat(40_000), html: "<b>x</b>".repeat(10_000), record: { type: "reply", long: "y".repeat(40_000), list: users, count: 3 }, mentions: ["@mod:example.org" as UserId] };
    const fitted = fitMessage(message);
    expect(messageBytes(fitted)).toBeLessThanOrEqual(MESSAGE_BUDGET_BYTES);
    expect(fitted.html).toBe("");
    expect(fitted.plain).toMatch(/^é+\n… \(shortened to fit in one Matrix event\)$/);
    expect(fitted.record).toEqual({ shortened: true, type: "reply", long: `${"y".repeat(199)}…`, count: 3 });
    expect(fitted.mentions).toEqual(["@mod:example.org"]);
  });

  it("cuts text between characters, counting bytes as JSON does", () => {
    const cut = cutToBytes("😀".repeat(100), 42, "…");
    expect(jsonBytes(cut)).toBeLessThanOrEqual(42);
    expect(cut).toBe(`${"😀".repeat(9)}…`);
  });
});

describe("pages from sizes (issue 22)", () => {
  /** The paging loop as it was before pageStarts: a page closed at the entry limit, or before the entry that would pass the byte limit. */
  function referencePages<T>(items: readonly T[], size: (item: T) => number, limits: { entries: number; bytes: number }): T[][] {
    const result: T[][] = [];
    let page: T[] = [];
    let bytes = 0;
    for (const item of items) {
      if (page.length > 0 && (page.length >= limits.entries || bytes + size(item) > limits.bytes)) {
        result.push(page);
        page = [];
        bytes = 0;
      }
      page.push(item);
      bytes += size(item);
    }
    if (page.length > 0) result.push(page);
    return result;
  }

  const limits = fc.record({ entries: fc.integer({ min: 1, max: 60 }), bytes: fc.integer({ min: 1, max: 5_000 }) });

  it("starts each page where the old loop did, for any sizes and limits, an entry over the byte limit alone on its page", () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 6_000 }), { maxLength: 400 }), limits, (sizes, limit) => {
        const indices = sizes.map((_, index) => index);
        const expected = referencePages(indices, (index) => sizes[index] ?? 0, limit);
        expect(pageStarts(sizes, limit)).toEqual(expected.map((page) => page[0]));
      }),
      { numRuns: 300 },
    );
  });

  it("splits text into the same pages as before, whatever its script", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 200 }), { maxLength: 200 }), limits, (texts, limit) => {
        expect(pages(texts, textLine, limit)).toEqual(referencePages(texts, (text) => lineBytes(textLine(text)), limit));
      }),
      { numRuns: 100 },
    );
  });

  it("measures an entry once, then answers from what it kept", () => {
    const sizes = new WeakMap<{ readonly text: string }, number>();
    const built: string[] = [];
    const toLine = (entry: { readonly text: string }): Line => {
      built.push(entry.text);
      return textLine(entry.text);
    };
    const first = { text: "<é>" };
    const second = { text: "b" };
    expect([lineBytesOnce(sizes, first, toLine), lineBytesOnce(sizes, second, toLine), lineBytesOnce(sizes, first, toLine)]).toEqual([
      lineBytes(textLine("<é>")),
      lineBytes(textLine("b")),
      lineBytes(textLine("<é>")),
    ]);
    expect(built).toEqual(["<é>", "b"]);
    // A kept size of 0 is an answer too, not a size still to measure.
    const empty = { text: "" };
    const kept = new WeakMap<{ readonly text: string }, number>([[empty, 0]]);
    expect(lineBytesOnce(kept, empty, toLine)).toBe(0);
    expect(built).toEqual(["<é>", "b"]);
  });
});
