import { WardenDatabase } from "../../src/store/database.js";
import { TaskStore } from "../../src/store/tasks.js";

/** A TaskStore over `directory`'s database, as Warden opens it at start-up (a new connection each call). */
export function openTaskStore(directory: string, now: () => number): TaskStore {
  return new TaskStore(WardenDatabase.open(directory), now);
}
