import { describe, expect, it } from "vitest";
import { managementRoomProblems } from "../../../src/access/roomSafety.js";
import { ManagementRoomGuard } from "../../../src/app/managementRoomGuard.js";
import type { RoomId } from "../../../src/matrix/ids.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingChat } from "../../fakes/recordingChat.js";
import { err, ok, type Result } from "../../../src/util/result.js";

/** The management room's state as the homeserver answers it: a content, no event, or an error. */
class ScriptedRoomState {
  readonly answers = new Map<string, Result<Record<string, unknown> | undefined, string>>();
  readonly reads: string[] = [];

  stateContent(_roomId: RoomId, type: string): Promise<Result<Record<string, unknown> | undefined, string>> {
    this.reads.push(type);
    return Promise.resolve(this.answers.get(type) ?? ok(undefined));
  }
}

const ROOM = "!mgmt:example.org" as RoomId;

/** Lets a re-read started in the background finish. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("managementRoomProblems", () => {
  it("flags a public join rule and world-readable history, and nothing else", () => {
    expect(managementRoomProblems({ joinRule: "invite", historyVisibility: "shared" })).toEqual([]);
    expect(managementRoomProblems({ joinRule: "knock", historyVisibility: "joined" })).toEqual([]);
    expect(managementRoomProblems({ joinRule: "public" })).toEqual(["anyone can join it (join rule: public)"]);
    expect(managementRoomProblems({ historyVisibility: "world_readable" })).toEqual([
      "anyone can read its history (history visibility: world_readable)",
    ]);
  });
});

describe("ManagementRoomGuard", () => {
  it("warns once when the room becomes world-readable, refuses meanwhile, and says when it is private again", async () => {
    const chat = new RecordingChat();
    const guard = new ManagementRoomGuard("!mgmt:example.org" as RoomId, chat, new ScriptedRoomState(), new MemoryLogger().log);
    await guard.update({ joinRule: "invite", historyVisibility: "shared" });
    expect(guard.refusal()).toBeUndefined();
    expect(chat.sent).toHaveLength(0);

    await guard.update({ historyVisibility: "world_readable" });
    await guard.update({ historyVisibility: "world_readable" });
    expect(guard.refusal()).toContain("world_readable");
    expect(chat.plainBodies()).toHaveLength(1);
    expect(chat.plainBodies()[0]).toMatch(/^Warning: this management room is exposed/);

    await guard.update({ historyVisibility: "shared" });
    expect(guard.refusal()).toBeUndefined();
    expect(chat.plainBodies()[1]).toContain("private again");
  });
});

describe("ManagementRoomGuard: before and without the room's settings", () => {
  it("refuses commands until the settings have been read (fail closed)", () => {
    const guard = new ManagementRoomGuard(ROOM, new RecordingChat(), new ScriptedRoomState(), new MemoryLogger().log);
    expect(guard.refusal()).toContain("Warden could not read its join rule (not read yet)");
  });

  it("accepts commands in a room without join-rules or history events (the spec's invite and shared)", async () => {
    const guard = new ManagementRoomGuard(ROOM, new RecordingChat(), new ScriptedRoomState(), new MemoryLogger().log);
    await guard.load();
    expect(guard.refusal()).toBeUndefined();
  });

  it("reads silently at load and warns only when told to announce", async () => {
    const chat = new RecordingChat();
    const state = new ScriptedRoomState();
    state.answers.set("m.room.join_rules", ok({ join_rule: "public" }));
    const guard = new ManagementRoomGuard(ROOM, chat, state, new MemoryLogger().log);

    await guard.load();
    expect(guard.refusal()).toBe("anyone can join it (join rule: public)");
    expect(chat.sent).toEqual([]);

    await guard.announce();
    expect(chat.plainBodies()).toHaveLength(1);
    expect(chat.plainBodies()[0]).toContain("join rule: public");
  });

  it("refuses while the settings cannot be read, reads again on the next refusal, and accepts once they can be", async () => {
    const chat = new RecordingChat();
    const state = new ScriptedRoomState();
    state.answers.set("m.room.history_visibility", err("M_UNKNOWN: database is locked"));
    const guard = new ManagementRoomGuard(ROOM, chat, state, new MemoryLogger().log);
    await guard.load();
    await guard.announce();
    expect(guard.refusal()).toBe(
      "Warden could not read its history visibility (M_UNKNOWN: database is locked), so it cannot tell who can see or join it",
    );
    await settle();

    state.answers.delete("m.room.history_visibility");
    expect(guard.refusal()).toBeDefined(); // this command is still refused; it starts a new read
    await settle();

    expect(guard.refusal()).toBeUndefined();
    expect(chat.plainBodies().at(-1)).toContain("private again");
  });
});
