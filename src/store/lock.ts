import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { err, ok, type Result } from "../util/result.js";
import { DatabaseSync } from "./sqlite.js";

export const LOCK_FILE = "warden.lock";
export const OWNER_FILE = "warden.pid";

const ownerSchema = z.object({ pid: z.number(), host: z.string(), startedAt: z.string() });
export type LockOwner = z.infer<typeof ownerSchema>;

export interface DataDirectoryLock {
  readonly owner: LockOwner;
  /** Lets the next Warden in; also happens by itself when the process ends, however it ends. */
  release(): void;
}

/**
 * One Warden per data directory. The lock is an operating-system lock that SQLite takes on
 * `warden.lock` (an empty database) and holds until this process closes it or dies: the kernel
 * drops it with the process, so a Warden killed with SIGKILL or a power cut never leaves a lock
 * that blocks the next start, and no guess from a pid that may have been reused is needed.
 * `warden.pid` only says who holds it, so a second Warden can name the running one.
 *
 * Needs a local file system (as SQLite's WAL mode does anyway); on a network share locks may
 * not reach other machines.
 */
export function lockDataDirectory(dataDirectory: string, now: () => number = Date.now): Result<DataDirectoryLock, string> {
  const lockPath = join(dataDirectory, LOCK_FILE);
  const ownerPath = join(dataDirectory, OWNER_FILE);
  let holder: DatabaseSync | undefined;
  try {
    holder = new DatabaseSync(lockPath);
    // No waiting: a held lock means another Warden runs now, and it will not let go.
    // Stryker disable next-line StringLiteral: equivalent — node:sqlite's busy timeout is already 0 (no busy handler)
    holder.exec("PRAGMA busy_timeout = 0");
    // A write transaction that is never committed: its RESERVED lock is the data directory's lock.
    holder.exec("BEGIN IMMEDIATE");
  } catch (error) {
    holder?.close();
    if (!isBusy(error)) return err(`could not lock the data directory ${dataDirectory}: ${error instanceof Error ? error.message : String(error)}`);
    return err(describeHeld(dataDirectory, readOwner(ownerPath)));
  }
  const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date(now()).toISOString() };
  try {
    const temporary = `${ownerPath}.tmp-${String(process.pid)}`;
    writeFileSync(temporary, `${JSON.stringify(owner)}\n`, { mode: 0o600 });
    renameSync(temporary, ownerPath);
  } catch (error) {
    holder.close();
    return err(`could not write ${ownerPath}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const held = holder;
  return ok({
    owner,
    release() {
      if (!held.isOpen) return;
      // Removed first: once the lock is gone a new Warden may already write its own.
      rmSync(ownerPath, { force: true });
      held.close();
    },
  });
}

/** The refusal a second Warden prints: who runs, and what to do. */
function describeHeld(dataDirectory: string, owner: LockOwner | undefined): string {
  const who = owner === undefined ? "another process (it has not written warden.pid yet)" : `process ${owner.pid} on ${owner.host}, started ${owner.startedAt}`;
  return (
    `another Warden is already running on the data directory ${dataDirectory}: ${who}. ` +
    "Only one Warden may use a data directory; stop that one first, or give this one its own dataDirectory."
  );
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const parsed = ownerSchema.safeParse(JSON.parse(readFileSync(path, "utf8")));
    return parsed.success ? parsed.data : undefined;
    // Stryker disable next-line BlockStatement: equivalent — an empty catch returns undefined as well
  } catch {
    return undefined;
  }
}

function isBusy(error: unknown): boolean {
  return error !== null && typeof error === "object" && "errcode" in error && typeof error.errcode === "number" && (error.errcode & 0xff) === 5;
}
