import { describe, expect, it, vi } from "vitest";
import { NOT_FOR_REMOTE, type TakedownStep, type TakedownUser } from "../../../../src/model/takedowns.js";
import type { AdminError } from "../../../../src/synapse/adminClient.js";
import {
  deactivateStep,
  fileLinks,
  mediaStep,
  redactStep,
  REMOTE_MEDIA_EVENTS_PER_ROOM,
  REMOTE_MEDIA_FILES,
  restrictStep,
  roomsStep,
  TAKEDOWN_REDACT_LIMIT,
  type StepDependencies,
} from "../../../../src/tasks/takedowns/steps.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { ok } from "../../../../src/util/result.js";
import { ALL_OPTIONS, REMOTE, ROOMS, SPAMMER, takedown, takedownUser, world, type World } from "./harness.js";

/**
 * Each step on its own, against the fakes the runner's tests use: what it sends, and the exact
 * words it leaves on the board (moderators read them, so a changed word is a changed behaviour).
 */
function dependencies(w: World): StepDependencies {
  return { admin: w.admin, launcher: w.book, tasks: w.book, waves: w.waves, version: w.version, shutdownPurgeAfterMs: 86_400_000 };
}

const RUNNING: TakedownStep = { name: "redact", state: "running" };
const UNRECOGNIZED: AdminError = { ...adminError("not-found", 404), errcode: "M_UNRECOGNIZED" };

function withEvents(w: World, roomId: string, sender: string, contents: readonly Record<string, unknown>[]): void {
  w.admin.sentEvents.set(
    roomId,
    contents.map((content, index) => ({ eventId: `$${roomId}-${index}`, sender, content })),
  );
}

describe("restrictStep", () => {
  it("suspends, and does not lock as well", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    expect(await restrictStep(takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "suspended" });
    expect(w.admin.changesSent()).toEqual([{ method: "setSuspended", userId: SPAMMER, on: true }]);
  });

  it("leaves a remote account alone", async () => {
    const w = world();
    expect(await restrictStep(takedownUser(REMOTE), dependencies(w))).toEqual({ kind: "ended", state: "skipped", detail: NOT_FOR_REMOTE.restrict });
    expect(w.admin.changesSent()).toEqual([]);
  });

  it("does not lock when the suspension was refused for another reason", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    const refusal = adminError("forbidden", 403, "nope");
    w.admin.accountFailures.push({ method: "setSuspended", error: refusal });
    expect(await restrictStep(takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "failed", detail: `could not suspend: ${refusal.userMessage}` });
    expect(w.admin.changesSent().map((call) => call.method)).toEqual(["setSuspended"]);
  });

  it("answers 'not now' to a homeserver that is down", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    for (const kind of ["rate-limited", "server-error", "timeout", "unreachable"] as const) {
      const failure = adminError(kind, kind === "rate-limited" ? 429 : kind === "server-error" ? 502 : undefined);
      w.admin.accountFailures.splice(0, w.admin.accountFailures.length, { method: "setSuspended", error: failure });
      expect(await restrictStep(takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "later", reason: failure.userMessage });
    }
  });

  it("says why the lock failed, or that it should be tried later", async () => {
    const w = world();
    w.version.set("1.105.0");
    w.admin.addAccount(SPAMMER);
    const refusal = adminError("bad-request", 400, "no");
    w.admin.accountFailures.push({ method: "setLocked", error: refusal });
    expect(await restrictStep(takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "failed", detail: `could not lock: ${refusal.userMessage}` });
    const busy = adminError("rate-limited", 429);
    w.admin.accountFailures.splice(0, 1, { method: "setLocked", error: busy });
    expect(await restrictStep(takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "later", reason: busy.userMessage });
    expect(w.admin.changesSent().some((call) => call.method === "setSuspended")).toBe(false);
  });

  it("locks after an M_UNRECOGNIZED suspension, and says the version it needs", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.accountFailures.push({ method: "setSuspended", error: UNRECOGNIZED });
    const advance = await restrictStep(takedownUser(SPAMMER), dependencies(w));
    expect(advance).toMatchObject({ kind: "ended", state: "done" });
    expect(advance.kind === "ended" && advance.detail).toMatch(/^locked instead of suspended \(/);
  });
});

describe("mediaStep for a local user", () => {
  it("is skipped when not asked", async () => {
    const w = world();
    const advance = await mediaStep(takedown([], { ...ALL_OPTIONS, quarantineMedia: false }), takedownUser(SPAMMER), dependencies(w));
    expect(advance).toEqual({ kind: "ended", state: "skipped", detail: "not asked (--no-quarantine-media)" });
    expect(w.admin.mediaCalls).toEqual([]);
  });

  it("counts the files in words that agree with the number", async () => {
    const w = world();
    w.admin.upload(SPAMMER);
    expect(await mediaStep(takedown([]), takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "1 file quarantined", count: 1 });
    w.admin.upload(SPAMMER);
    w.admin.upload(SPAMMER);
    expect(await mediaStep(takedown([]), takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "2 files quarantined", count: 2 });
    expect(w.admin.mediaCalls).toEqual([
      { method: "quarantineUserMedia", userId: SPAMMER },
      { method: "quarantineUserMedia", userId: SPAMMER },
    ]);
  });

  it("fails with the homeserver's reason, or waits when it is down", async () => {
    const w = world();
    const refusal = adminError("forbidden", 403, "no");
    w.admin.mediaFailures.set("quarantineUserMedia", refusal);
    expect(await mediaStep(takedown([]), takedownUser(SPAMMER), dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: `could not quarantine their media: ${refusal.userMessage}`,
    });
    const down = adminError("unreachable");
    w.admin.mediaFailures.set("quarantineUserMedia", down);
    expect(await mediaStep(takedown([]), takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "later", reason: down.userMessage });
  });
});

describe("mediaStep for a remote user", () => {
  it("quarantines only the files of their own events, once each, and says so in the singular", async () => {
    const w = world();
    w.admin.sentEvents.set("!a:example.org", [
      { eventId: "$1", sender: REMOTE, content: { url: "mxc://remote.example/pic" } },
      { eventId: "$2", sender: "@other:remote.example", content: { url: "mxc://remote.example/theirs" } },
    ]);
    withEvents(w, "!b:example.org", REMOTE, [{ url: "mxc://remote.example/pic" }, { url: "mxc://not a link" }, { url: "https://example.org/x" }]);
    w.admin.cache("remote.example", { mediaId: "pic" });
    w.admin.cache("remote.example", { mediaId: "theirs" });
    const advance = await mediaStep(takedown([]), takedownUser(REMOTE), dependencies(w));
    expect(advance).toEqual({ kind: "ended", state: "done", detail: "1 file linked from their events quarantined", count: 1 });
    expect(w.admin.mediaCallsOf("quarantineMedia")).toEqual([{ method: "quarantineMedia", uri: "mxc://remote.example/pic" }]);
  });

  it("goes past rooms it may not read, and stops at any other refusal", async () => {
    const w = world();
    withEvents(w, "!c:example.org", REMOTE, [{ url: "mxc://remote.example/pic" }]);
    w.admin.cache("remote.example", { mediaId: "pic" });
    const answers = [adminError("not-found", 404), adminError("forbidden", 403)];
    const read = w.admin.senderMessages.bind(w.admin);
    vi.spyOn(w.admin, "senderMessages").mockImplementation((roomId, sender, page) => {
      const answer = answers.shift();
      return answer === undefined ? read(roomId, sender, page) : Promise.resolve({ ok: false, error: answer });
    });
    expect(await mediaStep(takedown([]), takedownUser(REMOTE), dependencies(w))).toMatchObject({ kind: "ended", state: "done", count: 1 });

    const refusal = adminError("bad-request", 400, "bad");
    w.admin.userFailures.set("senderMessages", refusal);
    vi.restoreAllMocks();
    expect(await mediaStep(takedown([]), takedownUser(REMOTE), dependencies(w))).toEqual({ kind: "ended", state: "failed", detail: `could not read their events: ${refusal.userMessage}` });
    const down = adminError("timeout");
    w.admin.userFailures.set("senderMessages", down);
    expect(await mediaStep(takedown([]), takedownUser(REMOTE), dependencies(w))).toEqual({ kind: "later", reason: down.userMessage });
  });

  it("says when it read only part of a room's events", async () => {
    const w = world();
    const chunk = (count: number) =>
      Array.from({ length: count }, (_, index) => ({ event_id: `$${index}`, type: "m.room.message", sender: REMOTE, content: { url: `mxc://remote.example/f${index % 3}` } }));
    const pages = [
      { chunk: chunk(REMOTE_MEDIA_EVENTS_PER_ROOM - 1), end: "more" },
      { chunk: chunk(REMOTE_MEDIA_EVENTS_PER_ROOM), end: null },
      { chunk: chunk(REMOTE_MEDIA_EVENTS_PER_ROOM) },
    ];
    vi.spyOn(w.admin, "senderMessages").mockImplementation(() => Promise.resolve(ok(pages.shift() ?? { chunk: [] })));
    const whole = await mediaStep(takedown([]), takedownUser(REMOTE), dependencies(w));
    expect(whole.kind === "ended" && whole.detail).toBe("0 files linked from their events quarantined; 3 others were never cached here");

    pages.push({ chunk: chunk(REMOTE_MEDIA_EVENTS_PER_ROOM), end: "more" });
    const bounded = await mediaStep(takedown([]), takedownUser(REMOTE, { rooms: ["!a:example.org"] }), dependencies(w));
    expect(bounded.kind === "ended" && bounded.detail).toBe(
      `0 files linked from their events quarantined; 3 others were never cached here (read up to ${REMOTE_MEDIA_EVENTS_PER_ROOM} of their events per room and ${REMOTE_MEDIA_FILES} files: more may remain)`,
    );
  });

  it("quarantines at most the file limit, and says more may remain", async () => {
    const w = world();
    const links = Array.from({ length: REMOTE_MEDIA_FILES + 1 }, (_, index) => ({ url: `mxc://remote.example/m${index}` }));
    withEvents(w, "!a:example.org", REMOTE, links);
    for (let index = 0; index <= REMOTE_MEDIA_FILES; index++) w.admin.cache("remote.example", { mediaId: `m${index}` });
    const advance = await mediaStep(takedown([]), takedownUser(REMOTE, { rooms: ["!a:example.org"] }), dependencies(w));
    expect(advance).toMatchObject({ kind: "ended", state: "done", count: REMOTE_MEDIA_FILES });
    expect(advance.kind === "ended" && advance.detail).toMatch(/more may remain\)$/);
    expect(w.admin.mediaCallsOf("quarantineMedia")).toHaveLength(REMOTE_MEDIA_FILES);

    const exactly = world();
    withEvents(exactly, "!a:example.org", REMOTE, links.slice(0, REMOTE_MEDIA_FILES));
    for (let index = 0; index < REMOTE_MEDIA_FILES; index++) exactly.admin.cache("remote.example", { mediaId: `m${index}` });
    const all = await mediaStep(takedown([]), takedownUser(REMOTE, { rooms: ["!a:example.org"] }), dependencies(exactly));
    expect(all.kind === "ended" && all.detail).toBe(`${REMOTE_MEDIA_FILES} files linked from their events quarantined`);
  });

  it("counts the files this server never cached apart, in the singular too", async () => {
    const w = world();
    withEvents(w, "!a:example.org", REMOTE, [{ url: "mxc://remote.example/absent" }, { url: "mxc://remote.example/here" }]);
    w.admin.cache("remote.example", { mediaId: "here" });
    const advance = await mediaStep(takedown([]), takedownUser(REMOTE, { rooms: ["!a:example.org"] }), dependencies(w));
    expect(advance).toEqual({ kind: "ended", state: "done", detail: "1 file linked from their events quarantined; 1 other was never cached here", count: 1 });
    expect(w.admin.mediaCallsOf("quarantineMedia")).toEqual([{ method: "quarantineMedia", uri: "mxc://remote.example/here" }]);
  });

  it("quarantines without looking up where media info is missing, by version or by answer", async () => {
    const old = world();
    old.version.set("1.139.0");
    withEvents(old, "!a:example.org", REMOTE, [{ url: "mxc://remote.example/one" }]);
    await mediaStep(takedown([]), takedownUser(REMOTE, { rooms: ["!a:example.org"] }), dependencies(old));
    expect(old.admin.mediaCalls.map((call) => call.method)).toEqual(["quarantineMedia"]);

    const w = world();
    withEvents(w, "!a:example.org", REMOTE, [{ url: "mxc://remote.example/one" }, { url: "mxc://remote.example/two" }]);
    w.admin.cache("remote.example", { mediaId: "one" });
    w.admin.cache("remote.example", { mediaId: "two" });
    w.admin.mediaFailures.set("mediaInfo", UNRECOGNIZED);
    const advance = await mediaStep(takedown([]), takedownUser(REMOTE, { rooms: ["!a:example.org"] }), dependencies(w));
    expect(advance).toMatchObject({ kind: "ended", state: "done", count: 2 });
    // Asked once: the first answer says the endpoint is missing, so the second file is not looked up.
    expect(w.admin.mediaCalls.map((call) => call.method)).toEqual(["mediaInfo", "quarantineMedia", "quarantineMedia"]);
  });

  it("stops at a look-up or quarantine it cannot make, saying how far it got", async () => {
    const w = world();
    withEvents(w, "!a:example.org", REMOTE, [{ url: "mxc://remote.example/one" }, { url: "mxc://remote.example/two" }]);
    w.admin.cache("remote.example", { mediaId: "one" });
    w.admin.cache("remote.example", { mediaId: "two" });
    const refusal = adminError("forbidden", 403, "no");
    w.admin.fileFailures.set("mxc://remote.example/two", { method: "mediaInfo", error: refusal });
    const user = takedownUser(REMOTE, { rooms: ["!a:example.org"] });
    expect(await mediaStep(takedown([]), user, dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: `could not look up mxc://remote.example/two (1 quarantined before it): ${refusal.userMessage}`,
    });
    w.admin.fileFailures.clear();
    w.admin.mediaFailures.set("quarantineMedia", refusal);
    expect(await mediaStep(takedown([]), user, dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: `could not quarantine mxc://remote.example/one (0 quarantined before it): ${refusal.userMessage}`,
    });
    w.admin.mediaFailures.set("quarantineMedia", adminError("not-found", 404));
    expect(await mediaStep(takedown([]), user, dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "0 files linked from their events quarantined", count: 0 });
  });
});

describe("fileLinks", () => {
  it("finds the file, its thumbnail and an encrypted file's link, and nothing else", () => {
    expect(fileLinks({ url: "mxc://a/1", info: { thumbnail_url: "mxc://a/2" } })).toEqual(["mxc://a/1", "mxc://a/2"]);
    expect(fileLinks({ file: { url: "mxc://a/3" } })).toEqual(["mxc://a/3"]);
    expect(fileLinks({ url: "https://a/1", info: { thumbnail_url: 7 }, file: "mxc://a/4" })).toEqual([]);
    expect(fileLinks({ info: null, file: null })).toEqual([]);
    expect(fileLinks({ body: "mxc://a/5" })).toEqual([]);
  });
});

describe("redactStep", () => {
  it("asks for every room of the plan, the limit and the reason, under the step's send id", async () => {
    const w = world();
    const record = takedown([], { ...ALL_OPTIONS, reason: "spam" });
    const advance = await redactStep(record, takedownUser(SPAMMER), { ...RUNNING, sendId: "t-000001-abcd" }, dependencies(w));
    const [task] = w.book.all();
    expect(advance).toEqual({ kind: "waiting", step: { taskId: task?.id } });
    expect(w.admin.userCalls).toEqual([{ method: "startRedact", userId: SPAMMER, options: { rooms: ROOMS, limit: TAKEDOWN_REDACT_LIMIT, reason: "spam" } }]);
    expect(w.book.requests[0]).toMatchObject({
      kind: "redact",
      roomId: SPAMMER,
      roomLabel: SPAMMER,
      requester: "@mod:example.org",
      managementRoomId: "!mgmt:example.org",
      commandEventId: "$command",
      parameters: { takedownId: "t-000001", takedownSend: "t-000001-abcd", rooms: ROOMS, limit: TAKEDOWN_REDACT_LIMIT, reason: "spam" },
    });
  });

  it("sends no reason when none was given, and names its send after the takedown and user without a send id", async () => {
    const w = world();
    await redactStep(takedown([]), takedownUser(SPAMMER), RUNNING, dependencies(w));
    expect(w.admin.userCalls).toEqual([{ method: "startRedact", userId: SPAMMER, options: { rooms: ROOMS, limit: TAKEDOWN_REDACT_LIMIT } }]);
    expect(w.book.requests[0]?.parameters).toEqual({ takedownId: "t-000001", takedownSend: `t-000001-${SPAMMER}`, rooms: ROOMS, limit: TAKEDOWN_REDACT_LIMIT });
  });

  it("is skipped before Synapse 1.116 and without rooms", async () => {
    const w = world();
    w.version.set("1.115.0");
    const old = await redactStep(takedown([]), takedownUser(SPAMMER), RUNNING, dependencies(w));
    expect(old).toMatchObject({ kind: "ended", state: "skipped" });
    expect(old.kind === "ended" && old.detail).toMatch(/1\.116/);
    w.version.set("1.163.2");
    expect(await redactStep(takedown([]), takedownUser(SPAMMER, { rooms: [] }), RUNNING, dependencies(w))).toEqual({
      kind: "ended",
      state: "skipped",
      detail: "no room on this server holds their membership",
    });
    expect(w.book.requests).toEqual([]);
  });

  it("follows the task it started, by id or by send, until it ends", async () => {
    const w = world();
    await redactStep(takedown([]), takedownUser(SPAMMER), { ...RUNNING, sendId: "s-1" }, dependencies(w));
    const [task] = w.book.all();
    if (task === undefined) throw new Error("no task");
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), { ...RUNNING, sendId: "s-1" }, dependencies(w))).toEqual({ kind: "waiting", step: { taskId: task.id } });
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), { ...RUNNING, taskId: task.id }, dependencies(w))).toEqual({ kind: "waiting", step: { taskId: task.id } });
    w.book.end(task.id, "complete");
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), { ...RUNNING, taskId: task.id }, dependencies(w))).toEqual({
      kind: "ended",
      state: "done",
      detail: "their events redacted in 3 rooms",
    });
    expect(await redactStep(takedown([]), takedownUser(SPAMMER, { rooms: ["!a:example.org"] }), { ...RUNNING, sendId: "s-1" }, dependencies(w))).toEqual({
      kind: "ended",
      state: "done",
      detail: "their events redacted in 1 room",
    });
    expect(w.book.requests).toHaveLength(1);
  });

  it("reads events left in place as a failure, naming three, and why a remote user's may stay", async () => {
    const w = world();
    await redactStep(takedown([]), takedownUser(SPAMMER), RUNNING, dependencies(w));
    const [task] = w.book.all();
    if (task === undefined) throw new Error("no task");
    w.book.end(task.id, "complete", { outcome: { failedRedactions: ["$1: no", "$2: no", "$3: no", "$4: no"] } });
    const follow = { ...RUNNING, taskId: task.id };
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), follow, dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: "4 events could not be redacted in 3 rooms: $1: no; $2: no; $3: no",
    });
    const remote = await redactStep(takedown([]), takedownUser(REMOTE, { rooms: ["!a:example.org"] }), follow, dependencies(w));
    expect(remote.kind === "ended" && remote.detail).toBe(
      "4 events could not be redacted in 1 room (Synapse redacts a remote user's events as Warden's account, so only in rooms where it is joined with the power to redact): $1: no; $2: no; $3: no",
    );
    w.book.end(task.id, "complete", { outcome: { failedRedactions: ["$1: no"] } });
    const one = await redactStep(takedown([]), takedownUser(SPAMMER), follow, dependencies(w));
    expect(one.kind === "ended" && one.detail).toBe("1 event could not be redacted in 3 rooms: $1: no");
    w.book.end(task.id, "complete", { outcome: { failedRedactions: "not a list" } });
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), follow, dependencies(w))).toMatchObject({ state: "done" });
  });

  it("says how a redaction ended that failed or could not be followed", async () => {
    const w = world();
    await redactStep(takedown([]), takedownUser(SPAMMER), RUNNING, dependencies(w));
    const [task] = w.book.all();
    if (task === undefined) throw new Error("no task");
    const follow = { ...RUNNING, taskId: task.id };
    w.book.end(task.id, "failed", { reason: "boom" });
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), follow, dependencies(w))).toEqual({ kind: "ended", state: "failed", detail: "the redaction failed: boom" });
    w.book.end(task.id, "unknown", { reason: "gone" });
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), follow, dependencies(w))).toEqual({ kind: "ended", state: "failed", detail: "the redaction could not be followed: gone" });
    const withoutReason = { ...(w.book.get(task.id) ?? task), status: "failed" as const };
    Reflect.deleteProperty(withoutReason, "reason");
    w.book.tasks.set(task.id, withoutReason);
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), follow, dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: "the redaction failed: the homeserver gave no reason",
    });
  });

  it("waits behind another redaction of the user, and after a homeserver that is down; fails on a refusal", async () => {
    const w = world();
    await redactStep(takedown([]), takedownUser(SPAMMER), RUNNING, dependencies(w));
    const [other] = w.book.all();
    if (other === undefined) throw new Error("no task");
    w.book.busyOnce = other;
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), { ...RUNNING, sendId: "s-2" }, dependencies(w))).toEqual({
      kind: "later",
      reason: `another redaction of ${SPAMMER} runs (${other.id}); this one starts when it ends`,
    });

    const down = adminError("server-error", 502);
    w.admin.userFailures.set("startRedact", down);
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), { ...RUNNING, sendId: "s-3" }, dependencies(w))).toEqual({ kind: "later", reason: down.userMessage });

    const refusal = adminError("bad-request", 400, "no");
    w.admin.userFailures.set("startRedact", refusal);
    expect(await redactStep(takedown([]), takedownUser(SPAMMER), { ...RUNNING, sendId: "s-4" }, dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: `the redaction failed: ${refusal.userMessage}`,
    });
  });
});

describe("roomsStep", () => {
  const OWN = ["!own1:example.org", "!own2:example.org"];

  it("is skipped when not asked, or when no room is theirs alone", async () => {
    const w = world();
    expect(await roomsStep(takedown([], { ...ALL_OPTIONS, rooms: false }), takedownUser(SPAMMER, { ownRooms: OWN }), RUNNING, dependencies(w))).toEqual({
      kind: "ended",
      state: "skipped",
      detail: "not asked (--rooms)",
    });
    expect(await roomsStep(takedown([]), takedownUser(SPAMMER), RUNNING, dependencies(w))).toEqual({
      kind: "ended",
      state: "skipped",
      detail: "no room they created is theirs alone among this server's users",
    });
    expect(w.waves.requests).toEqual([]);
  });

  it("starts one shutdown wave that blocks, purges after the members saw the leave, and quarantines only when asked", async () => {
    const w = world();
    const user = takedownUser(SPAMMER, { ownRooms: OWN });
    expect(await roomsStep(takedown([]), user, { name: "rooms", state: "running" }, dependencies(w))).toEqual({ kind: "waiting", step: { waveId: "w-000001" } });
    expect(w.waves.requests[0]).toEqual({
      kind: "shutdown",
      requester: "@mod:example.org",
      managementRoomId: "!mgmt:example.org",
      commandEventId: "$command",
      selection: { listed: OWN },
      parameters: {
        block: true,
        purge: false,
        forcePurge: false,
        purgeWhen: "members-seen",
        purgeDeadlineMs: 86_400_000,
        quarantineMedia: true,
        takedownId: "t-000001",
        takedownUser: SPAMMER,
      },
      rooms: OWN.map((roomId) => ({ roomId, label: roomId })),
      leftOut: [],
    });
    const without = world();
    await roomsStep(takedown([], { ...ALL_OPTIONS, quarantineMedia: false }), user, { name: "rooms", state: "running" }, dependencies(without));
    expect(without.waves.requests[0]?.parameters).not.toHaveProperty("quarantineMedia");
  });

  it("finds its running wave after a crash, by takedown and user, instead of starting another", async () => {
    const w = world();
    const user = takedownUser(SPAMMER, { ownRooms: OWN });
    await roomsStep(takedown([], ALL_OPTIONS, "t-000002"), user, { name: "rooms", state: "running" }, dependencies(w));
    await roomsStep(takedown([], ALL_OPTIONS, "t-000001"), takedownUser(REMOTE, { ownRooms: OWN }), { name: "rooms", state: "running" }, dependencies(w));
    await roomsStep(takedown([]), user, { name: "rooms", state: "running" }, dependencies(w));
    expect(w.waves.requests).toHaveLength(3);
    expect(await roomsStep(takedown([]), user, { name: "rooms", state: "running" }, dependencies(w))).toEqual({ kind: "waiting", step: { waveId: "w-000003" } });
    expect(w.waves.requests).toHaveLength(3);
  });

  it("ends when every room's shutdown ended, counting those that did not shut down", async () => {
    const w = world();
    const user = takedownUser(SPAMMER, { ownRooms: OWN });
    await roomsStep(takedown([]), user, { name: "rooms", state: "running" }, dependencies(w));
    const follow: TakedownStep = { name: "rooms", state: "running", waveId: "w-000001" };
    expect(await roomsStep(takedown([]), user, follow, dependencies(w))).toEqual({ kind: "waiting", step: { waveId: "w-000001" } });
    w.waves.finish("w-000001", ["done", "done"]);
    expect(await roomsStep(takedown([]), user, follow, dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "2 of 2 rooms shut down (wave w-000001)", count: 2 });
    w.waves.finish("w-000001", ["done", "failed"]);
    expect(await roomsStep(takedown([]), user, follow, dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: "1 of 2 rooms shut down (wave w-000001), 1 not",
      count: 1,
    });
    w.waves.finish("w-000001", ["cancelled", "skipped"]);
    expect(await roomsStep(takedown([]), user, follow, dependencies(w))).toMatchObject({ state: "failed", detail: "0 of 2 rooms shut down (wave w-000001), 1 not" });

    const one = world();
    const single = takedownUser(SPAMMER, { ownRooms: ["!own1:example.org"] });
    await roomsStep(takedown([]), single, { name: "rooms", state: "running" }, dependencies(one));
    one.waves.finish("w-000001", ["done"]);
    expect(await roomsStep(takedown([]), single, follow, dependencies(one))).toMatchObject({ detail: "1 of 1 room shut down (wave w-000001)" });
  });

  it("counts a wave pruned long ago as done", async () => {
    const w = world();
    expect(await roomsStep(takedown([]), takedownUser(SPAMMER, { ownRooms: OWN }), { name: "rooms", state: "running", waveId: "w-gone" }, dependencies(w))).toEqual({
      kind: "ended",
      state: "done",
      detail: "rooms shut down (wave w-gone)",
    });
  });
});

describe("deactivateStep", () => {
  function redacted(user: TakedownUser, state: TakedownStep["state"]): TakedownUser {
    return { ...user, steps: user.steps.map((step) => (step.name === "redact" ? { ...step, state } : step)) };
  }

  it("is skipped when not asked, for a remote user, and after a failed redaction", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    expect(await deactivateStep(takedown([], { ...ALL_OPTIONS, deactivate: false }), takedownUser(SPAMMER), dependencies(w))).toEqual({
      kind: "ended",
      state: "skipped",
      detail: "not asked (--deactivate)",
    });
    expect(await deactivateStep(takedown([]), takedownUser(REMOTE), dependencies(w))).toEqual({ kind: "ended", state: "skipped", detail: NOT_FOR_REMOTE.deactivate });
    const failed = await deactivateStep(takedown([]), redacted(takedownUser(SPAMMER), "failed"), dependencies(w));
    expect(failed).toMatchObject({ kind: "ended", state: "skipped" });
    expect(failed.kind === "ended" && failed.detail).toMatch(/^the redaction failed: /);
    expect(w.admin.changesSent()).toEqual([]);
  });

  it("deactivates after a skipped or finished redaction, erasing only when asked", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    expect(await deactivateStep(takedown([], { ...ALL_OPTIONS, erase: false }), redacted(takedownUser(SPAMMER), "skipped"), dependencies(w))).toEqual({
      kind: "ended",
      state: "done",
      detail: "deactivated",
    });
    expect(w.admin.changesSent()).toEqual([{ method: "deactivateUser", userId: SPAMMER, erase: false }]);
    // Deactivated already, and erasing now asked: the erase is still sent.
    expect(await deactivateStep(takedown([]), redacted(takedownUser(SPAMMER), "done"), dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "deactivated and erased" });
    expect(w.admin.changesSent().at(-1)).toEqual({ method: "deactivateUser", userId: SPAMMER, erase: true });
  });

  it("sends nothing for an account already in the state asked", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER, { deactivated: true, erased: true });
    expect(await deactivateStep(takedown([]), takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "deactivated and erased" });
    w.admin.addAccount(SPAMMER, { deactivated: true, erased: false });
    expect(await deactivateStep(takedown([], { ...ALL_OPTIONS, erase: false }), takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "done", detail: "deactivated" });
    expect(w.admin.changesSent()).toEqual([]);
  });

  it("fails with the homeserver's reason when the account cannot be read or deactivated", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    const refusal = adminError("forbidden", 403, "no");
    w.admin.accountFailures.push({ method: "userAccount", error: refusal });
    expect(await deactivateStep(takedown([]), takedownUser(SPAMMER), dependencies(w))).toEqual({
      kind: "ended",
      state: "failed",
      detail: `could not read the account before deactivating it: ${refusal.userMessage}`,
    });
    w.admin.accountFailures.splice(0, 1, { method: "deactivateUser", error: refusal });
    expect(await deactivateStep(takedown([]), takedownUser(SPAMMER), dependencies(w))).toEqual({ kind: "ended", state: "failed", detail: `could not deactivate: ${refusal.userMessage}` });
  });
});
