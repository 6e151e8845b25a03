import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HandledEvents } from "../../../src/storage/handledEvents.js";

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-handled-"));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

describe("HandledEvents", () => {
  it("the first claim of an event wins, the second is refused", async () => {
    const handled = new HandledEvents(directory);

    const first = await handled.claim("$command-1");
    const second = await handled.claim("$command-1");

    expect([first, second]).toEqual([true, false]);
  });

  it("remembers claims across a restart", async () => {
    const before = new HandledEvents(directory);
    await before.claim("$command-1");

    const after = new HandledEvents(directory);

    expect(after.loadOutcome.kind).toBe("loaded");
    expect(await after.claim("$command-1")).toBe(false);
    expect(await after.claim("$command-2")).toBe(true);
  });

  it("has the claim on disk by the time claim() resolves", async () => {
    const handled = new HandledEvents(directory);

    await handled.claim("$command-1");

    expect(JSON.parse(readFileSync(join(directory, "handled-events.json"), "utf8"))).toEqual({ eventIds: ["$command-1"], unanswered: [] });
  });

  it("two claims of one event racing each other: exactly one wins", async () => {
    const handled = new HandledEvents(directory);

    const results = await Promise.all([handled.claim("$dup"), handled.claim("$dup"), handled.claim("$other")]);

    expect(results).toEqual([true, false, true]);
    expect(await new HandledEvents(directory).claim("$dup")).toBe(false);
  });

  it("a damaged file is kept aside and claims start afresh", async () => {
    const path = join(directory, "handled-events.json");
    writeFileSync(path, '{"eventIds": ["$a", ');

    const handled = new HandledEvents(directory);

    expect(handled.loadOutcome.kind).toBe("damaged");
    const keptAt = handled.loadOutcome.kind === "damaged" ? handled.loadOutcome.keptAt : "";
    expect(existsSync(keptAt)).toBe(true);
    expect(await handled.claim("$a")).toBe(true);
  });

  it("keeps a received command as unanswered across a restart until it is answered", async () => {
    const event = { eventId: "$c", roomId: "!m:example.org", sender: "@mod:example.org", type: "m.room.message", content: { body: "!status" }, originServerTs: 5 };
    const before = new HandledEvents(directory);
    expect(await before.receive(event)).toBe(true);

    const afterCrash = new HandledEvents(directory);
    expect(await afterCrash.unanswered()).toEqual([event]);
    expect(await afterCrash.receive(event)).toBe(false);
    await afterCrash.answered("$c");

    const afterAnswer = new HandledEvents(directory);
    expect(await afterAnswer.unanswered()).toEqual([]);
    expect(await afterAnswer.receive(event)).toBe(false);
  });

  it("reads a file written before unanswered commands were kept", async () => {
    writeFileSync(join(directory, "handled-events.json"), JSON.stringify({ eventIds: ["$old"] }));
    const handled = new HandledEvents(directory);
    expect(handled.loadOutcome.kind).toBe("loaded");
    expect(await handled.unanswered()).toEqual([]);
    expect(await handled.claim("$old")).toBe(false);
  });
});
