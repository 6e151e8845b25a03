import { ROOM_ORDERS, type RoomListBody, type RoomOrder, type SynapseAdminClient } from "../../synapse/adminClient.js";
import { err, ok, type Result } from "../../util/result.js";
import { present, type RoomListEntry } from "../../model/lookups.js";
import { defineCommand, type CommandContext } from "../spec.js";
import { type ArgumentProblem } from "../../model/commandSpec.js";
import { type CommandOutcome } from "../../model/outcomes.js";
import { MAX_ARGUMENT_LENGTH, textFlag } from "../parsing/words.js";

export const DEFAULT_ROOM_PAGE = 25;
export const LARGEST_ROOM_PAGE = 100;

interface RoomsArguments {
  /** The words as typed (quotes removed); Synapse gets them joined with spaces. */
  readonly searchWords: readonly string[];
  readonly orderBy?: RoomOrder;
  /** Set only when given, so the next-page command repeats exactly what was typed. */
  readonly limit?: number;
  readonly from: number;
}

export interface RoomsDependencies {
  readonly admin: Pick<SynapseAdminClient, "listRooms">;
}

export function roomsCommand(dependencies: RoomsDependencies) {
  return defineCommand<RoomsArguments>({
    name: "rooms",
    summary: "List the homeserver's rooms, a page at a time, optionally only those matching some words.",
    details: [
      "The search matches part of a room's name or canonical alias, or a whole room ID, ignoring case.",
      "Several search words need no quotes: they are searched for as one phrase.",
      "It is the homeserver's own search, a SQL LIKE, in which _ stands for any one character and % for any text: old_logs also lists old-logs. A wave's --matching checks each room against the words as typed.",
      "When there are more rooms, the reply ends with the exact command for the next page.",
      "size, joined_members, joined_local_members, version and state_events sort largest first; the others A to Z.",
    ],
    positionals: [
      { name: "search words", description: "text to look for in room names, aliases and IDs", optional: true, variadic: true },
    ],
    flags: [
      { name: "order-by", kind: "text", valueName: "ORDER", description: `how to sort: one of ${ROOM_ORDERS.join(", ")} (default name)` },
      { name: "limit", kind: "text", valueName: "N", description: `rooms per page, 1 to ${LARGEST_ROOM_PAGE} (default ${DEFAULT_ROOM_PAGE})` },
      { name: "from", kind: "text", valueName: "OFFSET", description: "how many rooms to skip, as the previous page's next-page command says (default 0)" },
    ],
    examples: ["!rooms", "!rooms spam wave --order-by size", "!rooms --order-by joined_members --limit 50 --from 50"],
    parse(words) {
      const searchWords = words.positionals;
      if (searchWords.length > 0 && searchWords.join(" ").trim() === "") {
        return err({ argument: "[search words]", given: searchWords.join(" "), expected: "some text to look for in room names, aliases and IDs" });
      }
      // The next-page command repeats them, and Synapse gets them in the URL.
      const searchLength = searchWords.join(" ").length;
      if (searchLength > MAX_ARGUMENT_LENGTH) {
        return err({ argument: "[search words]", given: searchWords.join(" "), expected: `at most ${MAX_ARGUMENT_LENGTH} characters of search words (got ${searchLength})` });
      }
      const orderText = textFlag(words, "order-by");
      const orderBy = ROOM_ORDERS.find((order) => order === orderText);
      if (orderText !== undefined && orderBy === undefined) {
        return err({ argument: "--order-by", given: orderText, expected: `one of ${ROOM_ORDERS.join(", ")}` });
      }
      const limitText = textFlag(words, "limit");
      const limit = limitText === undefined ? ok(undefined) : wholeNumber("--limit", limitText, 1, LARGEST_ROOM_PAGE);
      if (!limit.ok) return limit;
      const fromText = textFlag(words, "from");
      const from = fromText === undefined ? ok(0) : wholeNumber("--from", fromText, 0, Number.MAX_SAFE_INTEGER);
      if (!from.ok) return from;
      return ok({
        searchWords,
        from: from.value,
        ...(orderBy === undefined ? {} : { orderBy }),
        ...(limit.value === undefined ? {} : { limit: limit.value }),
      });
    },
    async execute(args, context): Promise<CommandOutcome> {
      const searchTerm = args.searchWords.length === 0 ? undefined : args.searchWords.join(" ");
      const listed = await dependencies.admin.listRooms({
        limit: args.limit ?? DEFAULT_ROOM_PAGE,
        from: args.from,
        ...(searchTerm === undefined ? {} : { searchTerm }),
        ...(args.orderBy === undefined ? {} : { orderBy: args.orderBy }),
      });
      if (!listed.ok) return { kind: "refused", reason: `could not list the rooms: ${listed.error.userMessage}` };
      const next = nextOffset(listed.value.next_batch);
      return {
        kind: "room-list",
        rooms: listed.value.rooms.map(roomListEntry),
        total: listed.value.total_rooms,
        offset: listed.value.offset ?? args.from,
        ...(searchTerm === undefined ? {} : { searchTerm }),
        ...(next === undefined ? {} : { nextPageCommand: nextPageCommand(args, next, context) }),
      };
    },
  });
}

function wholeNumber(argument: string, text: string, least: number, most: number): Result<number, ArgumentProblem> {
  const value = /^\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < least || value > most) {
    const expected = most === Number.MAX_SAFE_INTEGER ? `a whole number, ${least} or more` : `a whole number from ${least} to ${most}`;
    return err({ argument, given: text, expected });
  }
  return ok(value);
}

/** Synapse sends next_batch as a number (an offset); anything else cannot be paged to. */
function nextOffset(nextBatch: number | string | null | undefined): number | undefined {
  if (typeof nextBatch === "number") return Number.isSafeInteger(nextBatch) && nextBatch >= 0 ? nextBatch : undefined;
  return typeof nextBatch === "string" && /^\d{1,16}$/.test(nextBatch) ? Number(nextBatch) : undefined;
}

/** The same command with --from moved on; it parses back to the same search, order and page size. */
function nextPageCommand(args: RoomsArguments, from: number, context: CommandContext): string {
  const parts = [`${context.prefix}rooms`, ...args.searchWords.map(typedWord)];
  if (args.orderBy !== undefined) parts.push("--order-by", args.orderBy);
  if (args.limit !== undefined) parts.push("--limit", String(args.limit));
  parts.push("--from", String(from));
  return parts.join(" ");
}

/** A search word as it must be typed: quoted when spaces, quotes or a leading dash would change how it splits. */
function typedWord(word: string): string {
  if (/^[^\s"'-][^\s"']*$/.test(word)) return word;
  return word.includes('"') ? `'${word}'` : `"${word}"`;
}

function roomListEntry(room: RoomListBody["rooms"][number]): RoomListEntry {
  return {
    roomId: room.room_id,
    joinedMembers: room.joined_members,
    ...present("name", room.name),
    ...present("canonicalAlias", room.canonical_alias),
    ...present("joinedLocalMembers", room.joined_local_members),
    ...present("public", room.public),
  };
}
