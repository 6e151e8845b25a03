import { describe, expect, it } from "vitest";
import type { Command } from "../../../../src/commands/spec.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { CONTEXT } from "../../../fakes/runCommand.js";
import { splitWords } from "../../../../src/commands/parsing/words.js";

async function preview(fakes: ReturnType<typeof commandFakes>, text: string) {
  const purge = fakes.table.find((command) => command.name === "purge") as Command;
  const words = splitWords(text, purge);
  if (!words.ok) throw new Error("words");
  const args = purge.parse(words.value);
  if (!args.ok || purge.confirmation === undefined) throw new Error("parse");
  return { kind: purge.confirmation.kind(args.value), preview: await purge.confirmation.preview(args.value, CONTEXT) };
}

describe("!purge preview", () => {
  it("is of kind purge without --local and purge-local with it, and names the event a time point resolves to and an estimate", async () => {
    const fakes = commandFakes();
    fakes.admin.addRoom("!spam:example.org", "Spam <b>room</b>", 10, 4);
    fakes.admin.addEvent("$old", "!spam:example.org", FIXED_NOW - 3 * 86_400_000);
    fakes.admin.addEvent("$new", "!spam:example.org", FIXED_NOW - 3_600_000);
    fakes.admin.messages.set("!spam:example.org", [
      { event_id: "$create", type: "m.room.create", sender: "@a:x", origin_server_ts: FIXED_NOW - 4 * 86_400_000, state_key: "" },
      { event_id: "$old", type: "m.room.message", sender: "@a:x", origin_server_ts: FIXED_NOW - 3 * 86_400_000 },
      { event_id: "$new", type: "m.room.message", sender: "@a:x", origin_server_ts: FIXED_NOW - 3_600_000 },
    ]);
    expect((await preview(fakes, "!spam:example.org 1d")).kind).toBe("purge");
    const { kind, preview: shown } = await preview(fakes, "!spam:example.org 1d --local");
    expect(kind).toBe("purge-local");
    const lines = shown.ok ? shown.value.lines.map((line) => `${line.label}: ${line.value}`) : [];
    expect(lines).toContain('Room: "Spam <b>room</b>" !spam:example.org');
    expect(lines).toContain("Members: 10 joined, 4 of them local");
    expect(lines).toContain("Kept from: $new, sent 2025-01-15 11:00:00 UTC (this room's first event at or after the point)");
    expect(lines.find((line) => line.startsWith("Estimate"))).toContain("about 1 events to remove");
  });

  it("says when nothing was sent after the point: only the room's newest event stays", async () => {
    const fakes = commandFakes();
    fakes.admin.addRoom("!spam:example.org", "Spam", 10, 4);
    fakes.admin.addEvent("$older", "!spam:example.org", FIXED_NOW - 4 * 86_400_000);
    fakes.admin.addEvent("$old", "!spam:example.org", FIXED_NOW - 3 * 86_400_000);
    const { preview: shown } = await preview(fakes, "!spam:example.org 1d --local");
    const lines = shown.ok ? shown.value.lines.map((line) => `${line.label}: ${line.value}`) : [];
    expect(lines).toContain(
      "Kept: only the room's newest event $old, sent 2025-01-12 12:00:00 UTC: nothing was sent after the point, and Synapse always keeps a room's newest event",
    );
    expect(lines.find((line) => line.startsWith("Removes history before"))).toContain("its newest event stays");
  });

  it("refuses the preview when the room's only event before the point is its newest, which Synapse keeps", async () => {
    const fakes = commandFakes();
    fakes.admin.addRoom("!spam:example.org", "Spam", 10, 4);
    fakes.admin.addEvent("$old", "!spam:example.org", FIXED_NOW - 3 * 86_400_000);
    const { preview: shown } = await preview(fakes, "!spam:example.org 1d --local");
    expect(!shown.ok && shown.error.reason).toBe(
      "nothing to purge: only the newest event of !spam:example.org ($old, sent 2025-01-12 12:00:00 UTC), which Synapse always keeps, lies before 2025-01-14 12:00:00 UTC.",
    );
  });

  it("refuses the preview of an unknown room like the run would", async () => {
    const { preview: shown } = await preview(commandFakes(), "!nowhere:example.org 1d --local");
    expect(!shown.ok && shown.error.reason).toContain("not a room this homeserver knows");
  });
});
