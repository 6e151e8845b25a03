import { describe, expect, it } from "vitest";
import { classifyEvent, type CommandCandidate, type EventFacts } from "../../../src/access/commandEvent.js";

const RULES = { managementRoomId: "!mgmt:example.org", selfUserId: "@warden:example.org", prefix: "!" };

function message(content: unknown, overrides: Partial<EventFacts> = {}): EventFacts {
  return { roomId: "!mgmt:example.org", sender: "@mod:example.org", type: "m.room.message", content, ...overrides };
}

function text(body: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { msgtype: "m.text", body, ...extra };
}

function classify(event: EventFacts, prefix = "!"): CommandCandidate {
  return classifyEvent(event, { ...RULES, prefix });
}

describe("classifyEvent: what is a command", () => {
  it("takes the text after the prefix of an m.text in the management room", () => {
    expect(classify(message(text("!purge #spam:example.org 30d")))).toEqual({ kind: "command", text: "purge #spam:example.org 30d" });
  });

  it("trims surrounding whitespace", () => {
    expect(classify(message(text("  !status \n")))).toEqual({ kind: "command", text: "status" });
  });

  it("uses the configured prefix", () => {
    expect(classify(message(text("warden: status")), "warden: ")).toEqual({ kind: "command", text: "status" });
    expect(classify(message(text("!status")), "warden: ")).toEqual({ kind: "ignore", reason: "no command prefix" });
  });

  it("ignores other rooms", () => {
    expect(classify(message(text("!status"), { roomId: "!other:example.org" })).kind).toBe("ignore");
  });

  it("ignores Warden's own messages", () => {
    expect(classify(message(text("!status"), { sender: "@warden:example.org" }))).toEqual({ kind: "ignore", reason: "Warden's own message" });
  });

  it.each(["m.notice", "m.emote", "m.image", undefined, 7])("ignores msgtype %j", (msgtype) => {
    expect(classify(message({ msgtype, body: "!status" })).kind).toBe("ignore");
  });

  it("ignores events that are not messages", () => {
    expect(classify(message(text("!status"), { type: "m.sticker" })).kind).toBe("ignore");
    expect(classify(message(text("!status"), { type: "m.room.topic" })).kind).toBe("ignore");
  });

  it.each([null, "!status", 42, ["!status"], { msgtype: "m.text" }, { msgtype: "m.text", body: 5 }])(
    "ignores malformed content %j",
    (content) => {
      expect(classify(message(content)).kind).toBe("ignore");
    },
  );

  it("ignores text without the prefix, and the prefix without a command word", () => {
    expect(classify(message(text("purge #spam:example.org 30d"))).kind).toBe("ignore");
    expect(classify(message(text("!"))).kind).toBe("ignore");
    expect(classify(message(text("! status"))).kind).toBe("ignore");
    expect(classify(message(text("!!status"))).kind).toBe("ignore");
    expect(classify(message(text("!1"))).kind).toBe("ignore");
  });
});

describe("classifyEvent: edits", () => {
  it("reports an edit whose text is a command (m.replace with the * fallback)", () => {
    const content = text("* !purge #spam:example.org 30d", {
      "m.new_content": text("!purge #spam:example.org 30d"),
      "m.relates_to": { rel_type: "m.replace", event_id: "$original" },
    });
    expect(classify(message(content))).toEqual({ kind: "edit" });
  });

  it("reports an edit without the * fallback", () => {
    expect(classify(message(text("!status", { "m.relates_to": { rel_type: "m.replace", event_id: "$original" } })))).toEqual({ kind: "edit" });
    expect(classify(message(text("!status", { "m.new_content": text("!status") })))).toEqual({ kind: "edit" });
  });

  it("ignores an edit whose text is not a command", () => {
    const content = text("* never mind", { "m.relates_to": { rel_type: "m.replace", event_id: "$original" } });
    expect(classify(message(content))).toEqual({ kind: "ignore", reason: "an edit" });
  });
});

describe("classifyEvent: replies", () => {
  const reply = { "m.relates_to": { "m.in_reply_to": { event_id: "$quoted" } } };

  it("does not run a command that is only quoted in the reply fallback", () => {
    const content = text("> <@alice:example.org> !purge #spam:example.org 30d\n\nI agree, someone should do that", reply);
    expect(classify(message(content)).kind).toBe("ignore");
  });

  it("does not run a quoted command when the reply text is empty", () => {
    const content = text("> <@alice:example.org> !shutdown #spam:example.org --block\n> second line\n\n", reply);
    expect(classify(message(content)).kind).toBe("ignore");
  });

  it("runs a reply whose own text is a command", () => {
    const content = text("> <@alice:example.org> there is spam in #spam:example.org\n> lots of it\n\n!purge #spam:example.org 30d", reply);
    expect(classify(message(content))).toEqual({ kind: "command", text: "purge #spam:example.org 30d" });
  });

  it("runs a reply without a fallback whose text is a command", () => {
    expect(classify(message(text("!status", reply)))).toEqual({ kind: "command", text: "status" });
  });

  it("does not treat a quote in a message that is not a reply as a command", () => {
    expect(classify(message(text("> !purge #spam:example.org 30d"))).kind).toBe("ignore");
  });
});

describe("classifyEvent: hostile content keys", () => {
  it("does not read msgtype or body from __proto__", () => {
    const content: unknown = JSON.parse('{"__proto__": {"msgtype": "m.text", "body": "!purge #spam:example.org 30d"}}');
    expect(classify(message(content)).kind).toBe("ignore");
  });

  it("does not read inherited fields", () => {
    const content: unknown = Object.create({ msgtype: "m.text", body: "!status" });
    expect(classify(message(content)).kind).toBe("ignore");
  });

  it("does not see an edit hidden under __proto__ of m.relates_to", () => {
    const content: unknown = JSON.parse('{"msgtype": "m.text", "body": "!status", "m.relates_to": {"__proto__": {"rel_type": "m.replace"}}}');
    expect(classify(message(content))).toEqual({ kind: "command", text: "status" });
  });

  it("does not see a reply hidden under __proto__, so a quote stays a quote", () => {
    const content: unknown = JSON.parse(
      '{"msgtype": "m.text", "body": "> <@alice:example.org> hi\\n\\n!status", "m.relates_to": {"__proto__": {"m.in_reply_to": {"event_id": "$x"}}}}',
    );
    expect(classify(message(content)).kind).toBe("ignore");
  });

  it("is not changed by constructor or prototype keys, and pollutes nothing", () => {
    const content: unknown = JSON.parse(
      '{"msgtype": "m.text", "body": "!status", "constructor": {"prototype": {"polluted": true}}, "__proto__": {"polluted": true}}',
    );
    expect(classify(message(content))).toEqual({ kind: "command", text: "status" });
    const probe: Record<string, unknown> = {};
    expect(probe["polluted"]).toBeUndefined();
  });
});
