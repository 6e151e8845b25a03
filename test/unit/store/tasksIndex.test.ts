import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WardenDatabase } from "../../../src/store/database.js";
import { ON_THEIR_OWN, TaskStore } from "../../../src/store/tasks.js";
import { isFinal, TASK_KINDS, TASK_STATUSES, type TaskKind, type TaskRecord, type TaskStatus } from "../../../src/tasks/types.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { freshDirectory, makeReadOnly } from "./storeTestKit.js";

const DAY = 86_400_000;
const ROOMS = ["!a:x", "!b:x", "!c:x"];
const IDS = ["s-000001", "s-000002", "s-000003", "p-000004", "p-000005", "r-000006", "s-000007", "p-000008"];
const opened: WardenDatabase[] = [];

afterEach(() => {
  for (const database of opened.splice(0)) database.close();
});

function openDatabase(): WardenDatabase {
  const database = WardenDatabase.open(freshDirectory());
  opened.push(database);
  return database;
}

function task(id: string, change: Partial<TaskRecord> = {}): TaskRecord {
  return {
    id,
    kind: "shutdown",
    roomId: "!a:x",
    roomLabel: "!a:x",
    requester: "@mod:x",
    managementRoomId: "!mgmt:x",
    commandEventId: `$command-${id}`,
    parameters: {},
    status: "scheduled",
    createdAt: FIXED_NOW,
    statusChangedAt: FIXED_NOW,
    finalNotificationSent: false,
    ...change,
  };
}

/**
 * What the store answered before it kept lists: every read sorted all tasks by createdAt, ties in
 * the order the tasks were stored (a map keeps it: an id deleted and stored again goes last, as
 * its new row does), and filtered that.
 */
class BruteForce {
  tasks = new Map<string, TaskRecord>();
  lastPrune: number;

  constructor(now: number) {
    this.lastPrune = now;
  }

  all(): TaskRecord[] {
    return [...this.tasks.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  unfinished(): TaskRecord[] {
    return this.all().filter((entry) => !isFinal(entry.status) || !entry.finalNotificationSent);
  }

  running(): TaskRecord[] {
    return this.all().filter((entry) => !isFinal(entry.status));
  }

  inFlightFor(kind: TaskKind, roomId: string): TaskRecord | undefined {
    return this.all().find((entry) => entry.kind === kind && entry.roomId === roomId && !isFinal(entry.status));
  }

  prune(now: number): void {
    for (const [id, entry] of this.tasks) {
      if (entry.finalNotificationSent && isFinal(entry.status) && (entry.finishedAt ?? entry.createdAt) < now - 30 * DAY) this.tasks.delete(id);
    }
    this.lastPrune = now;
  }
}

function expectSame(store: TaskStore, model: BruteForce): void {
  expect(store.all()).toEqual(model.all());
  expect(store.unfinished()).toEqual(model.unfinished());
  expect(store.running()).toEqual(model.running());
  for (const kind of TASK_KINDS) for (const roomId of ROOMS) expect(store.inFlightFor(kind, roomId)).toEqual(model.inFlightFor(kind, roomId));
  for (const id of IDS) expect(store.get(id)).toEqual(model.tasks.get(id));
  expectSameLookups(store, model);
}

const JOBS = ["job-1", "job-2"];
const PARAMETERS: Record<string, string | number>[] = [{}, { waveId: "w-1" }, { takedownId: "t-1" }, { waveId: 3 }, { takedownSend: "x-1" }, { takedownSend: "x-1", takedownId: "t-1" }];

/** What memory no longer holds is read by an index: the same answers as a scan of every task. */
function expectSameLookups(store: TaskStore, model: BruteForce): void {
  const all = model.all();
  expect(store.held()).toBe(model.unfinished().length);
  const onTheirOwn = (entry: TaskRecord): boolean => typeof entry.parameters["waveId"] !== "string" && typeof entry.parameters["takedownId"] !== "string";
  for (const since of [FIXED_NOW - 1, FIXED_NOW, FIXED_NOW + DAY]) {
    expect(store.endedOnTheirOwn(since)).toEqual(all.filter((entry) => onTheirOwn(entry) && isFinal(entry.status) && (entry.finishedAt ?? entry.createdAt) >= since));
  }
  for (const id of IDS) expect(store.startedBy(`$command-${id}`)).toBe(model.tasks.has(id));
  for (const job of JOBS) expect(store.ofHomeserverJob(job)).toEqual(all.filter((entry) => entry.homeserverTaskId === job).map((entry) => entry.id));
  expect(store.ofTakedownSend("x-1")).toEqual(all.find((entry) => entry.parameters["takedownSend"] === "x-1"));
}

const status = fc.constantFrom<TaskStatus>(...TASK_STATUSES);
const kind = fc.constantFrom<TaskKind>(...TASK_KINDS);
const roomId = fc.constantFrom(...ROOMS);
/** Mostly in order (ties included: the clock only moves on "advance"), sometimes out of order. */
const createdOffset = fc.constantFrom(0, 0, 0, 1, 5, -1, -3_600_000, -2 * DAY);
/** One write in six fails (the database turned read-only for it). */
const failing = fc.integer({ min: 0, max: 5 }).map((draw) => draw === 0);

type Operation =
  | {
      readonly op: "insert";
      readonly id: string;
      readonly offset: number;
      readonly kind: TaskKind;
      readonly roomId: string;
      readonly status: TaskStatus;
      readonly notified: boolean;
      readonly failing: boolean;
      readonly parameters?: Record<string, string | number>;
      readonly job?: string;
    }
  | { readonly op: "update"; readonly id: string; readonly change: Partial<TaskRecord>; readonly failing: boolean }
  | { readonly op: "advance"; readonly ms: number }
  | { readonly op: "reopen" };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  {
    arbitrary: fc.record(
      {
        op: fc.constant("insert" as const),
        id: fc.constantFrom(...IDS),
        offset: createdOffset,
        kind,
        roomId,
        status,
        notified: fc.boolean(),
        failing,
        parameters: fc.constantFrom(...PARAMETERS),
        job: fc.constantFrom(...JOBS),
      },
      { requiredKeys: ["op", "id", "offset", "kind", "roomId", "status", "notified", "failing"] },
    ),
    weight: 5,
  },
  {
    arbitrary: fc.record({
      op: fc.constant("update" as const),
      id: fc.constantFrom(...IDS),
      change: fc.record(
        { status, finalNotificationSent: fc.boolean(), roomId, kind, createdAt: fc.constantFrom(FIXED_NOW - 1, FIXED_NOW, FIXED_NOW + 7), finishedAt: fc.constantFrom(FIXED_NOW - 1, FIXED_NOW + DAY) },
        { requiredKeys: [] },
      ),
      failing,
    }),
    weight: 6,
  },
  { arbitrary: fc.record({ op: fc.constant("advance" as const), ms: fc.constantFrom(1, 30 * 60_000, 61 * 60_000, 31 * DAY) }), weight: 2 },
  { arbitrary: fc.constant({ op: "reopen" as const }), weight: 1 },
);

describe("TaskStore lists", () => {
  it("answer all, unfinished, running, inFlightFor and get as a sort and scan of every task would, over random inserts, updates, prunes, failed writes and restarts", async () => {
    // One database for every run, emptied at its start: opening one per run would be most of the test's time.
    const database = openDatabase();
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 40 }), async (operations) => {
        database.statement("DELETE FROM tasks").run();
        let clock = FIXED_NOW;
        const now = (): number => clock;
        let store = new TaskStore(database, now);
        const model = new BruteForce(clock);
        for (const step of operations) {
          if (step.op === "advance") clock += step.ms;
          else if (step.op === "reopen") {
            store = new TaskStore(database, now);
            model.prune(clock);
            // Tasks created in the same millisecond keep the order they were stored in (their rowid) across a restart.
          } else if (step.op === "insert") {
            const finished = isFinal(step.status);
            const record = task(step.id, {
              kind: step.kind,
              roomId: step.roomId,
              status: step.status,
              createdAt: clock + step.offset,
              finalNotificationSent: step.notified,
              ...(finished ? { finishedAt: clock } : {}),
              ...(step.parameters === undefined ? {} : { parameters: step.parameters }),
              ...(step.job === undefined ? {} : { homeserverTaskId: step.job }),
            });
            const known = model.tasks.has(step.id);
            if (step.failing) database.statement("PRAGMA query_only = ON").run();
            const outcome = await store.insert(record).then(
              () => "stored",
              () => "rejected",
            );
            if (step.failing) database.statement("PRAGMA query_only = OFF").run();
            // A taken id is refused by the database (a pruned one is free again).
            expect(outcome).toBe(step.failing || known ? "rejected" : "stored");
            if (outcome === "stored") {
              if (clock - model.lastPrune >= 3_600_000) model.prune(clock);
              model.tasks.set(step.id, record);
            }
          } else {
            const current = model.tasks.get(step.id);
            if (step.failing) database.statement("PRAGMA query_only = ON").run();
            const outcome = await store.update(step.id, step.change).then(
              () => "stored",
              () => "rejected",
            );
            if (step.failing) database.statement("PRAGMA query_only = OFF").run();
            expect(outcome).toBe(step.failing || current === undefined ? "rejected" : "stored");
            if (outcome === "stored" && current !== undefined) model.tasks.set(step.id, { ...current, ...step.change });
          }
          expectSame(store, model);
        }
      }),
      { numRuns: 150 },
    );
  });

  it("keep creation order when a task is stored out of order or its createdAt changes, ties in the order stored", async () => {
    const store = new TaskStore(openDatabase(), () => FIXED_NOW);
    await store.insert(task("s-000001", { createdAt: 10 }));
    await store.insert(task("s-000002", { createdAt: 5 }));
    await store.insert(task("s-000003", { createdAt: 10 }));
    await store.insert(task("s-000004", { createdAt: 7, roomId: "!b:x" }));
    expect(store.all().map((entry) => entry.id)).toEqual(["s-000002", "s-000004", "s-000001", "s-000003"]);

    await store.update("s-000002", { createdAt: 10 });
    await store.update("s-000003", { createdAt: 1 });

    expect(store.all().map((entry) => entry.id)).toEqual(["s-000003", "s-000004", "s-000001", "s-000002"]);
    expect(store.running().map((entry) => entry.id)).toEqual(["s-000003", "s-000004", "s-000001", "s-000002"]);
    expect(store.inFlightFor("shutdown", "!a:x")?.id).toBe("s-000003");
  });

  it("give the oldest job in flight on a room, and none once the room's jobs ended or moved", async () => {
    const store = new TaskStore(openDatabase(), () => FIXED_NOW);
    await store.insert(task("s-000001", { createdAt: 20 }));
    await store.insert(task("s-000002", { createdAt: 10 }));
    await store.insert(task("p-000003", { kind: "purge", createdAt: 5 }));
    expect(store.inFlightFor("shutdown", "!a:x")?.id).toBe("s-000002");

    await store.update("s-000002", { status: "complete" });
    expect(store.inFlightFor("shutdown", "!a:x")?.id).toBe("s-000001");
    await store.update("s-000001", { roomId: "!b:x" });
    expect(store.inFlightFor("shutdown", "!a:x")).toBeUndefined();
    expect(store.inFlightFor("shutdown", "!b:x")?.id).toBe("s-000001");
    expect(store.inFlightFor("purge", "!a:x")?.id).toBe("p-000003");
    expect(store.unfinished().map((entry) => entry.id)).toEqual(["p-000003", "s-000002", "s-000001"]);
    expect(store.running().map((entry) => entry.id)).toEqual(["p-000003", "s-000001"]);
  });

  it("keep every list as it was when a write fails", async () => {
    const database = openDatabase();
    const store = new TaskStore(database, () => FIXED_NOW);
    await store.insert(task("s-000001", { createdAt: 1 }));
    await store.insert(task("s-000002", { createdAt: 2, status: "complete", finishedAt: 2 }));
    makeReadOnly(database);

    await expect(store.update("s-000001", { status: "failed", finalNotificationSent: true, roomId: "!b:x", createdAt: 3 })).rejects.toThrow(/read-only/);
    await expect(store.update("s-000002", { finalNotificationSent: true })).rejects.toThrow(/read-only/);
    await expect(store.insert(task("s-000003", { createdAt: 0 }))).rejects.toThrow(/read-only/);

    expect(store.all().map((entry) => entry.id)).toEqual(["s-000001", "s-000002"]);
    expect(store.running().map((entry) => entry.id)).toEqual(["s-000001"]);
    expect(store.unfinished().map((entry) => entry.id)).toEqual(["s-000001", "s-000002"]);
    expect(store.inFlightFor("shutdown", "!a:x")?.id).toBe("s-000001");
    expect(store.inFlightFor("shutdown", "!b:x")).toBeUndefined();
  });

  it("forget pruned tasks in every list, and only once the insert that pruned them committed", async () => {
    let clock = FIXED_NOW;
    const database = openDatabase();
    const store = new TaskStore(database, () => clock);
    await store.insert(task("s-old", { status: "complete", finishedAt: FIXED_NOW - 31 * DAY, createdAt: FIXED_NOW - 32 * DAY, finalNotificationSent: true }));
    await store.insert(task("s-running", { createdAt: FIXED_NOW - 40 * DAY }));
    clock += 2 * 3_600_000;
    // The insert's transaction fails after its work ran, the old task's deletion included: all of it is rolled back.
    const transaction = database.transaction.bind(database);
    const failAtCommit = vi.spyOn(database, "transaction").mockImplementation(<T>(what: string, work: () => T): T =>
      transaction(what, () => {
        const result = work();
        if (what === "task s-new") throw new Error("the disk went away at commit");
        return result;
      }),
    );

    await expect(store.insert(task("s-new", { createdAt: clock }))).rejects.toThrow(/could not record task s-new/);
    failAtCommit.mockRestore();

    expect(database.statement("SELECT id FROM tasks ORDER BY created_at").all().map((row) => row["id"])).toEqual(["s-running", "s-old"]);
    expect(store.all().map((entry) => entry.id)).toEqual(["s-running", "s-old"]);

    await store.insert(task("s-new", { createdAt: clock }));

    expect(store.all().map((entry) => entry.id)).toEqual(["s-running", "s-new"]);
    expect(store.running().map((entry) => entry.id)).toEqual(["s-running", "s-new"]);
    expect(store.unfinished().map((entry) => entry.id)).toEqual(["s-running", "s-new"]);
    expect(store.get("s-old")).toBeUndefined();
  });

  it("hand out copies: a caller's change to a list is not the store's", async () => {
    const store = new TaskStore(openDatabase(), () => FIXED_NOW);
    await store.insert(task("s-000001"));
    store.all().pop();
    store.running().pop();
    store.unfinished().pop();
    expect(store.all()).toHaveLength(1);
    expect(store.running()).toHaveLength(1);
    expect(store.unfinished()).toHaveLength(1);
  });

  it("read without sorting: each read copies a list kept in order", async () => {
    const store = new TaskStore(openDatabase(), () => FIXED_NOW);
    for (let index = 0; index < 20; index++) await store.insert(task(`s-${String(index).padStart(6, "0")}`, { createdAt: FIXED_NOW - index, roomId: ROOMS[index % 3] as string }));
    const sort = vi.spyOn(Array.prototype, "sort");
    const reads = [store.all(), store.unfinished(), store.running(), store.inFlightFor("shutdown", "!b:x")];
    const sorted = sort.mock.calls.length;
    sort.mockRestore();

    expect(sorted).toBe(0);
    expect(reads[0]).toEqual([...(reads[0] as TaskRecord[])].sort((a, b) => a.createdAt - b.createdAt));
    expect(reads[3]).toMatchObject({ id: "s-000019" });
  });
});

describe("TaskStore memory", () => {
  it("holds only the tasks not done with: those done with are read from the database, before and after a restart", async () => {
    const database = openDatabase();
    const store = new TaskStore(database, () => FIXED_NOW);
    const ids = Array.from({ length: 300 }, (_, index) => `p-${String(index).padStart(6, "0")}`);
    for (const id of ids) await store.insert(task(id, { kind: "purge", parameters: { waveId: "w-1" } }));
    expect(store.held()).toBe(300);

    for (const id of ids.slice(0, 299)) await store.update(id, { status: "complete", finishedAt: FIXED_NOW, finalNotificationSent: true });
    await store.update(ids[299] ?? "", { status: "failed", finishedAt: FIXED_NOW });

    expect(store.held()).toBe(1);
    expect(store.get(ids[0] ?? "")).toMatchObject({ id: ids[0], status: "complete", finalNotificationSent: true });
    expect(store.all()).toHaveLength(300);
    expect(store.unfinished().map((entry) => entry.id)).toEqual([ids[299]]);
    // A task done with, changed again, is written and stays out of memory; unsettled again, it is back.
    await store.update(ids[1] ?? "", { reason: "noted later" });
    expect(store.get(ids[1] ?? "")).toMatchObject({ reason: "noted later" });
    expect(store.held()).toBe(1);
    await store.update(ids[2] ?? "", { finalNotificationSent: false });
    expect(store.held()).toBe(2);
    expect(store.unfinished().map((entry) => entry.id)).toEqual([ids[2], ids[299]]);

    const again = new TaskStore(database, () => FIXED_NOW);
    expect(again.held()).toBe(2);
    expect(again.get(ids[3] ?? "")).toMatchObject({ status: "complete" });
    await expect(again.update("p-missing", { reason: "x" })).rejects.toThrow(/not in the store/);
  });

  it("a task stored done with is not held, and an id taken by one is not handed out again", async () => {
    const database = openDatabase();
    const candidates = ["s-aaaaaa", "s-bbbbbb", "s-cccccc"];
    const store = new TaskStore(database, () => FIXED_NOW, () => candidates.shift() ?? "none left");
    await store.insert(task("s-aaaaaa", { status: "complete", finishedAt: FIXED_NOW, finalNotificationSent: true }));
    await store.insert(task("s-bbbbbb"));
    expect(store.held()).toBe(1);
    expect(store.get("s-aaaaaa")).toMatchObject({ status: "complete" });
    expect(store.newId("shutdown")).toBe("s-cccccc");
  });

  it("reads the tasks that ran on their own by the partial index of migration 10, whatever a row's parameters", async () => {
    const database = openDatabase();
    const index = database.statement(`SELECT sql FROM sqlite_master WHERE name = 'tasks_on_their_own'`).get();
    expect(String(index?.["sql"])).toContain(ON_THEIR_OWN);
    const plan = database.statement(`EXPLAIN QUERY PLAN SELECT id FROM tasks WHERE ${ON_THEIR_OWN} AND status IN ('complete') AND coalesce(finished_at, created_at) >= ? ORDER BY created_at, rowid`).all(0);
    expect(plan.map((row) => String(row["detail"])).join(" ")).toContain("tasks_on_their_own");

    const store = new TaskStore(database, () => FIXED_NOW);
    await store.insert(task("s-000001", { status: "complete", finishedAt: FIXED_NOW }));
    // Edited by hand into something that is not JSON: the index and the insert do not fail on it.
    database.statement(`UPDATE tasks SET parameters = 'not json' WHERE id = 's-000001'`).run();
    await store.insert(task("s-000002", { status: "complete", finishedAt: FIXED_NOW }));
    expect(store.endedOnTheirOwn(0).map((entry) => entry.id)).toEqual(["s-000002"]);
    expect(new TaskStore(database, () => FIXED_NOW).unreadable).toEqual(["s-000001"]);
  });
});
