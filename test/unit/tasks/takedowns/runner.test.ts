import { describe, expect, it } from "vitest";
import { stepOf, type TakedownRecord } from "../../../../src/model/takedowns.js";
import { isTakedownTask } from "../../../../src/tasks/takedowns/runner.js";
import { TAKEDOWN_REDACT_LIMIT } from "../../../../src/tasks/takedowns/steps.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { sampleTask } from "../../../fakes/sampleTask.js";
import { ALL_OPTIONS, REMOTE, ROOMS, SPAMMER, stateHistory, takedown, takedownUser, world, type World } from "./harness.js";

async function started(w: World, record: TakedownRecord): Promise<void> {
  await w.runner.start(record);
  await settled(w);
}

/** Waits for the passes and for the messages they started. */
async function settled(w: World): Promise<void> {
  await w.runner.idle();
  await w.runner.sent();
  await w.runner.idle();
}

function stored(w: World, id = "t-000001"): TakedownRecord {
  const record = w.store.get(id);
  if (record === undefined) throw new Error(`no takedown ${id}`);
  return record;
}

function step(w: World, name: Parameters<typeof stepOf>[1], userId = SPAMMER) {
  const user = stored(w).users.find((candidate) => candidate.userId === userId);
  if (user === undefined) throw new Error(`no user ${userId}`);
  return stepOf(user, name);
}

/** The one redaction task the takedown launched. */
function redaction(w: World) {
  const tasks = w.book.all();
  expect(tasks).toHaveLength(1);
  const [task] = tasks;
  if (task === undefined) throw new Error("no task");
  return task;
}

/** Wakes the runner as the tracker does when a task ends, and waits for the pass. */
async function ended(w: World, taskId: string, status: "complete" | "failed" | "unknown", reason?: string): Promise<void> {
  w.book.end(taskId, status, reason === undefined ? {} : { reason });
  const task = w.book.get(taskId);
  if (task !== undefined) await w.runner.taskEnded(task);
  await settled(w);
}

describe("a takedown's plan, in order", () => {
  it("suspends, quarantines, redacts in every room, and deactivates only once the redaction ended", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.upload(SPAMMER);
    w.admin.upload(SPAMMER);

    await started(w, takedown([takedownUser(SPAMMER)], { ...ALL_OPTIONS, reason: "spam" }));

    expect(w.admin.accounts.get(SPAMMER)?.suspended).toBe(true);
    expect(step(w, "restrict")).toMatchObject({ state: "done", detail: "suspended" });
    expect(step(w, "media")).toMatchObject({ state: "done", detail: "2 files quarantined", count: 2 });
    const task = redaction(w);
    expect(task).toMatchObject({ kind: "redact", roomId: SPAMMER, parameters: { takedownId: "t-000001", rooms: ROOMS, limit: TAKEDOWN_REDACT_LIMIT, reason: "spam" } });
    expect(task.parameters["takedownSend"]).toBe(step(w, "redact")?.sendId);
    expect(w.admin.userCalls.filter((call) => call.method === "startRedact")).toEqual([{ method: "startRedact", userId: SPAMMER, options: { rooms: ROOMS, limit: TAKEDOWN_REDACT_LIMIT, reason: "spam" } }]);
    expect(step(w, "redact")).toMatchObject({ state: "running", taskId: task.id });

    // Waiting for the redaction: however often it looks, nothing is deactivated.
    for (let look = 0; look < 3; look++) {
      w.clock.advance(5_000);
      w.timers.ringAll();
      await settled(w);
    }
    expect(w.admin.changesSent().filter((call) => call.method === "deactivateUser")).toEqual([]);
    expect(w.notifier.finals).toEqual([]);

    await ended(w, task.id, "complete");

    expect(step(w, "redact")).toMatchObject({ state: "done", detail: "their events redacted in 3 rooms" });
    expect(step(w, "rooms")).toMatchObject({ state: "skipped" });
    expect(step(w, "deactivate")).toMatchObject({ state: "done", detail: "deactivated and erased" });
    expect(w.admin.accounts.get(SPAMMER)).toMatchObject({ deactivated: true, erased: true });
    expect(stored(w)).toMatchObject({ status: "finished", finalNotificationSent: true });
    expect(w.notifier.finals).toHaveLength(1);
    expect(w.notifier.posts).toHaveLength(1);
    // Each step was stored running before it ended, and the order never changed.
    expect(stateHistory(w.store, SPAMMER)).toEqual([
      "restrict:pending media:pending redact:pending rooms:pending deactivate:pending",
      "restrict:running media:pending redact:pending rooms:pending deactivate:pending",
      "restrict:done media:pending redact:pending rooms:pending deactivate:pending",
      "restrict:done media:running redact:pending rooms:pending deactivate:pending",
      "restrict:done media:done redact:pending rooms:pending deactivate:pending",
      "restrict:done media:done redact:running rooms:pending deactivate:pending",
      "restrict:done media:done redact:done rooms:pending deactivate:pending",
      "restrict:done media:done redact:done rooms:running deactivate:pending",
      "restrict:done media:done redact:done rooms:skipped deactivate:pending",
      "restrict:done media:done redact:done rooms:skipped deactivate:running",
      "restrict:done media:done redact:done rooms:skipped deactivate:done",
    ]);
  });

  it("does not deactivate when the redaction failed, and says why", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)]));

    await ended(w, redaction(w).id, "failed", "database is locked");

    expect(step(w, "redact")).toMatchObject({ state: "failed", detail: "the redaction failed: database is locked" });
    expect(step(w, "deactivate")?.state).toBe("skipped");
    expect(step(w, "deactivate")?.detail).toMatch(/^the redaction failed/);
    expect(w.admin.changesSent().some((call) => call.method === "deactivateUser")).toBe(false);
    expect(stored(w).status).toBe("finished");
  });

  it("reads a redaction Warden could not follow as failed, with the reason", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)]));

    await ended(w, redaction(w).id, "unknown", "the homeserver no longer knows the job");

    expect(step(w, "redact")).toMatchObject({ state: "failed", detail: "the redaction could not be followed: the homeserver no longer knows the job" });
  });

  it("names the events that could not be redacted, and does not deactivate", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)]));
    const task = redaction(w);

    w.book.end(task.id, "complete", { outcome: { failedRedactions: ["$a: Not allowed", "$b: gone"] } });
    await w.runner.taskEnded(w.book.get(task.id) ?? task);
    await settled(w);

    // Events left in place are a failed step (Synapse calls the job complete even when every redaction was refused).
    expect(step(w, "redact")).toMatchObject({ state: "failed", detail: "2 events could not be redacted in 3 rooms: $a: Not allowed; $b: gone" });
    expect(step(w, "deactivate")?.state).toBe("skipped");
  });

  it("leaves out what was not asked, saying which option would ask for it", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.upload(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)], { deactivate: false, erase: false, rooms: false, quarantineMedia: false }));
    await ended(w, redaction(w).id, "complete");

    expect(step(w, "media")).toMatchObject({ state: "skipped", detail: "not asked (--no-quarantine-media)" });
    expect(step(w, "rooms")).toMatchObject({ state: "skipped", detail: "not asked (--rooms)" });
    expect(step(w, "deactivate")).toMatchObject({ state: "skipped", detail: "not asked (--deactivate)" });
    expect(w.admin.mediaCalls).toEqual([]);
    expect(w.admin.changesSent().map((call) => call.method)).toEqual(["setSuspended"]);
  });

  it("skips the redaction when no room holds their membership", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })]));

    expect(step(w, "redact")).toMatchObject({ state: "skipped", detail: "no room on this server holds their membership" });
    expect(w.book.requests).toEqual([]);
    expect(step(w, "deactivate")?.state).toBe("done");
  });

  it("deactivates without erasing unless asked", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)], { ...ALL_OPTIONS, erase: false }));
    await ended(w, redaction(w).id, "complete");

    expect(step(w, "deactivate")?.detail).toBe("deactivated");
    expect(w.admin.changesSent().filter((call) => call.method === "deactivateUser")).toEqual([{ method: "deactivateUser", userId: SPAMMER, erase: false }]);
  });

  it("moves users independently: one user's waiting redaction holds back nobody else", async () => {
    const w = world();
    const other = "@other:example.org";
    w.admin.addAccount(SPAMMER);
    w.admin.addAccount(other);
    await started(w, takedown([takedownUser(SPAMMER), takedownUser(other, { rooms: [] })]));

    expect(step(w, "deactivate", other)?.state).toBe("done");
    expect(step(w, "redact", SPAMMER)?.state).toBe("running");
    expect(stored(w).status).toBe("running");
    expect(w.notifier.finals).toEqual([]);
  });
});

describe("restricting", () => {
  it("locks instead where the homeserver has no suspension, and says why", async () => {
    const w = world();
    w.version.set("1.105.0");
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })]));

    expect(w.admin.changesSent()[0]).toEqual({ method: "setLocked", userId: SPAMMER, on: true });
    expect(w.admin.changesSent().some((call) => call.method === "setSuspended")).toBe(false);
    expect(step(w, "restrict")?.detail).toBe("locked instead of suspended (account suspension needs Synapse 1.110 or later (this homeserver runs 1.105.0))");
  });

  it("locks instead when the suspension endpoint answers M_UNRECOGNIZED", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.accountFailures.push({ method: "setSuspended", error: { ...adminError("not-found", 404), errcode: "M_UNRECOGNIZED" } });
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })]));

    expect(w.admin.changesSent().slice(0, 2).map((call) => call.method)).toEqual(["setSuspended", "setLocked"]);
    expect(step(w, "restrict")?.state).toBe("done");
    expect(w.admin.accounts.get(SPAMMER)?.locked).toBe(true);
  });

  it("fails the step with the homeserver's reason, and goes on with the rest", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.accountFailures.push({ method: "setSuspended", error: adminError("forbidden", 403, "nope") });
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })]));

    expect(step(w, "restrict")?.state).toBe("failed");
    expect(step(w, "restrict")?.detail).toMatch(/^could not suspend: .*nope/);
    expect(step(w, "media")?.state).toBe("done");
  });

  it("puts a rate-limited step off with back-off, and fails it after the last try", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.accountFailures.push({ method: "setSuspended", error: adminError("rate-limited", 429) });
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));

    expect(step(w, "restrict")?.state).toBe("running");
    expect(w.admin.changesSent()).toHaveLength(1);
    // Not before its time: a ring before the back-off ends sends nothing.
    w.timers.ringAll();
    await settled(w);
    expect(w.admin.changesSent()).toHaveLength(1);
    for (let tries = 2; tries <= 6; tries++) {
      w.clock.advance(5_000 * 2 ** (tries - 2));
      w.timers.ringAll();
      await settled(w);
      expect(w.admin.changesSent()).toHaveLength(tries);
    }
    expect(step(w, "restrict")?.state).toBe("failed");
    expect(step(w, "restrict")?.detail).toBe("the homeserver is rate-limiting Warden; try again in a moment");
  });
});

describe("a remote user", () => {
  it("has only what this server holds acted on: files their events link to, and their events here", async () => {
    const w = world();
    w.admin.sentEvents.set("!a:example.org", [
      { eventId: "$1", sender: REMOTE, content: { msgtype: "m.image", url: "mxc://remote.example/pic", info: { thumbnail_url: "mxc://remote.example/thumb" } } },
      { eventId: "$2", sender: REMOTE, content: { msgtype: "m.text", body: "hi" } },
    ]);
    w.admin.sentEvents.set("!b:example.org", [{ eventId: "$3", sender: REMOTE, content: { msgtype: "m.file", file: { url: "mxc://remote.example/enc" } } }]);
    // This server fetched two of the three files; the third was never cached here.
    w.admin.cache("remote.example", { mediaId: "pic" });
    w.admin.cache("remote.example", { mediaId: "enc" });
    await started(w, takedown([takedownUser(REMOTE)]));
    await ended(w, redaction(w).id, "complete");

    expect(step(w, "restrict", REMOTE)).toMatchObject({ state: "skipped" });
    expect(step(w, "restrict", REMOTE)?.detail).toMatch(/^not possible for a remote account/);
    expect(w.admin.mediaCalls.filter((call) => call.method === "quarantineMedia")).toEqual([
      { method: "quarantineMedia", uri: "mxc://remote.example/pic" },
      { method: "quarantineMedia", uri: "mxc://remote.example/enc" },
    ]);
    expect(step(w, "media", REMOTE)).toMatchObject({ state: "done", count: 2 });
    expect(w.admin.files.get("mxc://remote.example/pic")?.quarantinedBy).toBeDefined();
    expect(step(w, "deactivate", REMOTE)?.detail).toMatch(/^not possible for a remote account/);
    expect(w.admin.changesSent()).toEqual([]);
  });
});

describe("after a crash", () => {
  it("follows the redaction its send started, instead of starting another", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    const user = takedownUser(SPAMMER);
    const steps = user.steps.map((s) =>
      s.name === "restrict" || s.name === "media" ? { ...s, state: "done" as const } : s.name === "redact" ? { ...s, state: "running" as const, sendId: "t-000001-send" } : s,
    );
    await w.store.save(takedown([{ ...user, steps }]));
    w.book.tasks.set("r-000009", sampleTask({ id: "r-000009", kind: "redact", roomId: SPAMMER, status: "active", parameters: { takedownId: "t-000001", takedownSend: "t-000001-send" } }));

    w.runner.resumeAll();
    await settled(w);

    expect(w.book.requests).toEqual([]);
    expect(step(w, "redact")).toMatchObject({ state: "running", taskId: "r-000009" });
    // Finished steps are never repeated.
    expect(w.admin.changesSent()).toEqual([]);
    expect(w.admin.mediaCalls).toEqual([]);

    await ended(w, "r-000009", "complete");
    expect(step(w, "deactivate")?.state).toBe("done");
  });

  it("starts the redaction once when its send never left", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    const user = takedownUser(SPAMMER);
    const steps = user.steps.map((s) => (s.name === "restrict" || s.name === "media" ? { ...s, state: "done" as const } : s.name === "redact" ? { ...s, state: "running" as const, sendId: "t-000001-lost" } : s));
    await w.store.save(takedown([{ ...user, steps }]));

    w.restart().resumeAll();
    await settled(w);

    expect(w.book.requests).toHaveLength(1);
    expect(w.book.requests[0]?.parameters["takedownSend"]).toBe("t-000001-lost");
  });

  it("repeats a direct step that was running (harmless), and tells the final message once", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER, { suspended: true });
    const user = takedownUser(SPAMMER, { rooms: [] });
    const steps = user.steps.map((s) => (s.name === "restrict" ? { ...s, state: "running" as const, sendId: "x" } : s));
    await w.store.save(takedown([{ ...user, steps }], { ...ALL_OPTIONS, deactivate: false }));

    w.runner.resumeAll();
    await settled(w);
    expect(stored(w)).toMatchObject({ status: "finished", finalNotificationSent: true });

    w.restart().resumeAll();
    await settled(w);
    expect(w.notifier.finals).toHaveLength(1);
  });

  it("sends a final message owed by a finished takedown", async () => {
    const w = world();
    const user = takedownUser(SPAMMER);
    await w.store.save({ ...takedown([{ ...user, steps: user.steps.map((s) => ({ ...s, state: "done" as const })) }]), status: "finished" });

    w.runner.resumeAll();
    await settled(w);

    expect(w.notifier.finals).toHaveLength(1);
    expect(stored(w).finalNotificationSent).toBe(true);
    expect(w.admin.changesSent()).toEqual([]);
  });

  it("deactivates at once when the account was already deactivated before the crash recorded it", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER, { deactivated: true, erased: true });
    const user = takedownUser(SPAMMER);
    const steps = user.steps.map((s) => (s.name === "deactivate" ? { ...s, state: "running" as const, sendId: "x" } : { ...s, state: "done" as const }));
    await w.store.save(takedown([{ ...user, steps }]));

    w.runner.resumeAll();
    await settled(w);

    expect(w.admin.changesSent()).toEqual([]);
    expect(step(w, "deactivate")).toMatchObject({ state: "done", detail: "deactivated and erased" });
  });
});

describe("their rooms", () => {
  it("shuts down the rooms of the plan as one wave, and ends the step when the rooms' shutdowns ended", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [], ownRooms: ["!own1:example.org", "!own2:example.org"] })]));

    expect(w.waves.requests).toHaveLength(1);
    expect(w.waves.requests[0]).toMatchObject({
      kind: "shutdown",
      requester: "@mod:example.org",
      commandEventId: "$command",
      selection: { listed: ["!own1:example.org", "!own2:example.org"] },
      parameters: { block: true, purge: false, purgeWhen: "members-seen", quarantineMedia: true, takedownId: "t-000001", takedownUser: SPAMMER },
    });
    expect(step(w, "rooms")).toMatchObject({ state: "running", waveId: "w-000001" });
    expect(step(w, "deactivate")?.state).toBe("pending");

    w.waves.finish("w-000001", ["done", "failed"]);
    w.clock.advance(1_000);
    w.timers.ringAll();
    await settled(w);

    expect(step(w, "rooms")).toMatchObject({ state: "failed", count: 1, detail: "1 of 2 rooms shut down (wave w-000001), 1 not" });
    expect(step(w, "deactivate")?.state).toBe("done");
    expect(w.waves.requests).toHaveLength(1);
  });
});

describe("the board and the final message", () => {
  it("edits the board at most every two seconds, and tries the final message again until it is delivered", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.notifier.finalFails = 1;
    await started(w, takedown([takedownUser(SPAMMER)]));
    expect(w.notifier.edits).toHaveLength(0);
    w.clock.advance(2_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.notifier.edits).toHaveLength(1);

    await ended(w, redaction(w).id, "complete");
    expect(w.notifier.finals).toHaveLength(1);
    expect(stored(w).finalNotificationSent).toBe(false);

    w.clock.advance(30_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.notifier.finals).toHaveLength(2);
    expect(stored(w).finalNotificationSent).toBe(true);
  });

  it("knows a takedown's task by its parameters", () => {
    expect(isTakedownTask(sampleTask({ parameters: { takedownId: "t-1" } }))).toBe(true);
    expect(isTakedownTask(sampleTask({ parameters: { waveId: "w-1" } }))).toBe(false);
  });
});

describe("passes that meet each other", () => {
  it("never sends a step twice when a pass runs while the board is being posted", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    const posted = w.notifier.posted.bind(w.notifier);
    // The board's post takes a while: meanwhile another pass (another takedown's end, a timer) runs this one's steps.
    w.notifier.posted = async (record) => {
      w.runner.wake();
      await w.runner.idle();
      return posted(record);
    };

    await w.runner.start(takedown([takedownUser(SPAMMER)]));
    await settled(w);

    expect(w.admin.changesSent().filter((call) => call.method === "setSuspended")).toHaveLength(1);
    expect(w.book.requests).toHaveLength(1);
    expect(stored(w).boardEventId).toBe("$board-t-000001");
    expect(step(w, "redact")?.state).toBe("running");
  });

  it("does not hold one takedown's end back while another's final message is still being sent", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    let release: (done: boolean) => void = () => undefined;
    const finished = w.notifier.finished.bind(w.notifier);
    w.notifier.finished = (record) => {
      if (record.id === "t-000001") {
        w.notifier.finals.push(record);
        return new Promise<boolean>((resolve) => (release = resolve));
      }
      return finished(record);
    };
    await w.runner.start(takedown([takedownUser(SPAMMER, { rooms: [] })], ALL_OPTIONS, "t-000001"));
    await w.runner.idle();
    expect(w.notifier.finals.map((record) => record.id)).toEqual(["t-000001"]);

    w.admin.addAccount("@other:example.org");
    await w.runner.start(takedown([takedownUser("@other:example.org", { rooms: [] })], ALL_OPTIONS, "t-000002"));
    await w.runner.idle();
    await new Promise((resolve) => setImmediate(resolve));

    expect(w.notifier.finals.map((record) => record.id)).toEqual(["t-000001", "t-000002"]);
    expect(w.store.get("t-000002")?.finalNotificationSent).toBe(true);
    release(true);
    await w.runner.sent();
    expect(w.store.get("t-000001")?.finalNotificationSent).toBe(true);
  });
});

describe("when it looks again", () => {
  it("looks at a running job every second, and edits the board no more often than every two", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)]));
    expect(step(w, "redact")?.state).toBe("running");
    expect(w.timers.delays()).toEqual([1_000]);
    const saves = w.store.saves.length;

    // A look that finds the job still running stores nothing and edits nothing new.
    w.clock.advance(1_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.store.saves).toHaveLength(saves);
    expect(w.notifier.edits).toHaveLength(0);
    w.clock.advance(1_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.notifier.edits).toHaveLength(1);
    w.clock.advance(5_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.notifier.edits).toHaveLength(1);
    expect(w.store.saves).toHaveLength(saves);
  });

  it("puts a step off for five seconds, then ten, behind the board's next edit", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.accountFailures.push({ method: "setSuspended", error: adminError("rate-limited", 429) });
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    // The board is due first (the step is now running), the second try five seconds after the first.
    expect(w.timers.delays()).toEqual([2_000]);
    w.clock.advance(2_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.notifier.edits).toHaveLength(1);
    expect(w.timers.delays()).toEqual([3_000]);
    w.clock.advance(3_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.admin.changesSent()).toHaveLength(2);
    expect(w.timers.delays()).toEqual([10_000]);
  });

  it("wakes for the end of a takedown's own task only", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [], ownRooms: ["!own:example.org"] })]));
    w.waves.finish("w-000001", ["done"]);

    await w.runner.taskEnded(sampleTask({ parameters: { waveId: "w-000009" } }));
    await settled(w);
    expect(step(w, "rooms")?.state).toBe("running");

    await w.runner.taskEnded(sampleTask({ parameters: { takedownId: "t-000009" } }));
    await settled(w);
    expect(step(w, "rooms")?.state).toBe("done");
  });
});

describe("when something breaks", () => {
  it("looks again five seconds after a pass whose store could not be written, and resumes from what was stored", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await w.store.save(takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    w.store.failNextSave = true;

    w.runner.resumeAll();
    await settled(w);
    expect(w.logger.withMessage("a takedown pass failed; will look again")).toHaveLength(1);
    expect(step(w, "restrict")?.state).toBe("pending");
    expect(w.timers.delays()).toEqual([5_000]);

    w.clock.advance(5_000);
    w.timers.ringAll();
    await settled(w);
    expect(stored(w).status).toBe("finished");
    expect(step(w, "restrict")).toMatchObject({ state: "done", detail: "suspended" });
  });

  it("tries a step that threw again later, and fails it with what was thrown", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    let throws = 0;
    w.admin.setSuspended = () => {
      throws += 1;
      if (throws === 1) return Promise.reject(new Error("socket hang up"));
      // Not an Error (a library may throw anything): its text is used as it is.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point of the test
      return Promise.reject("plain refusal");
    };
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    expect(step(w, "restrict")?.state).toBe("running");
    expect(w.logger.withMessage("a takedown step threw; will try again")).toHaveLength(1);
    expect(w.logger.withMessage("takedown step put off")[0]).toMatchObject({ reason: "socket hang up", tries: 1 });

    for (let tries = 2; tries <= 6; tries++) {
      w.clock.advance(5_000 * 2 ** (tries - 2));
      w.timers.ringAll();
      await settled(w);
    }
    expect(throws).toBe(6);
    expect(step(w, "restrict")).toMatchObject({ state: "failed", detail: "plain refusal" });
  });

  it("does nothing more once stopped: no pass, no timer, no task's end", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)]));
    const task = redaction(w);
    await w.runner.stop();
    expect(w.timers.count()).toBe(0);

    w.book.end(task.id, "complete");
    await w.runner.taskEnded(w.book.get(task.id) ?? task);
    w.runner.wake();
    await settled(w);
    expect(step(w, "redact")?.state).toBe("running");
  });

  it("leaves the other takedowns alone when stopped during a pass", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.addAccount("@other:example.org");
    await w.store.save(takedown([takedownUser(SPAMMER, { rooms: [] })], ALL_OPTIONS, "t-000001"));
    await w.store.save(takedown([takedownUser("@other:example.org", { rooms: [] })], ALL_OPTIONS, "t-000002"));
    const suspend = w.admin.setSuspended.bind(w.admin);
    let stopping: Promise<void> | undefined;
    w.admin.setSuspended = (userId, on) => {
      stopping ??= w.runner.stop();
      return suspend(userId, on);
    };

    w.runner.resumeAll();
    await settled(w);
    await stopping;

    expect(w.admin.changesSent().map((call) => call.userId)).not.toContain("@other:example.org");
    expect(w.store.get("t-000002")?.users[0]?.steps[0]?.state).toBe("pending");
  });

  it("keeps a takedown whose board could not be posted, without a board id", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.notifier.posted = (record) => {
      w.notifier.posts.push(record);
      return Promise.resolve(undefined);
    };
    const posted = await w.runner.start(takedown([takedownUser(SPAMMER)]));
    await settled(w);
    expect(posted).not.toHaveProperty("boardEventId");
    expect(stored(w)).not.toHaveProperty("boardEventId");
    expect(step(w, "restrict")?.state).toBe("done");
  });
});

describe("after a restart", () => {
  it("brings the board up to date on the first look, though nothing moved", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER)]));
    expect(step(w, "redact")?.state).toBe("running");
    expect(w.notifier.edits).toHaveLength(0);

    w.restart().resumeAll();
    await settled(w);

    expect(w.notifier.edits).toHaveLength(1);
    expect(w.book.requests).toHaveLength(1);
  });
});

describe("passes, timers and messages, looked at closely", () => {
  it("runs a pass woken during another right after it, never alongside it", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.addAccount("@other:example.org");
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [], ownRooms: ["!own:example.org"] })], { ...ALL_OPTIONS, deactivate: false }, "t-000001"));
    expect(step(w, "rooms")?.state).toBe("running");
    const suspend = w.admin.setSuspended.bind(w.admin);
    w.admin.setSuspended = (userId, on) => {
      if (userId === "@other:example.org") {
        // Meanwhile the first takedown's wave ends, and something wakes the runner.
        w.waves.finish("w-000001", ["done"]);
        w.runner.wake();
      }
      return suspend(userId, on);
    };
    await w.store.save(takedown([takedownUser("@other:example.org", { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }, "t-000002"));

    w.runner.wake();
    await settled(w);

    // No timer rang: the second pass ran because of the wake-up.
    expect(step(w, "rooms")?.state).toBe("done");
    expect(w.admin.changesSent().filter((call) => call.userId === "@other:example.org")).toHaveLength(1);
  });

  it("sets no timer once nothing is left to do", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    expect(stored(w)).toMatchObject({ status: "finished", finalNotificationSent: true });
    expect(w.timers.count()).toBe(0);
  });

  it("keeps a finished takedown's time of finishing when it only owes its final message", async () => {
    const w = world();
    const user = takedownUser(SPAMMER);
    await w.store.save({ ...takedown([{ ...user, steps: user.steps.map((s) => ({ ...s, state: "done" as const })) }]), status: "finished", finishedAt: 5 });
    w.clock.advance(60_000);
    w.runner.resumeAll();
    await settled(w);
    expect(stored(w)).toMatchObject({ finishedAt: 5, finalNotificationSent: true });
  });

  it("puts off one user's step without holding back another's, and gives each step its own send id", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.admin.addAccount("@other:example.org");
    w.admin.accountFailures.push({ method: "setSuspended", userId: SPAMMER, error: adminError("rate-limited", 429) });
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] }), takedownUser("@other:example.org", { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));

    expect(step(w, "restrict")?.state).toBe("running");
    expect(step(w, "media", "@other:example.org")?.state).toBe("done");
    const sendIds = stored(w).users.flatMap((user) => user.steps.flatMap((s) => (s.sendId === undefined ? [] : [s.sendId])));
    expect(sendIds.length).toBeGreaterThan(2);
    for (const sendId of sendIds) expect(sendId).toMatch(/^t-000001-[0-9a-f]{8}$/);
    expect(new Set(sendIds).size).toBe(sendIds.length);
  });

  it("stores no count for a step that counted nothing", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    expect(step(w, "restrict")).not.toHaveProperty("count");
    expect(step(w, "media")).toHaveProperty("count", 0);
  });

  it("tries an undelivered final message again after thirty seconds, not at the next pass", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.notifier.finalFails = 1;
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    expect(w.notifier.finals).toHaveLength(1);
    expect(w.timers.delays()).toEqual([30_000]);

    w.clock.advance(29_000);
    w.runner.wake();
    await settled(w);
    expect(w.notifier.finals).toHaveLength(1);

    w.clock.advance(1_000);
    w.timers.ringAll();
    await settled(w);
    expect(w.notifier.finals).toHaveLength(2);
    expect(stored(w).finalNotificationSent).toBe(true);
  });

  it("resolves stop() only once the pass running has ended", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    await w.store.save(takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    const suspend = w.admin.setSuspended.bind(w.admin);
    let stopping: Promise<void> | undefined;
    let reached: () => void = () => undefined;
    const inStep = new Promise<void>((resolve) => (reached = resolve));
    w.admin.setSuspended = async (userId, on) => {
      stopping = w.runner.stop();
      reached();
      // The homeserver takes a while to answer.
      await new Promise((resolve) => setImmediate(resolve));
      return suspend(userId, on);
    };

    w.runner.resumeAll();
    await inStep;
    await stopping;

    expect(step(w, "restrict")).toMatchObject({ state: "done", detail: "suspended" });
  });

  it("resolves sent() only once the final message was delivered and recorded", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    const finished = w.notifier.finished.bind(w.notifier);
    w.notifier.finished = async (record) => {
      await new Promise((resolve) => setImmediate(resolve));
      return finished(record);
    };
    await w.runner.start(takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    await w.runner.idle();

    await w.runner.sent();

    expect(stored(w).finalNotificationSent).toBe(true);
  });

  it("stores nothing more at the start when the board could not be posted", async () => {
    const w = world();
    w.admin.addAccount(SPAMMER);
    w.notifier.posted = () => Promise.resolve(undefined);
    await started(w, takedown([takedownUser(SPAMMER, { rooms: [] })], { ...ALL_OPTIONS, deactivate: false }));
    // The record as started, then the first step running: no second copy of the record in between.
    expect(w.store.saves[1]?.users[0]?.steps[0]?.state).toBe("running");
  });
});
