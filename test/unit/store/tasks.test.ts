import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { TaskStore } from "../../../src/store/tasks.js";
import type { TaskRecord } from "../../../src/tasks/types.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { freshDirectory, insertUnreadableTask, makeFull, makeReadOnly } from "./storeTestKit.js";

const DAY = 86_400_000;
const now = (): number => FIXED_NOW;

function task(id: string, change: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    kind: "shutdown",
    roomId: "!room:example.org",
    roomLabel: "#room:example.org",
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: `$command-${id}`,
    parameters: { block: true, purge: true, notifyAs: "@bot:example.org", users: ["@a:x", "@b:x"] },
    status: "scheduled",
    createdAt: FIXED_NOW - 1000,
    statusChangedAt: FIXED_NOW - 1000,
    finalNotificationSent: false,
    ...change,
  };
}

describe("TaskStore", () => {
  it("keeps every field of a task, outcome included, across a restart", async () => {
    const directory = freshDirectory();
    const store = new TaskStore(WardenDatabase.open(directory), now);
    const finished = task("s-000001", {
      status: "complete",
      progressEventId: "$progress",
      homeserverTaskId: "delete-1",
      finishedAt: FIXED_NOW,
      reason: "done",
      outcome: { kicked_users: ["@a:x"], new_room_id: null, local_aliases: [] },
      finalNotificationSent: true,
      warnedStuckAt: FIXED_NOW - 500,
    });
    await store.insert(task("s-000002", { createdAt: FIXED_NOW - 10 }));
    await store.insert(task("s-000001"));
    await store.update("s-000001", finished);

    const reopened = new TaskStore(WardenDatabase.open(directory), now);

    expect(reopened.all()).toEqual([finished, task("s-000002", { createdAt: FIXED_NOW - 10 })]);
    expect(reopened.unfinished().map((entry) => entry.id)).toEqual(["s-000002"]);
    expect(reopened.inFlightFor("shutdown", "!room:example.org")?.id).toBe("s-000002");
  });

  it("has an inserted task readable before the promise settles, so check-then-insert cannot race", () => {
    const store = new TaskStore(WardenDatabase.open(freshDirectory()), now);

    void store.insert(task("s-000001"));

    expect(store.inFlightFor("shutdown", "!room:example.org")?.id).toBe("s-000001");
  });

  it("rejects an insert on a read-only database with the reason, and keeps nothing of it", async () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    const store = new TaskStore(database, now);
    makeReadOnly(database);

    await expect(store.insert(task("s-000001"))).rejects.toThrow("could not record task s-000001: the database is read-only");

    expect(store.get("s-000001")).toBeUndefined();
    expect(new TaskStore(WardenDatabase.open(directory), now).all()).toEqual([]);
  });

  it("rejects an update on a full disk, and memory keeps what the database has", async () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    const store = new TaskStore(database, now);
    await store.insert(task("s-000001"));
    makeFull(database);

    await expect(store.update("s-000001", { status: "failed", reason: "x".repeat(20_000) })).rejects.toMatchObject({
      name: "StoreError",
      reason: "the disk is full",
    });

    expect(store.get("s-000001")).toEqual(task("s-000001"));
    expect(new TaskStore(WardenDatabase.open(directory), now).get("s-000001")).toEqual(task("s-000001"));
  });

  it("rejects writes once the database is closed", async () => {
    const database = WardenDatabase.open(freshDirectory());
    const store = new TaskStore(database, now);
    await store.insert(task("s-000001"));
    database.close();

    await expect(store.update("s-000001", { status: "active" })).rejects.toThrow(/could not record the change to task s-000001/);
    expect(store.get("s-000001")?.status).toBe("scheduled");
  });

  it("drops finished, notified tasks after 30 days and keeps the rest", async () => {
    const directory = freshDirectory();
    const seed = new TaskStore(WardenDatabase.open(directory), () => FIXED_NOW - 40 * DAY);
    const old = { createdAt: FIXED_NOW - 40 * DAY, statusChangedAt: FIXED_NOW - 40 * DAY };
    await seed.insert(task("s-old-done", { ...old, status: "complete", finishedAt: FIXED_NOW - 31 * DAY, finalNotificationSent: true }));
    await seed.insert(task("s-old-unsent", { ...old, status: "complete", finishedAt: FIXED_NOW - 31 * DAY }));
    await seed.insert(task("s-old-running", old));
    await seed.insert(task("s-recent-done", { ...old, status: "failed", finishedAt: FIXED_NOW - 29 * DAY, finalNotificationSent: true }));

    const store = new TaskStore(WardenDatabase.open(directory), now);

    expect(store.all().map((entry) => entry.id).sort()).toEqual(["s-old-running", "s-old-unsent", "s-recent-done"]);
  });

  it("names rows it cannot read instead of failing", () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    insertUnreadableTask(database, "x-000001");

    const store = new TaskStore(database, now);

    expect(store.unreadable).toEqual(["x-000001"]);
    expect(store.all()).toEqual([]);
  });
});

describe("TaskStore: removing old tasks", () => {
  it("looks for old finished tasks at most once an hour, on an insert", async () => {
    let clock = FIXED_NOW;
    const store = new TaskStore(WardenDatabase.open(freshDirectory()), () => clock);
    await store.insert(task("s-old", { status: "complete", finishedAt: FIXED_NOW - 31 * DAY, finalNotificationSent: true }));
    clock += 59 * 60_000;
    await store.insert(task("s-000002"));
    expect(store.get("s-old")).toBeDefined();

    clock += 60_000;
    await store.insert(task("s-000003"));
    expect(store.get("s-old")).toBeUndefined();
  });
});
