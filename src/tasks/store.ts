import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { AtomicJsonWriter, loadJsonFile, type LoadOutcome } from "../storage/jsonFile.js";
import { isFinal, taskFileSchema, type TaskKind, type TaskRecord } from "./types.js";

const ID_PREFIXES: Record<TaskKind, string> = { purge: "p", shutdown: "s", redact: "r" };

/** Finished tasks older than this are dropped from the file; !status shows the last 7 days. */
const KEEP_FINISHED_MS = 30 * 24 * 3600 * 1000;

/**
 * Every task Warden has started, kept in dataDirectory/tasks.json. The in-memory copy is the
 * truth for readers; each change is flushed atomically before the caller goes on.
 */
export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly writer: AtomicJsonWriter;
  readonly loadOutcome: LoadOutcome<unknown>;

  constructor(dataDirectory: string, private readonly now: () => number) {
    const path = join(dataDirectory, "tasks.json");
    const loaded = loadJsonFile(path, taskFileSchema, now);
    this.loadOutcome = loaded;
    if (loaded.kind === "loaded") for (const task of loaded.value.tasks) this.tasks.set(task.id, task);
    this.writer = new AtomicJsonWriter(path);
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

  /** Adds a task synchronously (callers rely on that to avoid racing duplicates), then flushes it. */
  insert(task: TaskRecord): Promise<void> {
    this.tasks.set(task.id, task);
    return this.flush();
  }

  async update(id: string, change: Partial<TaskRecord>): Promise<TaskRecord> {
    const current = this.tasks.get(id);
    if (current === undefined) throw new Error(`task ${id} is not in the store`);
    const next: TaskRecord = { ...current, ...change };
    this.tasks.set(id, next);
    await this.flush();
    return next;
  }

  private flush(): Promise<void> {
    const cutoff = this.now() - KEEP_FINISHED_MS;
    for (const [id, task] of this.tasks) {
      if (isFinal(task.status) && task.finalNotificationSent && (task.finishedAt ?? task.createdAt) < cutoff) this.tasks.delete(id);
    }
    return this.writer.write({ version: 1, tasks: this.all() });
  }
}
