import { describe, expect, it } from "vitest";
import type { Command } from "../../../../src/commands/spec.js";
import { MAX_COMMAND_LENGTH, splitWords } from "../../../../src/commands/parsing/words.js";
import { jsonBytes, MESSAGE_BUDGET_BYTES, messageBytes } from "../../../../src/matrix/chat.js";
import { renderArgumentProblem } from "../../../../src/render/replies.js";
import { commandFakes } from "../../../fakes/commandDependencies.js";

const { table } = commandFakes();

function command(name: string): Command {
  const found = table.find((candidate) => candidate.name === name);
  if (found === undefined) throw new Error(`no command ${name} in the table`);
  return found;
}

/** Words from `make` joined by spaces, cut to `length` characters. */
function filled(length: number, make: (index: number) => string): string {
  const words: string[] = [];
  let total = 0;
  for (let index = 0; total < length; index++) {
    const word = make(index);
    words.push(word);
    total += word.length + 1;
  }
  return words.join(" ").slice(0, length);
}

/** The smallest envelope Synapse signs around a message's content: room versions 3+, one prev event, three auth events. */
function pdu(content: Record<string, unknown>): Record<string, unknown> {
  const eventId = `$${"a".repeat(43)}`;
  return {
    auth_events: [eventId, eventId, eventId],
    content,
    depth: 12_345,
    hashes: { sha256: "b".repeat(43) },
    origin: "example.org",
    origin_server_ts: 1_700_000_000_000,
    prev_events: [eventId],
    room_id: "!managementroomidabcdef:example.org",
    sender: "@moderator:example.org",
    signatures: { "example.org": { "ed25519:a_abcd": "c".repeat(86) } },
    type: "m.room.message",
    unsigned: { age_ts: 1_700_000_000_000 },
  };
}

describe("the longest command: what one Matrix event carries", () => {
  it("fits a plain message of that many characters into one event, and holds over 1,500 room IDs", () => {
    // Synapse refuses an event whose canonical JSON is over 65,536 bytes (M_TOO_LARGE).
    const body = `!purge ${filled(MAX_COMMAND_LENGTH - "!purge ".length, (index) => `!spamroom${index}:example.org`)}`;
    expect(jsonBytes(pdu({ msgtype: "m.text", body }))).toBeLessThanOrEqual(65_536);
    expect(MAX_COMMAND_LENGTH).toBeGreaterThanOrEqual(60_000);
    const roomIds = `!abcdefghijklmnopqr:example.org `.length;
    expect(Math.floor(MAX_COMMAND_LENGTH / roomIds)).toBeGreaterThan(1_500);
  });
});

describe("a refusal of a long command stays a short message", () => {
  const texts: readonly (readonly [string, string])[] = [
    ["one unknown option as long as a command", `--${"x".repeat(MAX_COMMAND_LENGTH - 2)}`],
    ["a known option, then an unknown one as long as a command", `--local --${"y".repeat(MAX_COMMAND_LENGTH - 10)}=1`],
    ["thousands of unknown options", filled(MAX_COMMAND_LENGTH, (index) => `--unknown${index}`)],
    ["thousands of words", filled(MAX_COMMAND_LENGTH, (index) => `word${index}`)],
    ["one word as long as a command", "w".repeat(MAX_COMMAND_LENGTH)],
    ["an unclosed quote", `"${filled(MAX_COMMAND_LENGTH - 1, (index) => `quoted${index}`)}`],
  ];

  it.each(texts)("%s: each command answers in a few KiB, never near the message budget", (_, text) => {
    for (const name of ["purge", "shutdown", "block", "redact", "rooms", "status"]) {
      const target = command(name);
      const words = splitWords(text, target);
      const parsed = words.ok ? target.parse(words.value) : words;
      if (parsed.ok) continue;
      const reply = renderArgumentProblem(parsed.error, target, "!");
      expect(messageBytes(reply), `!${name}: ${reply.plain.slice(0, 200)}`).toBeLessThan(MESSAGE_BUDGET_BYTES / 4);
    }
  });
});
