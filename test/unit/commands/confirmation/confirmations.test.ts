import { describe, expect, it } from "vitest";
import { CLOSED_REMEMBERED, ConfirmationBook } from "../../../../src/commands/confirmation/confirmations.js";
import type { Command, CommandContext } from "../../../../src/commands/spec.js";
import type { RoomId, UserId } from "../../../../src/matrix/ids.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";
import { FixedClock } from "../../../fakes/fixedClock.js";

const REQUESTER = "@mod:example.org" as UserId;
const context: CommandContext = { requester: REQUESTER, commandEventId: "$cmd", managementRoomId: "!mgmt:example.org" as RoomId, prefix: "!" };

function setup() {
  const clock = new FixedClock();
  const book = new ConfirmationBook(clock, 60_000);
  const command = commandFakes().table.find((candidate) => candidate.name === "shutdown") as Command;
  return { clock, book, pending: book.open(command, { room: "x" }, context) };
}

describe("ConfirmationBook", () => {
  it("gives a confirmation to its requester once, within the window", () => {
    const { book, pending } = setup();
    expect(pending.id).toMatch(/^c-[0-9a-f]{6}$/);
    const taken = book.take(pending.id, REQUESTER);
    expect(taken.ok && taken.value.args).toEqual({ room: "x" });
    const again = book.take(pending.id, REQUESTER);
    expect(!again.ok && again.error.kind).toBe("already-confirmed");
  });

  it("refuses anyone else and keeps it waiting for the requester", () => {
    const { book, pending } = setup();
    const other = book.take(pending.id, "@other:example.org");
    expect(!other.ok && other.error.kind).toBe("not-requester");
    expect(book.take(pending.id, REQUESTER).ok).toBe(true);
  });

  it("expires after the window, and says so afterwards", () => {
    const { clock, book, pending } = setup();
    clock.set(clock.now() + 60_001);
    expect(book.expireDue().map((expired) => expired.id)).toEqual([pending.id]);
    const late = book.take(pending.id, REQUESTER);
    expect(!late.ok && late.error.kind).toBe("expired");
  });

  it("answers a confirmation taken after its window but before the sweep as expired", () => {
    const { clock, book, pending } = setup();
    clock.set(clock.now() + 60_001);
    const late = book.take(pending.id, REQUESTER);
    expect(!late.ok && late.error.kind).toBe("expired");
  });

  it("finds a confirmation by its preview message and knows nothing of unknown ids", () => {
    const { book, pending } = setup();
    book.attachPreview(pending, "$preview");
    expect(book.byPreviewEvent("$preview")?.id).toBe(pending.id);
    expect(book.byPreviewEvent("$other")).toBeUndefined();
    const unknown = book.take("c-000000", REQUESTER);
    expect(!unknown.ok && unknown.error.kind).toBe("unknown");
  });

  it(`remembers only the last ${CLOSED_REMEMBERED} closed confirmations, and forgets their previews with them`, () => {
    const { book, pending: first } = setup();
    const command = commandFakes().table.find((candidate) => candidate.name === "shutdown") as Command;
    book.attachPreview(first, "$preview-first");
    expect(book.take(first.id, REQUESTER).ok).toBe(true);
    let last = first;
    for (let index = 0; index < CLOSED_REMEMBERED; index++) {
      last = book.open(command, { room: index }, context);
      book.attachPreview(last, `$preview-${index}`);
      expect(book.take(last.id, REQUESTER).ok).toBe(true);
    }
    const forgotten = book.take(first.id, REQUESTER);
    expect(!forgotten.ok && forgotten.error.kind).toBe("unknown");
    expect(book.byPreviewEvent("$preview-first")).toBeUndefined();
    const remembered = book.take(last.id, REQUESTER);
    expect(!remembered.ok && remembered.error.kind).toBe("already-confirmed");
    expect(book.byPreviewEvent(`$preview-${CLOSED_REMEMBERED - 1}`)?.id).toBe(last.id);
  });

  it("forgets a cancelled confirmation entirely", () => {
    const { book, pending } = setup();
    book.cancel(pending);
    const taken = book.take(pending.id, REQUESTER);
    expect(!taken.ok && taken.error.kind).toBe("unknown");
  });
});
