import { describe, expect, it } from "vitest";
import { extremitiesCommand } from "../../../../src/commands/homeserver/extremities.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import { EXTREMITIES_WARNING } from "../../../../src/model/extremities.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { CONTEXT, runCommand } from "../../../fakes/runCommand.js";

const ROOM = "!busy:example.org" as RoomId;

function setup(count: number) {
  const fakes = commandFakes();
  fakes.admin.addRoom(ROOM, "Busy");
  fakes.admin.extremities.set(
    ROOM,
    Array.from({ length: count }, (_, index) => ({ event_id: `$e${index}`, depth: 10 + index, received_ts: 1_700_000_000_000 + index * 1000, state_group: index })),
  );
  return { fakes, command: extremitiesCommand(fakes.dependencies) };
}

describe("!extremities", () => {
  it("shows the count and the newest five, newest first, with the delete command", async () => {
    const { command } = setup(8);
    const outcome = await runCommand(command, ROOM);
    expect(outcome).toMatchObject({ kind: "extremities", count: 8, newest: [{ eventId: "$e7" }, { eventId: "$e6" }, { eventId: "$e5" }, { eventId: "$e4" }, { eventId: "$e3" }] });
    const reply = renderOutcome(outcome, "!", 0);
    expect(reply?.plain).toContain("!busy:example.org has 8 forward extremities.");
    expect(reply?.plain).toContain("The newest 5:\n- $e7 (depth 17, received 2023-11-14 22:13:27 UTC)");
    expect(reply?.plain).toContain(`!extremities ${ROOM} --delete`);
  });

  it("previews a deletion with Synapse's warning, and deletes all but the newest when run", async () => {
    const { fakes, command } = setup(3);
    const preview = await command.confirmation?.preview({ room: { kind: "id", roomId: ROOM }, delete: true }, CONTEXT);
    expect(preview?.ok && preview.value.lines).toContainEqual({ label: "Warning", value: EXTREMITIES_WARNING });
    expect(preview?.ok && preview.value.lines).toContainEqual({ label: "Forward extremities", value: "3; 2 would be deleted and the newest kept" });
    expect(fakes.admin.reportCalls.map((call) => call.method)).toEqual(["forwardExtremities"]);
    expect(command.confirmation?.kind({ room: { kind: "id", roomId: ROOM }, delete: true })).toBe("extremities");
    expect(command.confirmation?.kind({ room: { kind: "id", roomId: ROOM }, delete: false })).toBeUndefined();

    const outcome = await runCommand(command, `${ROOM} --delete`);
    expect(outcome).toEqual({ kind: "extremities-deleted", roomId: ROOM, label: ROOM, before: 3, deleted: 2 });
    expect(fakes.admin.extremities.get(ROOM)?.map((e) => e.event_id)).toEqual(["$e2"]);
  });

  it("never asks Synapse to delete when there is one extremity or none (Synapse fails on none)", async () => {
    const { fakes, command } = setup(1);
    expect(await runCommand(command, `${ROOM} --delete`)).toEqual({ kind: "refused", reason: `${ROOM} has 1 forward extremity; there is nothing to delete.` });
    expect(fakes.admin.reportCalls.map((call) => call.method)).toEqual(["forwardExtremities"]);
  });

  it("says when the homeserver does not know the room or fails", async () => {
    const { fakes, command } = setup(2);
    expect(await runCommand(command, "!other:example.org")).toEqual({ kind: "refused", reason: "!other:example.org is not a room this homeserver knows." });
    fakes.admin.reportFailures.set("deleteForwardExtremities", adminError("server-error", 500));
    expect(await runCommand(command, `${ROOM} --delete`)).toMatchObject({ kind: "refused", reason: expect.stringContaining(`could not delete the forward extremities of ${ROOM}`) as unknown });
  });
});
