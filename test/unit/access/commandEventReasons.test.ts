import { describe, expect, it } from "vitest";
import { classifyEvent, type EventFacts } from "../../../src/access/commandEvent.js";

const RULES = { managementRoomId: "!mgmt:example.org", selfUserId: "@warden:example.org", prefix: "!" };
const COMMAND: EventFacts = {
  roomId: "!mgmt:example.org",
  sender: "@mod:example.org",
  type: "m.room.message",
  content: { msgtype: "m.text", body: "!status" },
};

// The reason is what the dispatcher logs for an ignored event: each rule names itself.
describe("classifyEvent: an ignored event says which rule ignored it", () => {
  it.each<[string, Partial<EventFacts>, string]>([
    ["another room", { roomId: "!other:example.org" }, "not the management room"],
    ["Warden's own message", { sender: "@warden:example.org" }, "Warden's own message"],
    ["a state event", { type: "m.room.topic" }, "not a message"],
    ["a notice", { content: { msgtype: "m.notice", body: "!status" } }, "not m.text"],
    ["a body that is not text", { content: { msgtype: "m.text", body: ["!status"] } }, "no text body"],
    ["text without the prefix", { content: { msgtype: "m.text", body: "status" } }, "no command prefix"],
    ["the prefix without a command word", { content: { msgtype: "m.text", body: "!?" } }, "prefix without a command word"],
  ])("%s", (_name, change, reason) => {
    expect(classifyEvent({ ...COMMAND, ...change }, RULES)).toEqual({ kind: "ignore", reason });
  });
});
