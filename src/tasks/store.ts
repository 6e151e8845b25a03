// The task store moved to src/store/tasks.ts with the rest of the database; this name stays so
// the tracker, launcher and commands keep importing it from here.
export { TaskStore } from "../store/tasks.js";
