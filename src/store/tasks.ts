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
 * Every task Warden has started, in the `tasks` table. Readers get a copy kept in memory, which
 * changes only after the database has committed the change: a failed write rejects the
 * returned promise and leaves both as they were.
 */
export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  /** Rows that could not be read as tasks (written by a newer Warden, or edited by hand). */
  readonly unreadable: readonly string[];
  private lastPrune = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly database: WardenDatabase,
    private readonly now: () => number,
  ) {
    this.prune();
    const unreadable: string[] = [];
    for (const row of database.statement(`SELECT * FROM tasks ORDER BY created_at`).all()) {
      const task = rowToTask(row);
      if (task === undefined) unreadable.push(String(row["id"]));
      else this.tasks.set(task.id, task);
    }
    this.unreadable = unreadable;
  }

  /** Short, unambiguous ids that a moderator can type: "p-3f9a2c" (p- purge, s- shutdown, r- redact). */
  newId(kind: TaskKind): string {
    for (;;) {
      const id = `${ID_PREFIXES[kind]}-${randomBytes(3).toString("hex")}`;
      if (!this.tasks.has(id)) return id;
    }
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  all(): TaskRecord[] {
    return [...this.tasks.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Tasks whose job or whose final notification is not done: these are resumed after a restart. */
  unfinished(): TaskRecord[] {
    return this.all().filter((task) => !isFinal(task.status) || !task.finalNotificationSent);
  }

  /** An unfinished task of this kind on this room, so a second identical command joins it instead. */
  inFlightFor(kind: TaskKind, roomId: string): TaskRecord | undefined {
    return this.all().find((task) => task.kind === kind && task.roomId === roomId && !isFinal(task.status));
  }

  /**
   * Stores a task before returning (the write is synchronous, so a check-then-insert by the
   * caller cannot race a second one); the promise tells whether it was stored.
   */
  insert(task: TaskRecord): Promise<void> {
    return settled(() => {
      this.database.transaction(`task ${task.id}`, () => {
        insertTaskRow(this.database, task);
        if (this.now() - this.lastPrune >= PRUNE_EVERY_MS) this.prune();
      });
      this.tasks.set(task.id, task);
    });
  }

  update(id: string, change: Partial<TaskRecord>): Promise<TaskRecord> {
    const current = this.tasks.get(id);
    if (current === undefined) return Promise.reject(new Error(`task ${id} is not in the store`));
    const next: TaskRecord = { ...current, ...change };
    return settled(() => {
      this.database.run(`the change to task ${id}`, () => this.database.statement(UPDATE).run(taskToRow(next)));
      this.tasks.set(id, next);
      return next;
    });
  }

  /** Deletes finished, notified tasks older than the keep window, then forgets them in memory. */
  private prune(): void {
    const cutoff = this.now() - KEEP_FINISHED_MS;
    const finalStatuses = [...FINAL_STATUSES];
    const removed = this.database.transaction("the removal of old tasks", () =>
      this.database
        .statement(
          `DELETE FROM tasks WHERE final_notification_sent = 1 AND status IN (${finalStatuses.map(() => "?").join(", ")}) AND coalesce(finished_at, created_at) < ? RETURNING id`,
        )
        .all(...finalStatuses, cutoff),
    );
    this.lastPrune = this.now();
    for (const row of removed) this.tasks.delete(String(row["id"]));
  }
}

/** Inserts one task row; also used by the import of tasks.json. */
export function insertTaskRow(database: WardenDatabase, task: TaskRecord): void {
  database.statement(INSERT).run(taskToRow(task));
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

function parseJson(column: unknown): unknown {
  return typeof column === "string" ? (JSON.parse(column) as unknown) : column;
}
