import { describe, expect, it } from "vitest";
import { classifyEvent, type CommandCandidate } from "../../../src/access/commandEvent.js";

const RULES = { managementRoomId: "!mgmt:example.org", selfUserId: "@warden:example.org", prefix: "!" };
const REPLACES = { "m.relates_to": { rel_type: "m.replace", event_id: "$original" } };

function classifyEdit(body: string, prefix = "!"): CommandCandidate {
  return classifyEvent(
    { roomId: "!mgmt:example.org", sender: "@mod:example.org", type: "m.room.message", content: { msgtype: "m.text", body, ...REPLACES } },
    { ...RULES, prefix },
  );
}

describe("classifyEvent: the * marker of an edit", () => {
  it("sees an edit of a command written with the marker glued to it (*!purge)", () => {
    expect(classifyEdit("*!purge #spam:example.org 30d")).toEqual({ kind: "edit" });
  });

  it("sees an edit of a command with spaces before and after the marker", () => {
    expect(classifyEdit("   *   !purge #spam:example.org 30d")).toEqual({ kind: "edit" });
  });

  it("takes the marker only at the start: a star right after a prefix that ends in a space stays", () => {
    expect(classifyEdit("warden: *status", "warden: ")).toEqual({ kind: "edit" });
  });

  it("ignores an edit whose text only mentions a command after other words", () => {
    expect(classifyEdit("* typo, I meant !purge #spam:example.org 30d")).toEqual({ kind: "ignore", reason: "an edit" });
  });
});
