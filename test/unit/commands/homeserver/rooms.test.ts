import { describe, expect, it } from "vitest";
import { roomsCommand } from "../../../../src/commands/homeserver/rooms.js";
import type { Command } from "../../../../src/commands/spec.js";
import { ROOM_ORDERS, type RoomListQuery } from "../../../../src/synapse/adminClient.js";
import { commandFakes, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { CONTEXT, parseProblem, runCommand } from "../../../fakes/runCommand.js";
import { MAX_ARGUMENT_LENGTH } from "../../../../src/commands/parsing/words.js";

function roomsSetup(count = 3): { fakes: CommandFakes; rooms: Command } {
  const fakes = commandFakes();
  for (let index = 1; index <= count; index++) {
    fakes.admin.listRoom({
      room_id: `!room${index}:example.org`,
      name: index % 2 === 0 ? `Spam wave ${index}` : `Room ${index}`,
      canonical_alias: index === 1 ? "#first:example.org" : null,
      joined_members: index * 10,
      joined_local_members: index,
      public: index === 1,
    });
  }
  return { fakes, rooms: roomsCommand(fakes.dependencies) };
}

function listQueries(fakes: CommandFakes): RoomListQuery[] {
  return fakes.admin.roomCalls.flatMap((call) => (call.method === "listRooms" ? [call.query] : []));
}

/** Runs the next-page command a reply offered, the way the dispatcher would read it. */
async function followNextPage(rooms: Command, command: string | undefined, prefix = "!") {
  if (command === undefined) throw new Error("no next page offered");
  expect(command.startsWith(`${prefix}rooms`)).toBe(true);
  return runCommand(rooms, command.slice(`${prefix}rooms`.length).trim());
}

describe("!rooms: what it lists", () => {
  it("asks for the first page of 25 and reports each room, with no next page when all fit", async () => {
    const { fakes, rooms } = roomsSetup();
    const outcome = await runCommand(rooms, "");
    expect(listQueries(fakes)).toEqual([{ limit: 25, from: 0 }]);
    expect(outcome).toEqual({
      kind: "room-list",
      total: 3,
      offset: 0,
      rooms: [
        { roomId: "!room1:example.org", name: "Room 1", canonicalAlias: "#first:example.org", joinedMembers: 10, joinedLocalMembers: 1, public: true },
        { roomId: "!room2:example.org", name: "Spam wave 2", joinedMembers: 20, joinedLocalMembers: 2, public: false },
        { roomId: "!room3:example.org", name: "Room 3", joinedMembers: 30, joinedLocalMembers: 3, public: false },
      ],
    });
  });

  it("searches for several unquoted words as one phrase, the same as a quoted phrase", async () => {
    const { fakes, rooms } = roomsSetup(4);
    const unquoted = await runCommand(rooms, "spam wave");
    const quoted = await runCommand(rooms, '"spam wave"');
    expect(listQueries(fakes)).toEqual([
      { limit: 25, from: 0, searchTerm: "spam wave" },
      { limit: 25, from: 0, searchTerm: "spam wave" },
    ]);
    expect(unquoted).toEqual(quoted);
    expect(unquoted.kind === "room-list" && unquoted.rooms.map((room) => room.roomId)).toEqual(["!room2:example.org", "!room4:example.org"]);
    expect(unquoted.kind === "room-list" && unquoted.searchTerm).toBe("spam wave");
  });

  it("passes --order-by, --limit and --from, and offers the exact command for the next page", async () => {
    const { fakes, rooms } = roomsSetup(9);
    const outcome = await runCommand(rooms, "--order-by size room --limit 2 --from 2");
    expect(listQueries(fakes)).toEqual([{ limit: 2, from: 2, searchTerm: "room", orderBy: "size" }]);
    expect(outcome.kind === "room-list" && outcome.rooms.map((room) => room.roomId)).toEqual(["!room5:example.org", "!room7:example.org"]);
    expect(outcome.kind === "room-list" && outcome.nextPageCommand).toBe("!rooms room --order-by size --limit 2 --from 4");
  });

  it("pages through every room by following the offered commands, then offers none", async () => {
    const { fakes, rooms } = roomsSetup(5);
    const first = await runCommand(rooms, "--limit 2");
    expect(first.kind === "room-list" && first.nextPageCommand).toBe("!rooms --limit 2 --from 2");
    const second = await followNextPage(rooms, first.kind === "room-list" ? first.nextPageCommand : undefined);
    const third = await followNextPage(rooms, second.kind === "room-list" ? second.nextPageCommand : undefined);
    expect(third).toMatchObject({ kind: "room-list", offset: 4, total: 5 });
    expect(third.kind === "room-list" && third.nextPageCommand).toBeUndefined();
    expect(listQueries(fakes)).toEqual([
      { limit: 2, from: 0 },
      { limit: 2, from: 2 },
      { limit: 2, from: 4 },
    ]);
  });

  it("quotes search words in the next-page command so they read back exactly", async () => {
    const words = ["it's", 'say "hi"', "-dash", "two  spaces", "plain"];
    const fakes = commandFakes();
    for (let index = 0; index < 3; index++) fakes.admin.listRoom({ room_id: `!r${index}:example.org`, name: words.join(" ") });
    const rooms = roomsCommand(fakes.dependencies);

    const first = await runCommand(rooms, `"it's" 'say "hi"' "-dash" "two  spaces" plain --limit 1`);
    const next = first.kind === "room-list" ? first.nextPageCommand : undefined;
    expect(next).toBe(`!rooms "it's" 'say "hi"' "-dash" "two  spaces" plain --limit 1 --from 1`);
    await followNextPage(rooms, next);
    const terms = listQueries(fakes).map((query) => query.searchTerm);
    expect(terms).toEqual([words.join(" "), words.join(" ")]);
  });

  it("writes the next-page command with the configured prefix", async () => {
    const { rooms } = roomsSetup(3);
    const outcome = await runCommand(rooms, "--limit 1", { ...CONTEXT, prefix: "warden " });
    expect(outcome.kind === "room-list" && outcome.nextPageCommand).toBe("warden rooms --limit 1 --from 1");
  });

  it("refuses with the homeserver's reason when the list cannot be read", async () => {
    const { fakes, rooms } = roomsSetup();
    fakes.admin.failures.set("listRooms", adminError("bad-request", 400, "Unknown sort order"));
    expect(await runCommand(rooms, "")).toEqual({
      kind: "refused",
      reason: "could not list the rooms: the homeserver refused the request: Unknown sort order",
    });
  });
});

describe("!rooms: arguments", () => {
  it("accepts every sort order Synapse knows", () => {
    const { rooms } = roomsSetup();
    for (const order of ROOM_ORDERS) expect(parseProblem(rooms, `--order-by ${order}`)).toBeUndefined();
  });

  it.each(["1", "100", "25"])("accepts --limit %s", (limit) => {
    expect(parseProblem(roomsSetup().rooms, `--limit ${limit}`)).toBeUndefined();
  });

  it.each(["0", "101", "-1", "1.5", "ten", "1e2", "99999999999999999999"])("rejects --limit %s", (limit) => {
    expect(parseProblem(roomsSetup().rooms, `--limit ${limit}`)).toEqual({ argument: "--limit", given: limit, expected: "a whole number from 1 to 100" });
  });

  it.each(["-1", "x", "1.0", "1e3", "99999999999999999999"])("rejects --from %s", (from) => {
    expect(parseProblem(roomsSetup().rooms, `--from ${from}`)).toEqual({ argument: "--from", given: from, expected: "a whole number, 0 or more" });
  });

  it("accepts --from 0 and large offsets", () => {
    expect(parseProblem(roomsSetup().rooms, "--from 0")).toBeUndefined();
    expect(parseProblem(roomsSetup().rooms, "--from 123456")).toBeUndefined();
  });

  it.each(["bogus", "alphabetical", "Size", ""])("rejects --order-by %j", (order) => {
    const problem = parseProblem(roomsSetup().rooms, `--order-by "${order}"`);
    expect(problem?.argument).toBe("--order-by");
    if (order !== "") expect(problem).toEqual({ argument: "--order-by", given: order, expected: `one of ${ROOM_ORDERS.join(", ")}` });
  });

  it("rejects a flag without its value", () => {
    expect(parseProblem(roomsSetup().rooms, "--limit")).toEqual({ argument: "--limit", expected: "a value: --limit N (quote text with spaces)" });
  });

  it("rejects a search of nothing but quotes and spaces", () => {
    expect(parseProblem(roomsSetup().rooms, '"  "')).toEqual({
      argument: "[search words]",
      given: "  ",
      expected: "some text to look for in room names, aliases and IDs",
    });
  });

  it("refuses search words longer than one argument may be, asking Synapse nothing: the next-page command repeats them", () => {
    const { fakes, rooms } = roomsSetup();
    const words = Array.from({ length: 100 }, (_, index) => `word${index}`).join(" ");

    expect(parseProblem(rooms, words)).toEqual({
      argument: "[search words]",
      given: words,
      expected: `at most ${MAX_ARGUMENT_LENGTH} characters of search words (got ${words.length})`,
    });
    expect(parseProblem(rooms, words.slice(0, MAX_ARGUMENT_LENGTH))).toBeUndefined();
    expect(listQueries(fakes)).toEqual([]);
  });

  it("says in !help that the homeserver's search reads _ and % as wildcards, unlike a wave's --matching", () => {
    const { rooms } = roomsSetup();
    expect(rooms.details.join(" ")).toMatch(/_ stands for any one character and % for any text.*--matching/);
  });

  it("rejects unknown flags, naming the known ones", () => {
    expect(parseProblem(roomsSetup().rooms, "--dir b")).toEqual({ argument: "--dir", expected: "one of the options --order-by, --limit, --from" });
  });
});
