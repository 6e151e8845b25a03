import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all. */
  error?: Error;
}

export interface SupervisedProcess {
  readonly pid: number;
  /** Settles once the process has gone; never rejects. */
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  /** `signal` (SIGTERM by default) to the whole group, SIGKILL after `graceMs`; resolves once the leader has exited. */
  stop(graceMs: number, signal?: NodeJS.Signals): Promise<void>;
}

export interface SpawnOptions {
  /** Run the child as this user and group (root only): PostgreSQL refuses to run as root. */
  uid?: number;
  gid?: number;
}

// Process-group ids of every child still alive, so the exit and signal handlers can reap them.
const liveGroups = new Set<number>();
// Synchronous clean-ups (removing a temporary directory) run after the children are killed.
const finalCleanups = new Set<() => void>();
let handlersInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we wanted.
  }
}

function killAllNow(): void {
  for (const pid of liveGroups) killGroup(pid, "SIGKILL");
  liveGroups.clear();
  for (const cleanup of finalCleanups) cleanup();
  finalCleanups.clear();
}

/**
 * Runs `cleanup` when Node exits or is stopped by SIGINT or SIGTERM, after every supervised
 * child has been killed: a signal that ends the process skips 'exit' handlers of its own.
 * It must be synchronous. Returns the function that cancels it, for a normal stop.
 */
export function atHarnessExit(cleanup: () => void): () => void {
  installReapers();
  finalCleanups.add(cleanup);
  return () => {
    finalCleanups.delete(cleanup);
  };
}

function installReapers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' handlers must be synchronous, so SIGKILL is the only reliable choice there.
  process.on("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    const onSignal = (): void => {
      killAllNow();
      process.removeListener(signal, onSignal);
      // Our listener replaced the default action; if nobody else handles the signal,
      // raise it again so the process still ends as the sender intended.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Starts `command` as the leader of a new process group with stdout and stderr appended to
 * `outputFile`. The child is unref'd: a forgotten server must not keep Node alive, and the
 * 'exit' handler kills it when Node goes.
 */
export function spawnSupervised(
  command: string,
  args: readonly string[],
  outputFile: string,
  cwd: string,
  options: SpawnOptions = {},
): SupervisedProcess {
  installReapers();
  const output = openSync(outputFile, "a");
  const child = spawn(command, args, { cwd, detached: true, stdio: ["ignore", output, output], ...options });
  closeSync(output);
  child.unref();

  let done = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code, signal });
    });
    child.once("error", (error) => {
      resolve({ code: null, signal: null, error });
    });
  }).then((status) => {
    done = true;
    if (child.pid !== undefined) liveGroups.delete(child.pid);
    return status;
  });

  const pid = child.pid ?? -1;
  if (pid > 0) liveGroups.add(pid);

  return {
    pid,
    exited,
    hasExited: () => done,
    stop: async (graceMs, signal = "SIGTERM") => {
      if (done || pid <= 0) return;
      killGroup(pid, signal);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => {
          resolve("timeout");
        }, graceMs);
      });
      const first = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (first === "timeout") {
        killGroup(pid, "SIGKILL");
        await exited;
      }
      // Sweep anything the leader left behind in its group; ESRCH if nothing did.
      killGroup(pid, "SIGKILL");
    },
  };
}
