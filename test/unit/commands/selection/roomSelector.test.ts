import { describe, expect, it } from "vitest";
import { AdminRoomSelector } from "../../../../src/commands/selection/roomSelector.js";
import type { ProtectedRoomSource } from "../../../../src/commands/parsing/protectedRooms.js";
import type { RoomId } from "../../../../src/matrix/ids.js";
import type { RetentionExclude } from "../../../../src/model/retention.js";
import type { RoomReference, SelectionRequest, SelectionResult } from "../../../../src/model/waves.js";
import { err, ok, type Result } from "../../../../src/util/result.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { FakeDirectory } from "../../../fakes/fakeDirectory.js";
import { FakeSelectionAdmin } from "../../../fakes/fakeSelectionAdmin.js";

const MANAGEMENT = "!management:example.org" as RoomId;

class StaticProtectedRooms implements ProtectedRoomSource {
  asked = 0;
  constructor(public answer: Result<ReadonlySet<RoomId>, string> = ok(new Set())) {}
  current(): Promise<Result<ReadonlySet<RoomId>, string>> {
    this.asked++;
    return Promise.resolve(this.answer);
  }
}

function setup(concurrency?: number) {
  const admin = new FakeSelectionAdmin();
  const directory = new FakeDirectory();
  const protectedRooms = new StaticProtectedRooms();
  const selector = new AdminRoomSelector({
    admin,
    directory,
    managementRoomId: MANAGEMENT,
    protectedRooms,
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  return { admin, directory, protectedRooms, selector };
}

const byId = (roomId: string): RoomReference => ({ kind: "id", roomId });
const byAlias = (alias: string): RoomReference => ({ kind: "alias", alias });

function request(fields: Partial<SelectionRequest>): SelectionRequest {
  return { listed: [], unknownRooms: "leave-out", ...fields };
}

function exclude(fields: Partial<RetentionExclude>): RetentionExclude {
  return { rooms: [], spaces: [], dm: false, members: [], ...fields };
}

async function selected(selector: AdminRoomSelector, selection: SelectionRequest): Promise<SelectionResult> {
  const result = await selector.select(selection);
  if (!result.ok) throw new Error(`expected a selection, got the error: ${result.error}`);
  return result.value;
}

async function refused(selector: AdminRoomSelector, selection: SelectionRequest): Promise<string> {
  const result = await selector.select(selection);
  if (result.ok) throw new Error(`expected an error, got ${JSON.stringify(result.value)}`);
  return result.error;
}

const ids = (result: SelectionResult): string[] => result.rooms.map((room) => room.roomId);

describe("listed rooms", () => {
  it("keeps the typed order, labels aliases as typed and carries the room details", async () => {
    const { admin, directory, selector } = setup();
    admin.addRoom("!b:example.org", { name: "Bees", canonical_alias: "#bees:example.org", joined_members: 9, joined_local_members: 3 });
    admin.addRoom("!a:example.org", { name: null, joined_members: 1, joined_local_members: 0 });
    directory.add("#bees:example.org", "!b:example.org" as RoomId);

    const result = await selected(selector, request({ listed: [byAlias("#bees:example.org"), byId("!a:example.org")] }));

    expect(result.rooms).toEqual([
      { roomId: "!b:example.org", label: "#bees:example.org", name: "Bees", canonicalAlias: "#bees:example.org", joinedMembers: 9, joinedLocalMembers: 3 },
      { roomId: "!a:example.org", label: "!a:example.org", joinedMembers: 1, joinedLocalMembers: 0 },
    ]);
    expect(result.leftOut).toEqual([]);
    expect(admin.callsOf("listRooms")).toEqual([]);
  });

  it("takes a room once when it is listed by ID and by alias, under its first label", async () => {
    const { admin, directory, selector } = setup();
    admin.addRoom("!a:example.org");
    directory.add("#a:example.org", "!a:example.org" as RoomId);

    const result = await selected(selector, request({ listed: [byAlias("#a:example.org"), byId("!a:example.org"), byAlias("#a:example.org")] }));

    expect(result.rooms.map((room) => room.label)).toEqual(["#a:example.org"]);
    expect(admin.callsOf("roomDetails")).toHaveLength(1);
  });

  it("leaves out an alias that does not resolve, saying why once, and keeps the others", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!a:example.org");

    const result = await selected(selector, request({ listed: [byAlias("#gone:example.org"), byId("!a:example.org"), byAlias("#gone:example.org")] }));

    expect(ids(result)).toEqual(["!a:example.org"]);
    expect(result.leftOut).toEqual([
      { label: "#gone:example.org", why: "the alias #gone:example.org could not be resolved: the room directory has no such alias" },
    ]);
  });

  it("keeps a room the homeserver does not know, without details, when unknown rooms are kept", async () => {
    const { selector } = setup();

    const result = await selected(selector, request({ listed: [byId("!elsewhere:remote.example")], unknownRooms: "keep" }));

    expect(result.rooms).toEqual([{ roomId: "!elsewhere:remote.example", label: "!elsewhere:remote.example" }]);
    expect(result.leftOut).toEqual([]);
  });

  it("leaves out a room the homeserver does not know when unknown rooms are left out", async () => {
    const { selector } = setup();

    const result = await selected(selector, request({ listed: [byId("!elsewhere:remote.example")], unknownRooms: "leave-out" }));

    expect(result.rooms).toEqual([]);
    expect(result.leftOut).toEqual([
      { label: "!elsewhere:remote.example", roomId: "!elsewhere:remote.example", why: "this homeserver does not know the room" },
    ]);
  });

  it("fails when a listed room's details cannot be read for another reason than 404", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!a:example.org");
    admin.failures.set("roomDetails", adminError("server-error", 502));

    const error = await refused(selector, request({ listed: [byId("!a:example.org")] }));

    expect(error).toBe("could not read the room !a:example.org: the homeserver failed with HTTP 502");
  });
});

describe("rooms Warden never selects", () => {
  it("leaves out the management room and protectedRooms, listed or found by a filter, naming each once", async () => {
    const { admin, protectedRooms, selector } = setup();
    admin.addRoom(MANAGEMENT, { name: "Warden" });
    admin.addRoom("!protected:example.org", { name: "Protected" });
    admin.addRoom("!other:example.org", { name: "Other" });
    protectedRooms.answer = ok(new Set(["!protected:example.org" as RoomId]));

    const result = await selected(selector, request({ listed: [byId(MANAGEMENT), byId("!protected:example.org")], all: true }));

    expect(ids(result)).toEqual(["!other:example.org"]);
    expect(result.leftOut).toEqual([
      { label: MANAGEMENT, roomId: MANAGEMENT, why: "Warden's own management room" },
      { label: "!protected:example.org", roomId: "!protected:example.org", why: "listed in protectedRooms in Warden's config" },
    ]);
  });

  it("names a protected room as protected even when the homeserver does not know it", async () => {
    const { protectedRooms, selector } = setup();
    protectedRooms.answer = ok(new Set(["!protected:remote.example" as RoomId]));

    const result = await selected(selector, request({ listed: [byId("!protected:remote.example")], unknownRooms: "keep" }));

    expect(result.rooms).toEqual([]);
    expect(result.leftOut.map((room) => room.why)).toEqual(["listed in protectedRooms in Warden's config"]);
  });

  it("selects nothing and says why when protectedRooms cannot be resolved (fail closed)", async () => {
    const { admin, protectedRooms, selector } = setup();
    admin.addRoom("!a:example.org");
    protectedRooms.answer = err("the protected room alias #safe:example.org could not be resolved");

    const error = await refused(selector, request({ listed: [byId("!a:example.org")], all: true }));

    expect(error).toBe("the protected room alias #safe:example.org could not be resolved");
    expect(admin.calls).toEqual([]);
  });
});

describe("filters", () => {
  function homeserver() {
    const context = setup();
    const { admin } = context;
    admin.addRoom("!spam1:example.org", { name: "spam central", joined_local_members: 0 });
    admin.addRoom("!spam2:example.org", { name: "more spam", joined_local_members: 2 });
    admin.addRoom("!ham:example.org", { name: "ham", joined_local_members: 0 });
    admin.addRoom("!eggs:example.org", { name: "eggs", canonical_alias: "#spammy:example.org", joined_local_members: 1 });
    return context;
  }

  it("--matching sends the words as search_term and selects the rooms in the list's order", async () => {
    const { admin, selector } = homeserver();

    const result = await selected(selector, request({ matching: "spam" }));

    expect(ids(result)).toEqual(["!eggs:example.org", "!spam2:example.org", "!spam1:example.org"]);
    expect(result.rooms[0]).toEqual({
      roomId: "!eggs:example.org",
      label: "!eggs:example.org",
      name: "eggs",
      canonicalAlias: "#spammy:example.org",
      joinedMembers: 2,
      joinedLocalMembers: 1,
    });
    expect(admin.callsOf("listRooms").map((call) => call.query)).toEqual([{ searchTerm: "spam", limit: 500, from: 0 }]);
  });

  it("--matching takes _ and % as typed, though the homeserver's search reads them as wildcards", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!under:example.org", { name: "old_logs" });
    admin.addRoom("!dash:example.org", { name: "old-logs" });
    admin.addRoom("!archive:example.org", { name: "archive", canonical_alias: "#old_logs_2024:example.org" });
    admin.addRoom("!dashalias:example.org", { name: null, canonical_alias: "#old-logs-2024:example.org" });
    admin.addRoom("!percent:example.org", { name: "100% off" });
    admin.addRoom("!thousand:example.org", { name: "1000 members" });

    const underscore = await selected(selector, request({ matching: "old_logs" }));
    const percent = await selected(selector, request({ matching: "100%" }));

    expect(ids(underscore)).toEqual(["!archive:example.org", "!under:example.org"]);
    expect(ids(percent)).toEqual(["!percent:example.org"]);
    // What the homeserver answered: every one of them, which a retention run would have purged unseen.
    const answered = await admin.listRooms({ searchTerm: "old_logs" });
    expect(answered.ok && answered.value.rooms.map((room) => room.room_id).sort()).toEqual(["!archive:example.org", "!dash:example.org", "!dashalias:example.org", "!under:example.org"]);
  });

  it("--matching looks in the alias's localpart, ignoring case, and takes a room ID only whole", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!casino:example.org", { name: null, canonical_alias: "#CasinoRoyale:example.org" });
    // Synapse's alias pattern "#%casino%:%" reaches past the localpart when the server name has a port.
    admin.addRoom("!lobby:casino.example.org", { name: "Lobby", canonical_alias: "#lobby:casino.example.org:8448" });
    admin.addRoom("!exact:example.org", { name: "Exact" });

    expect(ids(await selected(selector, request({ matching: "CASINO" })))).toEqual(["!casino:example.org"]);
    expect(ids(await selected(selector, request({ matching: "!exact:example.org" })))).toEqual(["!exact:example.org"]);
    expect(ids(await selected(selector, request({ matching: "!EXACT:example.org" })))).toEqual([]);
  });

  it("--matching with only blanks is an error, not every room", async () => {
    const { admin, selector } = homeserver();

    expect(await refused(selector, request({ matching: "  " }))).toBe("--matching needs at least one word to look for");
    expect(admin.calls).toEqual([]);
  });

  it("--empty alone selects every room with no local members", async () => {
    const { admin, selector } = homeserver();

    const result = await selected(selector, request({ empty: true }));

    expect(ids(result)).toEqual(["!ham:example.org", "!spam1:example.org"]);
    expect(admin.callsOf("listRooms").map((call) => call.query)).toEqual([{ limit: 500, from: 0 }]);
  });

  it("--matching spam --empty selects the matching rooms with no local members", async () => {
    const { selector } = homeserver();

    const result = await selected(selector, request({ matching: "spam", empty: true }));

    expect(ids(result)).toEqual(["!spam1:example.org"]);
  });

  it("--all selects every room", async () => {
    const { selector } = homeserver();

    const result = await selected(selector, request({ all: true }));

    expect(ids(result)).toEqual(["!eggs:example.org", "!ham:example.org", "!spam2:example.org", "!spam1:example.org"]);
  });

  it("--all adds nothing to another filter", async () => {
    const { selector } = homeserver();

    const result = await selected(selector, request({ matching: "ham", all: true }));

    expect(ids(result)).toEqual(["!ham:example.org"]);
  });

  it("does not take a room without a local member count for an empty room", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!a:example.org", { joined_local_members: 0 });
    const listRooms = admin.listRooms.bind(admin);
    admin.listRooms = async (query) => {
      const page = await listRooms(query);
      return page.ok ? ok({ ...page.value, rooms: page.value.rooms.map((room) => ({ ...room, joined_local_members: null })) }) : page;
    };

    expect(ids(await selected(selector, request({ empty: true })))).toEqual([]);
  });

  it("adds the listed rooms first, then the filter's, each once", async () => {
    const { selector } = homeserver();

    const result = await selected(selector, request({ listed: [byId("!spam1:example.org"), byId("!ham:example.org")], matching: "spam" }));

    expect(ids(result)).toEqual(["!spam1:example.org", "!ham:example.org", "!eggs:example.org", "!spam2:example.org"]);
  });

  it("an empty selection is a value, not an error", async () => {
    const { selector } = homeserver();

    expect(await selected(selector, request({ matching: "nothing like it" }))).toEqual({ rooms: [], leftOut: [] });
    expect(await selected(selector, request({}))).toEqual({ rooms: [], leftOut: [] });
  });

  it("reads every page of the room list, 500 rooms a page", async () => {
    const { admin, selector } = setup();
    for (let index = 0; index < 1203; index++) admin.addRoom(`!r${String(index).padStart(4, "0")}:example.org`, { name: `room ${String(index).padStart(4, "0")}` });

    const result = await selected(selector, request({ all: true }));

    expect(result.rooms).toHaveLength(1203);
    expect(result.rooms.at(-1)?.roomId).toBe("!r1202:example.org");
    expect(admin.callsOf("listRooms").map((call) => call.query)).toEqual([
      { limit: 500, from: 0 },
      { limit: 500, from: 500 },
      { limit: 500, from: 1000 },
    ]);
  });

  it("fails when a page of the room list fails, rather than select part of it", async () => {
    const { admin, selector } = homeserver();
    admin.failures.set("listRooms", adminError("forbidden", 403));

    expect(await refused(selector, request({ matching: "spam" }))).toBe(
      'could not list the rooms matching "spam": the homeserver refused: Warden\'s account is not allowed to do this',
    );
  });
});

describe("--space", () => {
  function spaces() {
    const context = setup();
    const { admin, directory } = context;
    admin.addSpace("!space:example.org", ["!general:example.org", "!sub:example.org", "!left:example.org", "!remote:remote.example"], { name: "Space" });
    admin.addSpace("!sub:example.org", ["!deep:example.org"], { name: "Sub" });
    admin.addRoom("!general:example.org", { name: "General", joined_local_members: 4 });
    admin.addRoom("!deep:example.org", { name: "Deep", joined_local_members: 1 });
    // Every local user left: Synapse's walk does not list it, the space's child event names it.
    admin.addRoom("!left:example.org", { name: "Left", joined_local_members: 0 });
    // Removed children: their m.space.child events have no `via` left.
    admin.addRoom("!outside:example.org", { name: "Outside", joined_local_members: 0 });
    admin.addRoom("!outside2:example.org", { name: "Outside too", joined_local_members: 0 });
    admin.otherChildEvents.set("!space:example.org", [
      { state_key: "!outside:example.org", content: {} },
      { state_key: "!outside2:example.org", content: { via: [] } },
    ]);
    directory.add("#space:example.org", "!space:example.org" as RoomId);
    return context;
  }

  it("selects the space and every room of its tree, with their details", async () => {
    const { admin, selector } = spaces();

    const result = await selected(selector, request({ space: byAlias("#space:example.org") }));

    expect(ids(result)).toEqual(["!space:example.org", "!general:example.org", "!sub:example.org", "!deep:example.org", "!left:example.org"]);
    expect(result.rooms[0]).toEqual({ roomId: "!space:example.org", label: "#space:example.org", name: "Space", joinedMembers: 2, joinedLocalMembers: 1 });
    expect(result.rooms[4]).toEqual({ roomId: "!left:example.org", label: "!left:example.org", name: "Left", joinedMembers: 2, joinedLocalMembers: 0 });
    expect(result.leftOut).toEqual([
      { label: "!remote:remote.example", roomId: "!remote:remote.example", why: "in the space #space:example.org, but this homeserver does not know it" },
    ]);
    expect(admin.callsOf("roomHierarchy").map((call) => [call.roomId, call.page])).toEqual([["!space:example.org", { limit: 50 }]]);
  });

  it("does not name a room as left out when it is also listed and kept", async () => {
    const { selector } = spaces();

    const result = await selected(selector, request({ listed: [byId("!remote:remote.example")], unknownRooms: "keep", space: byId("!space:example.org") }));

    expect(ids(result)[0]).toBe("!remote:remote.example");
    expect(result.leftOut).toEqual([]);
  });

  it("--space X --empty selects the rooms of the space with no local members", async () => {
    const { selector } = spaces();

    const result = await selected(selector, request({ space: byId("!space:example.org"), empty: true }));

    expect(ids(result)).toEqual(["!left:example.org"]);
  });

  it("--space X --matching WORDS selects the rooms both agree on, in the room list's order", async () => {
    const { selector } = spaces();

    const result = await selected(selector, request({ space: byId("!space:example.org"), matching: "e" }));

    expect(ids(result)).toEqual(["!deep:example.org", "!general:example.org", "!left:example.org", "!space:example.org"]);
  });

  it("reads every page of a large space", async () => {
    const { admin, selector } = setup();
    const children = Array.from({ length: 120 }, (_, index) => `!c${String(index)}:example.org`);
    admin.addSpace("!big:example.org", children);
    for (const child of children) admin.addRoom(child);

    const result = await selected(selector, request({ space: byId("!big:example.org") }));

    expect(result.rooms).toHaveLength(121);
    expect(admin.callsOf("roomHierarchy").map((call) => call.page)).toEqual([
      { limit: 50 },
      { limit: 50, from: "page-50" },
      { limit: 50, from: "page-100" },
    ]);
  });

  it("a space the homeserver does not know is an error", async () => {
    const { selector } = spaces();

    expect(await refused(selector, request({ space: byId("!nowhere:example.org") }))).toBe("this homeserver does not know the space !nowhere:example.org");
  });

  it("a space alias that does not resolve is an error", async () => {
    const { selector } = spaces();

    expect(await refused(selector, request({ space: byAlias("#nowhere:example.org") }))).toBe(
      "could not find the space: the alias #nowhere:example.org could not be resolved: the room directory has no such alias",
    );
  });

  it("a room that is not a space is an error, not that room alone", async () => {
    const { selector } = spaces();

    expect(await refused(selector, request({ space: byId("!general:example.org") }))).toBe("!general:example.org is not a space (its room type is not set)");
  });

  it("a space no local user is in is an error, and Synapse is not asked to walk it", async () => {
    const { admin, selector } = spaces();
    admin.addSpace("!abandoned:example.org", ["!general:example.org"], { joined_local_members: 0 });

    expect(await refused(selector, request({ space: byId("!abandoned:example.org") }))).toBe(
      "no user of this homeserver is in the space !abandoned:example.org, so Synapse cannot list its rooms",
    );
    expect(admin.callsOf("roomHierarchy")).toEqual([]);
  });

  it("says which Synapse version is needed when the hierarchy API is missing", async () => {
    const { admin, selector } = spaces();
    admin.hierarchyMissing = true;

    expect(await refused(selector, request({ space: byId("!space:example.org") }))).toBe(
      "this homeserver cannot list the rooms of a space: Synapse's admin space hierarchy API arrived in version 1.142",
    );
  });
});

describe("retention exclusions", () => {
  it("exclude.rooms leaves out rooms given by ID or alias, naming the rule", async () => {
    const { admin, directory, selector } = setup();
    admin.addRoom("!a:example.org", { name: "a" }).addRoom("!b:example.org", { name: "b" }).addRoom("!c:example.org", { name: "c" });
    directory.add("#b:example.org", "!b:example.org" as RoomId);

    const result = await selected(selector, request({ all: true, exclude: exclude({ rooms: ["!a:example.org", "#b:example.org"] }) }));

    expect(ids(result)).toEqual(["!c:example.org"]);
    expect(result.leftOut).toEqual([
      { label: "!a:example.org", roomId: "!a:example.org", why: "excluded by retention: exclude.rooms lists !a:example.org" },
      { label: "!b:example.org", roomId: "!b:example.org", why: "excluded by retention: exclude.rooms lists #b:example.org" },
    ]);
  });

  it("fails closed when an excluded alias does not resolve", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!a:example.org");

    expect(await refused(selector, request({ all: true, exclude: exclude({ rooms: ["#kept:example.org"] }) }))).toBe(
      "exclude.rooms: the alias #kept:example.org could not be resolved: the room directory has no such alias, so Warden cannot tell which rooms the policy spares",
    );
    expect(admin.callsOf("listRooms")).toEqual([]);
  });

  it("exclude.spaces leaves out the space and its rooms", async () => {
    const { admin, selector } = setup();
    admin.addSpace("!family:example.org", ["!kids:example.org", "!gone:example.org"], { name: "family" });
    admin.addRoom("!kids:example.org", { name: "kids" });
    admin.addRoom("!gone:example.org", { name: "gone", joined_local_members: 0 });
    admin.addRoom("!spam:example.org", { name: "spam" });

    const result = await selected(selector, request({ all: true, exclude: exclude({ spaces: ["!family:example.org"] }) }));

    expect(ids(result)).toEqual(["!spam:example.org"]);
    expect(result.leftOut.map((room) => [room.roomId, room.why])).toEqual([
      ["!family:example.org", "excluded by retention: in the space !family:example.org"],
      ["!gone:example.org", "excluded by retention: in the space !family:example.org"],
      ["!kids:example.org", "excluded by retention: in the space !family:example.org"],
    ]);
  });

  it("fails closed when an excluded space is unknown", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!a:example.org");

    expect(await refused(selector, request({ all: true, exclude: exclude({ spaces: ["!nowhere:example.org"] }) }))).toBe(
      "exclude.spaces: this homeserver does not know the space !nowhere:example.org, so Warden cannot tell which rooms the policy spares",
    );
  });

  it("dm: true leaves out rooms that look like direct messages, and only those", async () => {
    const { admin, selector } = setup();
    const dm = { name: null, canonical_alias: null, join_rules: "invite", public: false, joined_members: 2 };
    admin.addRoom("!dm:example.org", dm);
    admin.addRoom("!named:example.org", { ...dm, name: "Book club" });
    admin.addRoom("!aliased:example.org", { ...dm, canonical_alias: "#x:example.org" });
    admin.addRoom("!three:example.org", { ...dm, joined_members: 3 });
    admin.addRoom("!public:example.org", { ...dm, public: true });
    admin.addRoom("!open:example.org", { ...dm, join_rules: "public" });

    const result = await selected(selector, request({ all: true, exclude: exclude({ dm: true }) }));

    expect(result.leftOut).toEqual([
      { label: "!dm:example.org", roomId: "!dm:example.org", why: "excluded by retention: looks like a direct-message room (invite-only, no name or alias, 2 joined members)" },
    ]);
    expect(ids(result).sort()).toEqual(["!aliased:example.org", "!named:example.org", "!open:example.org", "!public:example.org", "!three:example.org"]);
  });

  it("dm: false keeps direct-message rooms", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!dm:example.org", { name: null, join_rules: "invite", joined_members: 2 });

    expect(ids(await selected(selector, request({ all: true, exclude: exclude({ dm: false }) })))).toEqual(["!dm:example.org"]);
  });

  it("members patterns leave out rooms with a matching member, anchored at both ends", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!bridged:example.org", { name: "a" }).addRoom("!lookalike:example.org", { name: "b" }).addRoom("!plain:example.org", { name: "c" });
    admin.members.set("!bridged:example.org", ["@alice:example.org", "@whatsapp_1:x"]);
    admin.members.set("!lookalike:example.org", ["@not_whatsapp_1:x", "@whatsapp_2:x.evil"]);
    admin.members.set("!plain:example.org", ["@bob:example.org"]);

    const result = await selected(selector, request({ all: true, exclude: exclude({ members: ["@whatsapp_.*:x"] }) }));

    expect(ids(result)).toEqual(["!lookalike:example.org", "!plain:example.org"]);
    expect(result.leftOut).toEqual([
      { label: "!bridged:example.org", roomId: "!bridged:example.org", why: "excluded by retention: member @whatsapp_1:x matches @whatsapp_.*:x" },
    ]);
  });

  it("reads members only when there are member patterns, and never for rooms already left out", async () => {
    const { admin, selector } = setup();
    admin.addRoom(MANAGEMENT).addRoom("!a:example.org").addRoom("!excluded:example.org");

    await selected(selector, request({ all: true, exclude: exclude({ dm: true }) }));
    expect(admin.callsOf("roomMembers")).toEqual([]);

    await selected(selector, request({ all: true, exclude: exclude({ rooms: ["!excluded:example.org"], members: ["@bridge_.*"] }) }));
    expect(admin.callsOf("roomMembers").map((call) => call.roomId)).toEqual(["!a:example.org"]);
  });

  it("reads members a few at a time", async () => {
    const { admin, selector } = setup(3);
    for (let index = 0; index < 20; index++) admin.addRoom(`!r${String(index)}:example.org`);

    const result = await selected(selector, request({ all: true, exclude: exclude({ members: ["@bridge_.*"] }) }));

    expect(result.rooms).toHaveLength(20);
    expect(admin.callsOf("roomMembers")).toHaveLength(20);
    expect(admin.mostMembersInFlight).toBe(3);
  });

  it("keeps a room deleted before its members were read: no member is left to spare", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!a:example.org", { name: "a" }).addRoom("!deleted:example.org", { name: "b" });
    admin.memberFailures.set("!deleted:example.org", adminError("not-found", 404, "Room not found"));

    const result = await selected(selector, request({ all: true, exclude: exclude({ members: ["@bridge_.*"] }) }));

    expect(ids(result)).toEqual(["!a:example.org", "!deleted:example.org"]);
  });

  it("fails closed when members cannot be read", async () => {
    const { admin, selector } = setup();
    admin.addRoom("!a:example.org");
    admin.failures.set("roomMembers", adminError("server-error", 500));

    expect(await refused(selector, request({ all: true, exclude: exclude({ members: ["@bridge_.*"] }) }))).toBe(
      "could not read the members of !a:example.org to check exclude.members: the homeserver failed with HTTP 500",
    );
  });

  it("an invalid member pattern is an error", async () => {
    const { selector } = setup();

    expect(await refused(selector, request({ all: true, exclude: exclude({ members: ["@(unclosed"] }) }))).toBe(
      "exclude.members: @(unclosed is not a valid regular expression",
    );
  });
});
