import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { AtomicJsonWriter, loadJsonFile } from "../../../src/storage/jsonFile.js";
import { TaskStore } from "../../../src/tasks/store.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";

const schema = z.object({ version: z.literal(1), items: z.array(z.string()) });
const DAMAGED_SUFFIX = ".damaged-2025-01-15T12-00-00-000Z";

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-json-"));
});

afterEach(() => {
  vi.restoreAllMocks();
  rmSync(directory, { recursive: true, force: true });
});

function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
}

describe("AtomicJsonWriter", () => {
  it("writes JSON that reads back, readable only by its owner", async () => {
    const path = join(directory, "nested", "state.json");
    const writer = new AtomicJsonWriter(path);

    await writer.write({ version: 1, items: ["a", "b"] });

    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ version: 1, items: ["a", "b"] });
    expect(statSync(path).mode & 0o077).toBe(0);
    expect(readdirSync(join(directory, "nested"))).toEqual(["state.json"]);
  });

  it("applies writes in the order they were asked for", async () => {
    const path = join(directory, "state.json");
    const writer = new AtomicJsonWriter(path);

    await Promise.all([1, 2, 3, 4, 5].map((n) => writer.write({ version: 1, items: [String(n)] })));

    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ version: 1, items: ["5"] });
  });

  it("when the temporary file cannot be created, the previous content stays and later writes still work", async () => {
    const path = join(directory, "state.json");
    const writer = new AtomicJsonWriter(path);
    await writer.write({ version: 1, items: ["old"] });
    // Whatever sits at the next temporary name (here a directory) makes creating it fail.
    const blocked = `${path}.tmp-${String(process.pid)}-1`;
    mkdirSync(blocked);

    await expect(writer.write({ version: 1, items: ["new"] })).rejects.toThrow();

    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ version: 1, items: ["old"] });
    await writer.write({ version: 1, items: ["newer"] });
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({ version: 1, items: ["newer"] });
  });

  it("when the disk fills up halfway through a write, the previous content stays intact", async () => {
    const path = join(directory, "state.json");
    const writer = new AtomicJsonWriter(path);
    await writer.write({ version: 1, items: ["old"] });
    const handlePrototype = await fileHandlePrototype();
    vi.spyOn(handlePrototype, "writeFile").mockImplementationOnce(async function (this: FileHandle, data) {
      const text = asText(data);
      await this.write(text.slice(0, Math.floor(text.length / 2)));
      throw enospc();
    });

    await expect(writer.write({ version: 1, items: ["a much longer new content that does not fit"] })).rejects.toThrow("ENOSPC");

    expect(readFileSync(path, "utf8")).toBe(`${JSON.stringify({ version: 1, items: ["old"] }, null, 2)}\n`);
  });

  it("a failed write leaves no half-written temporary file behind", async () => {
    const path = join(directory, "state.json");
    const writer = new AtomicJsonWriter(path);
    await writer.write({ version: 1, items: ["old"] });
    const handlePrototype = await fileHandlePrototype();
    vi.spyOn(handlePrototype, "writeFile").mockImplementationOnce(async function (this: FileHandle, data) {
      await this.write(asText(data).slice(0, 5));
      throw enospc();
    });

    await expect(writer.write({ version: 1, items: ["new"] })).rejects.toThrow("ENOSPC");

    // On a full disk every retry would otherwise add another partial file.
    expect(readdirSync(directory)).toEqual(["state.json"]);
  });
});

function asText(data: unknown): string {
  if (typeof data !== "string") throw new Error("AtomicJsonWriter was expected to write text");
  return data;
}

/** FileHandle is not exported as a value; take its prototype from a handle. */
async function fileHandlePrototype(): Promise<FileHandle> {
  const probe = await open(join(directory, "probe"), "w");
  await probe.close();
  rmSync(join(directory, "probe"));
  return Object.getPrototypeOf(probe) as FileHandle;
}

describe("loadJsonFile", () => {
  it("loads a valid file", () => {
    const path = join(directory, "state.json");
    writeFileSync(path, JSON.stringify({ version: 1, items: ["x"] }));

    expect(loadJsonFile(path, schema, () => FIXED_NOW)).toEqual({ kind: "loaded", value: { version: 1, items: ["x"] } });
  });

  it("reports a missing file as missing", () => {
    expect(loadJsonFile(join(directory, "absent.json"), schema, () => FIXED_NOW)).toEqual({ kind: "missing" });
  });

  it("keeps a truncated file aside as damaged and removes it from its place", () => {
    const path = join(directory, "state.json");
    const truncated = '{"version": 1, "items": ["a", "b';
    writeFileSync(path, truncated);

    const outcome = loadJsonFile(path, schema, () => FIXED_NOW);

    expect(outcome).toMatchObject({ kind: "damaged", path, keptAt: `${path}${DAMAGED_SUFFIX}` });
    expect(outcome.kind === "damaged" ? outcome.reason : "").toMatch(/JSON/);
    expect(existsSync(path)).toBe(false);
    expect(readFileSync(`${path}${DAMAGED_SUFFIX}`, "utf8")).toBe(truncated);
  });

  it("keeps aside a file that is JSON but not the expected shape, naming where it differs", () => {
    const path = join(directory, "state.json");
    writeFileSync(path, JSON.stringify({ version: 1, items: ["a", 7] }));

    const outcome = loadJsonFile(path, schema, () => FIXED_NOW);

    expect(outcome).toMatchObject({ kind: "damaged", keptAt: `${path}${DAMAGED_SUFFIX}` });
    expect(outcome.kind === "damaged" ? outcome.reason : "").toContain("items.1");
    expect(existsSync(path)).toBe(false);
  });

  it("an empty file (a crash of a non-atomic writer) is damaged, not a crash", () => {
    const path = join(directory, "state.json");
    writeFileSync(path, "");

    expect(loadJsonFile(path, schema, () => FIXED_NOW).kind).toBe("damaged");
    expect(existsSync(`${path}${DAMAGED_SUFFIX}`)).toBe(true);
  });
});

describe("TaskStore on a damaged tasks.json", () => {
  it("starts empty, keeps the damaged file, and writes a fresh one", async () => {
    const path = join(directory, "tasks.json");
    writeFileSync(path, '{"version":1,"tasks":[{"id":"p-1"');

    const store = new TaskStore(directory, () => FIXED_NOW);

    expect(store.loadOutcome).toMatchObject({ kind: "damaged", keptAt: `${path}${DAMAGED_SUFFIX}` });
    expect(store.all()).toEqual([]);
    await store.insert({
      id: "p-000001",
      kind: "purge",
      roomId: "!r:example.org",
      roomLabel: "!r:example.org",
      requester: "@mod:example.org",
      managementRoomId: "!mgmt:example.org",
      commandEventId: "$c",
      parameters: {},
      status: "submitting",
      createdAt: FIXED_NOW,
      statusChangedAt: FIXED_NOW,
      finalNotificationSent: false,
    });
    expect(new TaskStore(directory, () => FIXED_NOW).all().map((task) => task.id)).toEqual(["p-000001"]);
    expect(readFileSync(`${path}${DAMAGED_SUFFIX}`, "utf8")).toBe('{"version":1,"tasks":[{"id":"p-1"');
  });
});
