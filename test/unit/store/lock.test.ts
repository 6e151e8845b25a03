import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCK_FILE, lockDataDirectory, OWNER_FILE } from "../../../src/store/lock.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { freshDirectory } from "./storeTestKit.js";

/**
 * A separate process that takes the data directory's lock as lockDataDirectory does (an open
 * write transaction on warden.lock, then warden.pid), says "locked" and waits to be killed.
 */
const HOLDER = `
const { DatabaseSync } = require("node:sqlite");
const { writeFileSync } = require("node:fs");
const [lockPath, ownerPath] = process.argv.slice(1);
const db = new DatabaseSync(lockPath);
db.exec("PRAGMA busy_timeout = 0");
db.exec("BEGIN IMMEDIATE");
writeFileSync(ownerPath, JSON.stringify({ pid: process.pid, host: "holder-host", startedAt: "2025-01-15T11:00:00.000Z" }));
process.stdout.write("locked\\n");
setInterval(() => {}, 1000);
`;

function startHolder(directory: string): Promise<{ pid: number; kill: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--no-warnings", "-e", HOLDER, join(directory, LOCK_FILE), join(directory, OWNER_FILE)], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.stdout.once("data", () => {
      resolve({
        pid: child.pid ?? -1,
        kill: () =>
          new Promise((done) => {
            child.once("exit", () => {
              done();
            });
            child.kill("SIGKILL");
          }),
      });
    });
  });
}

describe("one Warden per data directory", () => {
  it("takes the lock and says who holds it in warden.pid", () => {
    const directory = freshDirectory();

    const lock = lockDataDirectory(directory, () => FIXED_NOW);

    const owner = { pid: process.pid, host: hostname(), startedAt: "2025-01-15T12:00:00.000Z" };
    expect(lock.ok && lock.value.owner).toEqual(owner);
    expect(JSON.parse(readFileSync(join(directory, OWNER_FILE), "utf8"))).toEqual(owner);
  });

  it("refuses a second Warden, naming the process that runs", () => {
    const directory = freshDirectory();
    const first = lockDataDirectory(directory);

    const second = lockDataDirectory(directory);

    expect(first.ok).toBe(true);
    expect(second.ok).toBe(false);
    expect(!second.ok && second.error).toContain(`another Warden is already running on the data directory ${directory}: process ${process.pid} on ${hostname()}`);
  });

  it("lets the next Warden in once released, and removes warden.pid", () => {
    const directory = freshDirectory();
    const first = lockDataDirectory(directory);
    if (first.ok) first.value.release();

    expect(existsSync(join(directory, OWNER_FILE))).toBe(false);
    expect(lockDataDirectory(directory).ok).toBe(true);
  });

  it("is not blocked by warden.pid left behind by a process that is gone", () => {
    const directory = freshDirectory();
    writeFileSync(join(directory, OWNER_FILE), JSON.stringify({ pid: 2_147_483_000, host: hostname(), startedAt: "2024-01-01T00:00:00.000Z" }));

    const lock = lockDataDirectory(directory);

    expect(lock.ok).toBe(true);
    expect(JSON.parse(readFileSync(join(directory, OWNER_FILE), "utf8"))).toMatchObject({ pid: process.pid });
  });

  it("refuses while another process holds it, and takes it over the moment that process is killed", async () => {
    const directory = freshDirectory();
    const holder = await startHolder(directory);

    const refused = lockDataDirectory(directory);
    await holder.kill();
    const taken = lockDataDirectory(directory);

    expect(!refused.ok && refused.error).toContain(`process ${holder.pid} on holder-host, started 2025-01-15T11:00:00.000Z`);
    expect(taken.ok).toBe(true);
  });
});
