import { describe, expect, it } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { SqliteTakedownStore } from "../../../src/store/takedowns.js";
import { initialSteps } from "../../../src/tasks/takedowns/runner.js";
import type { TakedownRecord } from "../../../src/model/takedowns.js";
import { freshDirectory } from "./storeTestKit.js";

const DAY = 24 * 3600 * 1000;

function record(id: string, change: Partial<TakedownRecord> = {}): TakedownRecord {
  return {
    id,
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: `$command-${id}`,
    options: { deactivate: true, erase: false, rooms: false, quarantineMedia: true, reason: "spam" },
    users: [{ userId: "@spammer:example.org", local: true, rooms: ["!a:example.org"], ownRooms: [], steps: initialSteps({ rooms: "not asked (--rooms)" }) }],
    leftOut: [{ userId: "@mod:example.org", why: "a moderator on Warden's allowlist" }],
    status: "running",
    createdAt: 1_000,
    finalNotificationSent: false,
    ...change,
  };
}

describe("the takedown store", () => {
  it("keeps every takedown whole across a reopen, and knows which are unfinished", async () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    const store = new SqliteTakedownStore(database, 2_000);
    const running = record("t-000001");
    const owed = record("t-000002", { status: "finished", finishedAt: 1_500, createdAt: 1_100 });
    const done = record("t-000003", { status: "finished", finalNotificationSent: true, createdAt: 1_200, boardEventId: "$board" });
    await store.save(running);
    await store.save(owed);
    await store.save(done);
    await store.save({
      ...running,
      users: running.users.map((user) => ({ ...user, steps: user.steps.map((step) => (step.name === "restrict" ? { ...step, state: "done" as const, detail: "suspended", finishedAt: 1_700 } : step)) })),
    });
    database.close();

    const reopened = new SqliteTakedownStore(WardenDatabase.open(directory), 2_000);

    expect(reopened.get("t-000001")?.users[0]?.steps[0]).toEqual({ name: "restrict", state: "done", detail: "suspended", finishedAt: 1_700 });
    expect(reopened.get("t-000003")).toEqual(done);
    expect(reopened.unfinished().map((entry) => entry.id)).toEqual(["t-000001", "t-000002"]);
    expect(reopened.recent(2).map((entry) => entry.id)).toEqual(["t-000003", "t-000002"]);
    expect(reopened.startedBy("$command-t-000002")).toBe(true);
    expect(reopened.startedBy("$other")).toBe(false);
    expect(reopened.newId()).toMatch(/^t-[0-9a-f]{6}$/);
  });

  it("counts a running takedown as unfinished whatever its final-message flag says", async () => {
    const store = new SqliteTakedownStore(WardenDatabase.open(freshDirectory()), 2_000);
    await store.save(record("t-000001", { finalNotificationSent: true }));
    expect(store.unfinished().map((entry) => entry.id)).toEqual(["t-000001"]);
  });

  it("deletes finished takedowns after 30 days, keeps running ones, and leaves a row it cannot read alone", async () => {
    const directory = freshDirectory();
    const database = WardenDatabase.open(directory);
    const store = new SqliteTakedownStore(database, 0);
    await store.save(record("t-000001", { status: "finished", finalNotificationSent: true, createdAt: 0 }));
    await store.save(record("t-000002", { createdAt: 0 }));
    // Finished a day short of the 30: kept.
    await store.save(record("t-000003", { status: "finished", finalNotificationSent: true, createdAt: 2 * DAY }));
    database.statement("INSERT INTO takedowns (id, command_event_id, status, created_at, record) VALUES ('t-newer', '$x', 'running', 0, '{\"id\":\"t-newer\",\"future\":true}')").run();
    database.statement("INSERT INTO takedowns (id, command_event_id, status, created_at, record) VALUES ('t-broken', '$y', 'running', 0, 'not json')").run();
    database.close();

    const reopenedDatabase = WardenDatabase.open(directory);
    const reopened = new SqliteTakedownStore(reopenedDatabase, 31 * DAY);

    expect(reopened.get("t-000001")).toBeUndefined();
    expect(reopened.get("t-000002")?.status).toBe("running");
    expect(reopened.get("t-000003")?.status).toBe("finished");
    expect(reopened.get("t-newer")).toBeUndefined();
    expect(reopenedDatabase.statement("SELECT id FROM takedowns ORDER BY id").all().map((row) => row["id"])).toEqual(["t-000002", "t-000003", "t-broken", "t-newer"]);
  });
});
