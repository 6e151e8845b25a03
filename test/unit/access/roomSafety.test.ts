import { describe, expect, it } from "vitest";
import { managementRoomProblems } from "../../../src/access/roomSafety.js";
import { ManagementRoomGuard } from "../../../src/app/managementRoomGuard.js";
import type { RoomId } from "../../../src/matrix/ids.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { RecordingChat } from "../../fakes/recordingChat.js";

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
    const guard = new ManagementRoomGuard("!mgmt:example.org" as RoomId, chat, new MemoryLogger().log);
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
