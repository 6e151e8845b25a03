import { describe, expect, it } from "vitest";
import type { HomeserverTask, LookupOutcome, RoomFacts } from "../../../src/model/lookups.js";
import type { RoomId, UserId } from "../../../src/matrix/ids.js";
import { escapeHtml } from "../../../src/render/html.js";
import { MEMBERS_SHOWN, renderLookup, TASKS_SHOWN } from "../../../src/render/lookups.js";
import { renderOutcome } from "../../../src/render/replies.js";
import { FIXED_NOW } from "../../fakes/fixedClock.js";
import { expectOnlyOwnMarkup, HOSTILE } from "./markup.js";

const ROOM = "!spam:example.org" as RoomId;

const FACTS: RoomFacts = {
  name: "Spam central",
  canonicalAlias: "#spam:example.org",
  topic: "Cheap pills",
  creator: "@spammer:example.org",
  version: "10",
  joinedMembers: 40,
  joinedLocalMembers: 3,
  encryption: "m.megolm.v1.aes-sha2",
  public: true,
  joinRules: "public",
  historyVisibility: "shared",
  stateEvents: 57,
};

function render(outcome: LookupOutcome, prefix = "!") {
  return renderLookup(outcome, prefix, FIXED_NOW);
}

describe("!room replies", () => {
  it("shows every fact of a known room, one per line, and its block status", () => {
    const reply = render({ kind: "room-info", roomId: ROOM, label: ROOM, room: FACTS, block: { read: true, blocked: true, blockedBy: "@mod:example.org" } });
    expect(reply.plain.split("\n")).toEqual([
      `Room "Spam central" ${ROOM}`,
      "Name: Spam central",
      "Canonical alias: #spam:example.org",
      "Topic: Cheap pills",
      "Creator: @spammer:example.org",
      "Version: 10",
      "Members: 40 joined, 3 of them local",
      "Encryption: m.megolm.v1.aes-sha2",
      "Public (in the room directory): yes",
      "Join rules: public",
      "History visibility: shared",
      "State events: 57",
      "Blocked: yes (by @mod:example.org)",
    ]);
    expect(reply.html.split("<br>\n")[0]).toBe(`<b>Room &quot;Spam central&quot; ${ROOM}</b>`);
    expectOnlyOwnMarkup(reply.html);
  });

  it("says none or not reported for what the homeserver left out", () => {
    const reply = render({ kind: "room-info", roomId: ROOM, label: ROOM, room: { joinedMembers: 0, joinedLocalMembers: 0 }, block: { read: true, blocked: false } });
    expect(reply.plain.split("\n")).toEqual([
      `Room ${ROOM}`,
      "Name: none",
      "Canonical alias: none",
      "Topic: none",
      "Creator: not reported",
      "Version: not reported",
      "Members: 0 joined, 0 of them local",
      "Encryption: not encrypted",
      "Public (in the room directory): not reported",
      "Join rules: not reported",
      "History visibility: not reported",
      "State events: not reported",
      "Blocked: no",
    ]);
  });

  it("escapes a hostile name and topic in HTML and keeps each on one line, so they cannot forge other lines", () => {
    const forged = `${HOSTILE}\nBlocked: no\nMembers: 0`;
    const reply = render({ kind: "room-info", roomId: ROOM, label: ROOM, room: { ...FACTS, name: forged, topic: forged }, block: { read: true, blocked: true } });
    expect(reply.plain.split("\n").filter((line) => line.startsWith("Blocked:"))).toEqual(["Blocked: yes"]);
    expect(reply.plain.split("\n").filter((line) => line.startsWith("Members:"))).toEqual(["Members: 40 joined, 3 of them local"]);
    expect(reply.html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(reply.html).not.toContain("<script");
    expectOnlyOwnMarkup(reply.html);
  });

  it("says a room is unknown to the homeserver and still shows its block status, or why it could not be read", () => {
    const blocked = render({ kind: "room-info", roomId: ROOM, label: ROOM, block: { read: true, blocked: true, blockedBy: "@mod:example.org" } });
    expect(blocked.plain).toBe(`Room ${ROOM}: unknown to this homeserver\nBlocked: yes (by @mod:example.org)`);
    const unreadable = render({ kind: "room-info", roomId: ROOM, label: ROOM, block: { read: false, problem: "the homeserver failed with HTTP 500" } });
    expect(unreadable.plain).toContain("Blocked: could not be read (the homeserver failed with HTTP 500)");
  });

  it("is what renderOutcome answers for a room-info outcome", () => {
    const outcome: LookupOutcome = { kind: "room-info", roomId: ROOM, label: ROOM, room: FACTS, block: { read: true, blocked: false } };
    expect(renderOutcome(outcome, "!", FIXED_NOW)).toEqual(render(outcome));
  });
});

describe("!rooms replies", () => {
  const page: LookupOutcome = {
    kind: "room-list",
    total: 41,
    offset: 20,
    searchTerm: "spam",
    rooms: [
      { roomId: "!a:example.org", name: "Spam A", canonicalAlias: "#a:example.org", joinedMembers: 12, joinedLocalMembers: 2, public: true },
      { roomId: "!b:example.org", joinedMembers: 1 },
    ],
    nextPageCommand: "!rooms spam --limit 2 --from 22",
  };

  it("shows the range, a line per room, and the next page's command as code", () => {
    const reply = render(page);
    expect(reply.plain.split("\n")).toEqual([
      'Rooms 21-22 of 41 matching "spam":',
      '- "Spam A" #a:example.org !a:example.org: 12 joined (2 local), in the room directory',
      "- (no name) !b:example.org: 1 joined",
      "Next page: !rooms spam --limit 2 --from 22",
    ]);
    expect(reply.html).toContain("<li>&quot;Spam A&quot; #a:example.org !a:example.org: 12 joined (2 local), in the room directory</li>");
    expect(reply.html).toContain("Next page: <code>!rooms spam --limit 2 --from 22</code>");
    expectOnlyOwnMarkup(reply.html);
    expect(renderOutcome(page, "!", FIXED_NOW)).toEqual(reply);
  });

  it("says when it is the last page", () => {
    const last: LookupOutcome = { kind: "room-list", total: 41, offset: 39, rooms: [{ roomId: "!z:example.org", joinedMembers: 2 }] };
    expect(render(last).plain.split("\n").at(-1)).toBe("That is the last page.");
  });

  it("escapes hostile room names, aliases and search terms", () => {
    const reply = render({
      kind: "room-list",
      total: 1,
      offset: 0,
      searchTerm: HOSTILE,
      rooms: [{ roomId: "!a:example.org", name: HOSTILE, canonicalAlias: `#<b>x</b>:example.org`, joinedMembers: 1 }],
    });
    expect(reply.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(reply.html).toContain("#&lt;b&gt;x&lt;/b&gt;:example.org");
    expectOnlyOwnMarkup(reply.html);
  });

  it("says there are no rooms, or none past the offset", () => {
    expect(render({ kind: "room-list", total: 0, offset: 0, searchTerm: "nothing", rooms: [] }).plain).toBe('No rooms matching "nothing" on this homeserver.');
    expect(render({ kind: "room-list", total: 5, offset: 10, rooms: [] }).plain).toBe("No rooms from position 11: there are 5 in all.");
  });
});

describe("!members replies", () => {
  it("lists the members under the room's name", () => {
    const reply = render({ kind: "room-members", roomId: ROOM, label: ROOM, roomName: "Spam central", members: ["@a:example.org", "@b:remote.example"] });
    expect(reply.plain).toBe(`Members of "Spam central" ${ROOM}: 2 joined\n- @a:example.org\n- @b:remote.example`);
    expect(reply.html).toBe(`<b>Members of &quot;Spam central&quot; ${ROOM}: 2 joined</b><ul><li>@a:example.org</li><li>@b:remote.example</li></ul>`);
    expect(reply.mentions).toBeUndefined();
  });

  it(`shows at most ${MEMBERS_SHOWN} members and counts the rest`, () => {
    const members = Array.from({ length: 250 }, (_, index) => `@u${index}:example.org`);
    const reply = render({ kind: "room-members", roomId: ROOM, label: ROOM, members });
    const lines = reply.plain.split("\n");
    expect(lines.filter((line) => line.startsWith("- "))).toHaveLength(MEMBERS_SHOWN);
    expect(lines[0]).toBe(`Members of ${ROOM}: 250 joined`);
    expect(lines.at(-1)).toBe("... and 150 more");
    expect(reply.plain).toContain(`- @u${MEMBERS_SHOWN - 1}:example.org`);
    expect(reply.plain).not.toContain(`@u${MEMBERS_SHOWN}:example.org`);
  });

  it("escapes hostile user IDs and says when nobody is joined", () => {
    const reply = render({ kind: "room-members", roomId: ROOM, label: ROOM, roomName: HOSTILE, members: ["@<b>x</b>:evil.example"] });
    expect(reply.html).toContain("@&lt;b&gt;x&lt;/b&gt;:evil.example");
    expectOnlyOwnMarkup(reply.html);
    expect(render({ kind: "room-members", roomId: ROOM, label: ROOM, members: [] }).plain).toBe(`Nobody is joined to ${ROOM}.`);
  });
});

describe("!tasks replies", () => {
  const tasks: HomeserverTask[] = [
    { id: "due", action: "update_join_states", status: "scheduled", timestampMs: FIXED_NOW + 60_000, resourceId: "@alice:example.org" },
    { id: "ours", action: "purge_history", status: "active", timestampMs: FIXED_NOW - 9_000_000, resourceId: ROOM, wardenTaskId: "p-aaaaaa" },
    { id: "broke", action: "shutdown_and_purge_room", status: "failed", timestampMs: FIXED_NOW - 5_000, error: "disk full" },
  ];

  it("shows each task's id, action, resource, status and age, marking Warden's own", () => {
    const reply = render({ kind: "homeserver-tasks", tasks });
    expect(reply.plain.split("\n")).toEqual([
      "Homeserver tasks: 3 (2 queued or running, 1 started by Warden)",
      "- due update_join_states on @alice:example.org: scheduled, due in 1 min",
      `- ours purge_history on ${ROOM}: active, 2 h 30 min ago [Warden task p-aaaaaa]`,
      "- broke shutdown_and_purge_room: failed, 5 s ago (error: disk full)",
    ]);
    expect(reply.html).toContain(`<li><code>ours</code> purge_history on ${ROOM}: active, 2 h 30 min ago [Warden task <code>p-aaaaaa</code>]</li>`);
    expectOnlyOwnMarkup(reply.html);
    expect(renderOutcome({ kind: "homeserver-tasks", tasks }, "!", FIXED_NOW)).toEqual(reply);
  });

  it(`shows at most ${TASKS_SHOWN} tasks and counts the rest`, () => {
    const many = Array.from({ length: 70 }, (_, index) => ({ id: `t${index}`, action: "purge_room", status: "complete", timestampMs: FIXED_NOW - index }));
    const lines = render({ kind: "homeserver-tasks", tasks: many }).plain.split("\n");
    expect(lines.filter((line) => line.startsWith("- "))).toHaveLength(TASKS_SHOWN);
    expect(lines.at(-1)).toBe("... and 20 older");
  });

  it("escapes hostile errors and resources, and says when there are none", () => {
    const reply = render({ kind: "homeserver-tasks", tasks: [{ id: "<i>x</i>", action: "a", status: "failed", timestampMs: FIXED_NOW, resourceId: HOSTILE, error: HOSTILE }] });
    expect(reply.html).toContain(escapeHtml("<i>x</i>"));
    expectOnlyOwnMarkup(reply.html);
    expect(render({ kind: "homeserver-tasks", tasks: [] }).plain).toBe("The homeserver has no scheduled tasks (it keeps finished ones for about 7 days).");
  });
});

describe("!block, !unblock and !make-admin replies", () => {
  const base = { kind: "room-block", roomId: ROOM, label: ROOM, knownRoom: true, changed: true } as const;

  it("says a room unknown to the homeserver was blocked in advance", () => {
    expect(render({ ...base, action: "block", knownRoom: false }).plain).toBe(
      `Blocked ${ROOM}: unknown to this homeserver; blocked in advance, so nobody here can create or join it.`,
    );
  });

  it("says a known room is blocked, naming the shutdown command with the configured prefix", () => {
    expect(render({ ...base, action: "block", roomName: "Spam" }, "warden ").plain).toBe(
      `Blocked "Spam" ${ROOM}: nobody on this homeserver can join it now. Members already in it stay (warden shutdown empties a room).`,
    );
  });

  it("says when nothing changed", () => {
    expect(render({ ...base, action: "block", changed: false, blockedBy: "@other:example.org" }).plain).toBe(
      `${ROOM} was already blocked (by @other:example.org); nothing changed.`,
    );
    expect(render({ ...base, action: "unblock", changed: false }).plain).toBe(`${ROOM} was not blocked; nothing changed.`);
  });

  it("says a room is unblocked", () => {
    expect(render({ ...base, action: "unblock" }).plain).toBe(`Unblocked ${ROOM}: users of this homeserver can join it again.`);
    expect(render({ ...base, action: "unblock", knownRoom: false }).plain).toBe(
      `Unblocked ${ROOM} (unknown to this homeserver): users of this homeserver can join it again.`,
    );
  });

  it("escapes a hostile room name in a block reply", () => {
    const reply = render({ ...base, action: "block", roomName: HOSTILE });
    expectOnlyOwnMarkup(reply.html);
    expect(reply.html).toContain("&lt;script&gt;");
  });

  it("names the user given power, or Warden's own account, and what they still have to do", () => {
    const alice = render({ kind: "room-admin-granted", roomId: ROOM, label: ROOM, roomName: "Hijacked", user: "@alice:example.org" as UserId });
    expect(alice.plain).toBe(
      `@alice:example.org now has the power of the most powerful local user in "Hijacked" ${ROOM}.\n` +
        "If @alice:example.org was not in the room and it is not public, the homeserver invited them; they still have to join.",
    );
    expect(alice.mentions).toBeUndefined();
    const warden = render({ kind: "room-admin-granted", roomId: ROOM, label: ROOM });
    expect(warden.plain.split("\n")[0]).toBe(`Warden's own account now has the power of the most powerful local user in ${ROOM}.`);
    expect(warden.html).toContain("<b>Warden&#39;s own account</b>");
    expectOnlyOwnMarkup(render({ kind: "room-admin-granted", roomId: ROOM, label: ROOM, roomName: HOSTILE }).html);
  });
});
