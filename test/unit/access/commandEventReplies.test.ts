import { describe, expect, it } from "vitest";
import { classifyEvent, type CommandCandidate } from "../../../src/access/commandEvent.js";

const RULES = { managementRoomId: "!mgmt:example.org", selfUserId: "@warden:example.org", prefix: "!" };
const IN_REPLY = { "m.relates_to": { "m.in_reply_to": { event_id: "$quoted" } } };

function classifyReply(body: string): CommandCandidate {
  return classifyEvent(
    { roomId: "!mgmt:example.org", sender: "@mod:example.org", type: "m.room.message", content: { msgtype: "m.text", body, ...IN_REPLY } },
    RULES,
  );
}

describe("classifyEvent: a reply whose own text spans several lines", () => {
  it("keeps every line of the reply's own text, joined by its line breaks", () => {
    const body = '> <@alice:example.org> spam again\n> in #spam:example.org\n\n!purge #spam:example.org 30d\n--reason "spam wave"';

    expect(classifyReply(body)).toEqual({ kind: "command", text: 'purge #spam:example.org 30d\n--reason "spam wave"' });
  });

  it("keeps a later line that starts with > as part of the reply's own text", () => {
    const body = "> <@alice:example.org> hi\n\n!status\n> not a quote any more";

    expect(classifyReply(body)).toEqual({ kind: "command", text: "status\n> not a quote any more" });
  });

  it("does not run the own text's second line when its first line is not a command", () => {
    const body = "> <@alice:example.org> hi\n\nshould we purge?\n!purge #spam:example.org 30d";

    expect(classifyReply(body)).toEqual({ kind: "ignore", reason: "no command prefix" });
  });
});
