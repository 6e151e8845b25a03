import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lockDataDirectory, OWNER_FILE, type DataDirectoryLock } from "../../../src/store/lock.js";
import { freshDirectory } from "./storeTestKit.js";

function take(directory: string): DataDirectoryLock {
  const lock = lockDataDirectory(directory);
  if (!lock.ok) throw new Error(`expected the lock: ${lock.error}`);
  return lock.value;
}

describe("lockDataDirectory: what the moderator reads and what is left on disk", () => {
  it.skipIf(process.platform === "win32")("writes warden.pid readable by its owner only", () => {
    const directory = freshDirectory();

    take(directory);

    expect(statSync(join(directory, OWNER_FILE)).mode & 0o777).toBe(0o600);
  });

  it("tells a data directory that cannot be locked apart from one another Warden holds", () => {
    const directory = join(freshDirectory(), "does-not-exist");

    const lock = lockDataDirectory(directory);

    expect(lock.ok).toBe(false);
    const error = lock.ok ? "" : lock.error;
    expect(error).toMatch(new RegExp(`^could not lock the data directory ${directory}: .+`));
    expect(error).not.toContain("another Warden");
  });

  it("says who holds the lock and what to do, and says so when the holder has not written warden.pid", () => {
    const directory = freshDirectory();
    take(directory);
    rmSync(join(directory, OWNER_FILE));

    const second = lockDataDirectory(directory);

    expect(second.ok ? "" : second.error).toBe(
      `another Warden is already running on the data directory ${directory}: another process (it has not written warden.pid yet). ` +
        "Only one Warden may use a data directory; stop that one first, or give this one its own dataDirectory.",
    );
  });

  it("reads an unreadable warden.pid as a holder that has not written it yet", () => {
    const directory = freshDirectory();
    take(directory);
    writeFileSync(join(directory, OWNER_FILE), "not json");

    const second = lockDataDirectory(directory);

    expect(second.ok ? "" : second.error).toContain("another process (it has not written warden.pid yet)");
  });

  it("gives the lock back when warden.pid cannot be written, naming the file", () => {
    const directory = freshDirectory();
    const temporary = join(directory, `${OWNER_FILE}.tmp-${String(process.pid)}`);
    mkdirSync(temporary);

    const failed = lockDataDirectory(directory);
    rmSync(temporary, { recursive: true });
    const next = lockDataDirectory(directory);

    expect(failed.ok ? "" : failed.error).toMatch(new RegExp(`^could not write ${join(directory, OWNER_FILE)}: .+`));
    expect(next.ok).toBe(true);
  });

  it("a second release does nothing: it leaves the next Warden's warden.pid and lock alone", () => {
    const directory = freshDirectory();
    const first = take(directory);
    first.release();
    take(directory);

    expect(() => {
      first.release();
    }).not.toThrow();
    expect(existsSync(join(directory, OWNER_FILE))).toBe(true);
    expect(lockDataDirectory(directory).ok).toBe(false);
  });

  it("releases even when warden.pid was already removed by hand", () => {
    const directory = freshDirectory();
    const lock = take(directory);
    rmSync(join(directory, OWNER_FILE));

    expect(() => {
      lock.release();
    }).not.toThrow();
    expect(lockDataDirectory(directory).ok).toBe(true);
    expect(JSON.parse(readFileSync(join(directory, OWNER_FILE), "utf8"))).toMatchObject({ pid: process.pid });
  });
});
