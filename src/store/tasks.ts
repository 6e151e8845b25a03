import { randomBytes } from "node:crypto";
import { FINAL_STATUSES, isFinal, taskRecordSchema, type TaskKind, type TaskRecord } from "../tasks/types.js";
import type { WardenDatabase } from "./database.js";
import { settled } from "./errors.js";
import type { SQLInputValue } from "./sqlite.js";

const ID_PREFIXES: Record<TaskKind, string> = { purge: "p", shutdown: "s", redact: "r" };

/** Finished tasks older than this are deleted; !status shows the last 7 days. */
const KEEP_FINISHED_MS = 30 * 24 * 3600 * 1000;
/** Pruning is a scan; once an hour is plenty for a 30-day window. */
const PRUNE_EVERY_MS = 3600 * 1000;

const COLUMNS = [
  "id",
  "kind",
  "room_id",
  "room_label",
  "requester",
  "management_room_id",
  "command_event_id",
  "progress_event_id",
  "homeserver_task_id",
  "parameters",
  "status",
  "created_at",
  "status_changed_at",
  "finished_at",
  "reason",
  "outcome",
  "final_notification_sent",
  "warned_stuck_at",
] as const;

const INSERT = `INSERT INTO tasks (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((column) => `:${column}`).join(", ")})`;
// Stryker disable next-line MethodExpression,ConditionalExpression: equivalent — without the filter the row's id is set to the same id, which changes nothing
const UPDATE = `UPDATE tasks SET ${COLUMNS.filter((column) => column !== "id")
  .map((column) => `${column} = :${column}`)
  .join(", ")} WHERE id = :id`;

/**
 * A task and its place among tasks created in the same millisecond: its row's rowid, the order
 * it was stored in, which is also how the database orders ties (a task read back from the
 * database keeps its place).
 */
interface Slot {
  task: TaskRecord;
  readonly seq: number;
}

function precedes(a: Slot, b: Slot): boolean {
  return a.task.createdAt < b.task.createdAt || (a.task.createdAt === b.task.createdAt && a.seq < b.seq);
}

/**
 * Slots oldest first, kept in order as they come, so a read copies and never sorts. A slot is
 * found by its createdAt: it must leave a list before its task's createdAt changes.
 */
class CreationOrder {
  private slots: Slot[] = [];

  get size(): number {
    return this.slots.length;
  }

  add(slot: Slot): void {
    const last = this.slots.at(-1);
    // Tasks are nearly always created in order: the usual insert appends.
    if (last === undefined || precedes(last, slot)) this.slots.push(slot);
    else this.slots.splice(this.position(slot), 0, slot);
  }

  remove(slot: Slot): void {
    const index = this.position(slot);
    if (this.slots[index] === slot) this.slots.splice(index, 1);
  }

  tasks(): TaskRecord[] {
    return this.slots.map((slot) => slot.task);
  }

  find(test: (task: TaskRecord) => boolean): TaskRecord | undefined {
    return this.slots.find((slot) => test(slot.task))?.task;
  }

  /** The index of the first slot that does not precede `slot`: where it is, or goes. */
  private position(slot: Slot): number {
    let low = 0;
    let high = this.slots.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (precedes(this.slots[middle] as Slot, slot)) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Whose job or final notification is not done (what `unfinished()` lists). */
function isUnsettled(task: TaskRecord): boolean {
  return !isFinal(task.status) || !task.finalNotificationSent;
}

/**
 * Which tasks ran on their own, not as a room of a wave nor a user of a takedown (those are
 * shown as their wave or takedown). The same text as migration 10's partial index, so that
 * SQLite reads that index and not every row; a row whose parameters are not JSON counts.
 */
export const ON_THEIR_OWN = `CASE WHEN json_valid(parameters) THEN json_type(parameters, '$.waveId') IS NOT 'text' AND json_type(parameters, '$.takedownId') IS NOT 'text' ELSE 1 END`;

/**
 * Every task Warden has started, in the `tasks` table. Readers get a copy, which changes only
 * after the database has committed the change: a failed write rejects the returned promise and
 * leaves both as they were.
 *
 * A wave keeps a task per room for 30 days: a hundred thousand of them while a few are in
 * flight. Memory holds only the tasks whose job or final notification is not done (what is read
 * per launch and per wave pass: the unfinished ones, a room's job in flight), each list kept with
 * every write so no read sorts; a task done with is read from the database when asked for, so
 * memory does not grow with the tasks a wave leaves behind.
 */
export class TaskStore {
  /** The unsettled tasks (job or final notification not done), by id. */
  private readonly tasks = new Map<string, Slot>();
  /** Tasks whose job or final notification is not done. */
  private readonly unsettled = new CreationOrder();
  /** Tasks whose job is not done. */
  private readonly inFlight = new CreationOrder();
  /** Tasks whose job is not done, by the room (or user) they act on; a room with none has no entry. */
  private readonly inFlightByRoom = new Map<string, CreationOrder>();
  /** Rows that could not be read as tasks (written by a newer Warden, or edited by hand). */
  readonly unreadable: readonly string[];
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly database: WardenDatabase,
    private readonly now: () => number,
    /** A candidate task id; a test gives a sequence to see a taken one skipped. */
    private readonly candidateId: (kind: TaskKind) => string = (kind) => `${ID_PREFIXES[kind]}-${randomBytes(3).toString("hex")}`,
  ) {
    this.prune();
    const unreadable: string[] = [];
    // Every row is read once, to name the unreadable ones at the start; only the unsettled stay.
    for (const row of database.statement(`SELECT rowid AS seq, * FROM tasks ORDER BY created_at, rowid`).all()) {
      const task = rowToTask(row);
      if (task === undefined) unreadable.push(String(row["id"]));
      else this.add(task, Number(row["seq"]));
    }
    this.unreadable = unreadable;
  }

  /** Short, unambiguous ids that a moderator can type: "p-3f9a2c" (p- purge, s- shutdown, r- redact). */
  newId(kind: TaskKind): string {
    for (;;) {
      const id = this.candidateId(kind);
      // The database has every task, the ones memory holds too.
      if (this.database.statement(`SELECT 1 AS found FROM tasks WHERE id = ?`).get(id) === undefined) return id;
    }
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id)?.task ?? this.readSlot(id)?.task;
  }

  /**
   * Every task, oldest first (by createdAt; tasks created in the same millisecond in the order
   * they were stored). Reads every row: for a test or a rare look, never for what runs per room.
   */
  all(): TaskRecord[] {
    return readable(this.database.statement(`SELECT * FROM tasks ORDER BY created_at, rowid`).all());
  }

  /** Whether a command started a task: its messages answer it, so a restart must not run it again. */
  startedBy(commandEventId: string): boolean {
    return this.database.statement(`SELECT 1 AS found FROM tasks WHERE command_event_id = ? LIMIT 1`).get(commandEventId) !== undefined;
  }

  /** The tasks that follow a job of the homeserver's (by its id), oldest first. */
  ofHomeserverJob(jobId: string): string[] {
    return this.database
      .statement(`SELECT id FROM tasks WHERE homeserver_task_id = ? ORDER BY created_at, rowid`)
      .all(jobId)
      .map((row) => String(row["id"]));
  }

  /** The oldest task a takedown handed over with this send id (parameters.takedownSend). */
  ofTakedownSend(sendId: string): TaskRecord | undefined {
    const rows = this.database
      .statement(`SELECT * FROM tasks WHERE CASE WHEN json_valid(parameters) THEN json_extract(parameters, '$.takedownSend') END = ? ORDER BY created_at, rowid`)
      .all(sendId);
    return readable(rows)[0];
  }

  /**
   * The tasks that ran on their own (not in a wave, nor a takedown) and ended at or after `since`
   * (by finishedAt, else createdAt), oldest first: !status's recent list, read by an index.
   */
  endedOnTheirOwn(since: number): TaskRecord[] {
    const finalStatuses = [...FINAL_STATUSES];
    return readable(
      this.database
        .statement(
          `SELECT * FROM tasks WHERE ${ON_THEIR_OWN} AND status IN (${finalStatuses.map(() => "?").join(", ")}) AND coalesce(finished_at, created_at) >= ? ORDER BY created_at, rowid`,
        )
        .all(...finalStatuses, since),
    );
  }

  /** How many tasks memory holds: the unsettled ones, whatever the number done with. */
  held(): number {
    return this.tasks.size;
  }

  /** Tasks whose job or whose final notification is not done: these are resumed after a restart. Oldest first. */
  unfinished(): TaskRecord[] {
    return this.unsettled.tasks();
  }

  /** Tasks whose job is not done (status not final), oldest first: the jobs Warden has in flight. */
  running(): TaskRecord[] {
    return this.inFlight.tasks();
  }

  /** An unfinished task of this kind on this room, so a second identical command joins it instead. The oldest if several. */
  inFlightFor(kind: TaskKind, roomId: string): TaskRecord | undefined {
    return this.inFlightByRoom.get(roomId)?.find((task) => task.kind === kind);
  }

  /**
   * Stores a task before returning (the write is synchronous, so a check-then-insert by the
   * caller cannot race a second one); the promise tells whether it was stored.
   */
  insert(task: TaskRecord): Promise<void> {
    return settled(() => {
      const { seq, pruned } = this.database.transaction(`task ${task.id}`, () => {
        const stored = insertTaskRow(this.database, task);
        if (this.now() - this.lastPrune < PRUNE_EVERY_MS) return { seq: stored, pruned: false };
        this.deleteOld();
        return { seq: stored, pruned: true };
      });
      // Only once committed: a rolled-back prune is tried again at the next insert.
      if (pruned) this.lastPrune = this.now();
      this.add(task, seq);
    });
  }

  update(id: string, change: Partial<TaskRecord>): Promise<TaskRecord> {
    const slot = this.tasks.get(id);
    const stored = slot ?? this.readSlot(id);
    if (stored === undefined) return Promise.reject(new Error(`task ${id} is not in the store`));
    const next: TaskRecord = { ...stored.task, ...change };
    return settled(() => {
      this.database.run(`the change to task ${id}`, () => this.database.statement(UPDATE).run(taskToRow(next)));
      if (slot !== undefined) this.replace(slot, next);
      // A task done with and changed again (say, a late note) stays in the database only, unless the change unsettles it.
      else this.add(next, stored.seq);
      return next;
    });
  }

  private readSlot(id: string): Slot | undefined {
    const row = this.database.statement(`SELECT rowid AS seq, * FROM tasks WHERE id = ?`).get(id);
    const task = row === undefined ? undefined : rowToTask(row);
    return task === undefined ? undefined : { task, seq: Number(row?.["seq"]) };
  }

  /** Deletes finished, notified tasks older than the keep window. */
  private prune(): void {
    this.deleteOld();
    this.lastPrune = this.now();
  }

  /**
   * The deletion alone, also inside an insert's transaction. Memory has nothing to forget: a task
   * deleted is done with, and memory holds only the unsettled.
   */
  private deleteOld(): void {
    const cutoff = this.now() - KEEP_FINISHED_MS;
    const finalStatuses = [...FINAL_STATUSES];
    this.database.transaction("the removal of old tasks", () =>
      this.database
        .statement(`DELETE FROM tasks WHERE final_notification_sent = 1 AND status IN (${finalStatuses.map(() => "?").join(", ")}) AND coalesce(finished_at, created_at) < ?`)
        .run(...finalStatuses, cutoff),
    );
  }

  /** Into memory, if it is unsettled: a task stored already done with is read when asked for. */
  private add(task: TaskRecord, seq: number): void {
    if (!isUnsettled(task)) return;
    const slot: Slot = { task, seq };
    this.tasks.set(task.id, slot);
    for (const list of this.listsOf(task)) list.add(slot);
  }

  /**
   * Puts the changed task in its slot, moving it between lists only where its status, room or
   * createdAt changed; a task now settled leaves memory.
   */
  private replace(slot: Slot, next: TaskRecord): void {
    const before = this.listsOf(slot.task);
    const after = this.listsOf(next);
    const moved = slot.task.createdAt !== next.createdAt;
    for (const list of before) if (moved || !after.includes(list)) list.remove(slot);
    const roomId = slot.task.roomId;
    slot.task = next;
    for (const list of after) if (moved || !before.includes(list)) list.add(slot);
    if (!isUnsettled(next)) this.tasks.delete(next.id);
    this.dropIfEmpty(roomId);
  }

  /** The lists a task belongs in; a room's list is made when first needed. */
  private listsOf(task: TaskRecord): CreationOrder[] {
    const lists: CreationOrder[] = [];
    if (isUnsettled(task)) lists.push(this.unsettled);
    if (!isFinal(task.status)) {
      let room = this.inFlightByRoom.get(task.roomId);
      if (room === undefined) {
        room = new CreationOrder();
        this.inFlightByRoom.set(task.roomId, room);
      }
      lists.push(this.inFlight, room);
    }
    return lists;
  }

  /** A room whose jobs all ended leaves the map: over a 100,000-room wave, empty lists would add up. */
  private dropIfEmpty(roomId: string): void {
    if (this.inFlightByRoom.get(roomId)?.size === 0) this.inFlightByRoom.delete(roomId);
  }
}

/** Inserts one task row and gives its rowid; also used by the import of tasks.json. */
export function insertTaskRow(database: WardenDatabase, task: TaskRecord): number {
  return Number(database.statement(INSERT).run(taskToRow(task)).lastInsertRowid);
}

function taskToRow(task: TaskRecord): Record<string, SQLInputValue> {
  return {
    id: task.id,
    kind: task.kind,
    room_id: task.roomId,
    room_label: task.roomLabel,
    requester: task.requester,
    management_room_id: task.managementRoomId,
    command_event_id: task.commandEventId,
    progress_event_id: task.progressEventId ?? null,
    homeserver_task_id: task.homeserverTaskId ?? null,
    parameters: JSON.stringify(task.parameters),
    status: task.status,
    created_at: task.createdAt,
    status_changed_at: task.statusChangedAt,
    finished_at: task.finishedAt ?? null,
    reason: task.reason ?? null,
    outcome: task.outcome === undefined ? null : JSON.stringify(task.outcome),
    final_notification_sent: task.finalNotificationSent ? 1 : 0,
    warned_stuck_at: task.warnedStuckAt ?? null,
  };
}

/** A row back into a checked TaskRecord; undefined when it does not fit the schema. */
function rowToTask(row: Record<string, unknown>): TaskRecord | undefined {
  const optional = (key: string, column: string): Record<string, unknown> => (row[column] === null ? {} : { [key]: row[column] });
  try {
    const parsed = taskRecordSchema.safeParse({
      id: row["id"],
      kind: row["kind"],
      roomId: row["room_id"],
      roomLabel: row["room_label"],
      requester: row["requester"],
      managementRoomId: row["management_room_id"],
      commandEventId: row["command_event_id"],
      ...optional("progressEventId", "progress_event_id"),
      ...optional("homeserverTaskId", "homeserver_task_id"),
      parameters: parseJson(row["parameters"]),
      status: row["status"],
      createdAt: row["created_at"],
      statusChangedAt: row["status_changed_at"],
      ...optional("finishedAt", "finished_at"),
      ...optional("reason", "reason"),
      ...(row["outcome"] === null ? {} : { outcome: parseJson(row["outcome"]) }),
      finalNotificationSent: row["final_notification_sent"] === 1,
      ...optional("warnedStuckAt", "warned_stuck_at"),
    });
    return parsed.success ? parsed.data : undefined;
  } catch {
    // Unparseable JSON in parameters or outcome.
    return undefined;
  }
}

/** The rows that read as tasks, in their order; an unreadable one was named at the start. */
function readable(rows: readonly Record<string, unknown>[]): TaskRecord[] {
  return rows.flatMap((row) => rowToTask(row) ?? []);
}

function parseJson(column: unknown): unknown {
  return typeof column === "string" ? (JSON.parse(column) as unknown) : column;
}
