import type { Logger } from "pino";
import type { AcceptanceNotifier } from "../tasks/launcher.js";
import type { TaskNotifier } from "../tasks/tracker.js";
import type { TaskRecord } from "../tasks/types.js";

/** What the wave engine needs to hear from the tracker. */
export interface TaskEndListener {
  /** Throws when the end could not be recorded; the tracker then calls again later. */
  taskEnded(task: TaskRecord): Promise<void>;
}

/**
 * A task a wave with a board started: its room gets no messages of its own, the wave's board
 * tells. A wave without a board (a single-room shutdown with a purge phase) speaks through its
 * tasks' own messages, as a single command does.
 */
export function isWaveTask(task: TaskRecord): boolean {
  return typeof task.parameters["waveId"] === "string" && task.parameters["waveBoard"] !== false;
}

/** A task whose messages another board gives: a wave's (see isWaveTask) or a takedown's (its redactions). */
function speaksThroughBoard(task: TaskRecord): boolean {
  return isWaveTask(task) || typeof task.parameters["takedownId"] === "string";
}

/**
 * Sits between the tracker and the chat notifier: a wave's tasks are told to the wave engine
 * instead of the room (one board per wave, not one message per room), and every task's end is
 * told to the engine too, since a wave room may have joined a job a single command started.
 */
export class WaveAwareTaskNotifier implements TaskNotifier, AcceptanceNotifier {
  private readonly listeners: TaskEndListener[] = [];

  constructor(
    private readonly inner: TaskNotifier & AcceptanceNotifier,
    private readonly log: Logger,
  ) {}

  /** The wave engine and the takedown runner are built after the launcher that needs this notifier, so they are attached afterwards. */
  attach(listener: TaskEndListener): void {
    this.listeners.push(listener);
  }

  accepted(task: TaskRecord): Promise<string | undefined> {
    return speaksThroughBoard(task) ? Promise.resolve(undefined) : this.inner.accepted(task);
  }

  progressed(task: TaskRecord): Promise<void> {
    return speaksThroughBoard(task) ? Promise.resolve() : this.inner.progressed(task);
  }

  async finished(task: TaskRecord): Promise<boolean> {
    try {
      for (const listener of this.listeners) await listener.taskEnded(task);
    } catch (error) {
      this.log.error({ err: error, taskId: task.id }, "could not record a task's end in its wave; will try again");
      return false;
    }
    return speaksThroughBoard(task) ? true : this.inner.finished(task);
  }

  stuck(task: TaskRecord): Promise<void> {
    if (!speaksThroughBoard(task)) return this.inner.stuck(task);
    // The wave's summary names the room if it ends badly; one warning per room would flood the room.
    this.log.warn({ taskId: task.id, waveId: task.parameters["waveId"], roomId: task.roomId }, "a wave's job looks stuck");
    return Promise.resolve();
  }
}
