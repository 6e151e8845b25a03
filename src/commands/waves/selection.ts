import type { ArgumentProblem, FlagSpec, MisplacedFlag, Words } from "../../model/commandSpec.js";
import type { WaveSelection } from "../../model/waves.js";
import { err, ok, type Result } from "../../util/result.js";
import { parseRoomArgument, type RoomArgument } from "../parsing/arguments.js";
import { booleanFlag, textFlag } from "../parsing/words.js";

/**
 * The most rooms one wave takes, listed and selected together. Thousands, so that a report's
 * spam rooms or a whole space go in one command; bounded, because a wave runs for hours (at a
 * few seconds a room, 5,000 rooms take most of a day) and every room is stored and followed:
 * a selection that finds more is more likely a too-wide filter than a plan.
 */
export const MAX_WAVE_ROOMS = 5_000;

/** Which selection flags a command takes: `--all` only where a whole-server sweep makes sense (a retention purge). */
export type SelectionFlagName = "matching" | "space" | "empty" | "all";

/**
 * Once its last local member leaves, this server is no longer in the room: Synapse drops the
 * room's current state, and its room list (what --matching searches) keeps the room with no
 * name and no alias. Only its exact room ID still matches.
 */
export const EMPTY_ROOMS_HAVE_NO_NAME =
  "--matching cannot find a room with no local members by name: Synapse clears the name and alias of a room once no local member is left";

const FLAG_SPECS: Record<SelectionFlagName, FlagSpec> = {
  matching: {
    name: "matching",
    kind: "text",
    valueName: "WORDS",
    description: "every room whose name or canonical alias contains WORDS as typed, ignoring case (_ and % are plain characters), or whose room ID is WORDS",
  },
  space: { name: "space", kind: "text", valueName: "ROOM", description: "a space and every room in its hierarchy that this homeserver knows, the space included" },
  empty: {
    name: "empty",
    kind: "boolean",
    description: `rooms with no local members (with another selection: only those of its rooms). ${EMPTY_ROOMS_HAVE_NO_NAME}. Use --empty alone or with --space, or list the room`,
  },
  all: { name: "all", kind: "boolean", description: "every room on the homeserver" },
};

/**
 * The wave commands that delete no room (purge, block, unblock) refuse --quarantine-media by naming
 * the commands that take it: a shutdown quarantines each room's media right before the room's
 * delete, and the quarantine command quarantines media on its own.
 */
export const QUARANTINE_MEDIA_ELSEWHERE: MisplacedFlag = {
  name: "quarantine-media",
  expected:
    "no --quarantine-media here: the shutdown command takes it (each room's media is quarantined right before the room is deleted), and the quarantine command quarantines a room's media on its own",
};

export function selectionFlags(names: readonly SelectionFlagName[]): FlagSpec[] {
  return names.map((name) => FLAG_SPECS[name]);
}

/** The rooms a command names: listed ones, and filters over the homeserver's rooms. */
export interface RoomTargets {
  readonly listed: readonly RoomArgument[];
  /** As typed, for messages and the record. */
  readonly listedText: readonly string[];
  readonly matching?: string;
  readonly space?: RoomArgument;
  readonly spaceText?: string;
  readonly empty: boolean;
  readonly all: boolean;
}

/** One listed room and no filter: the single-room command, with its own progress message. */
export function isSingleRoom(targets: RoomTargets): boolean {
  return targets.listed.length === 1 && !hasFilter(targets);
}

export function hasFilter(targets: RoomTargets): boolean {
  return targets.matching !== undefined || targets.space !== undefined || targets.empty || targets.all;
}

export function selectionOf(targets: RoomTargets): WaveSelection {
  return {
    listed: targets.listedText,
    ...(targets.matching === undefined ? {} : { matching: targets.matching }),
    ...(targets.spaceText === undefined ? {} : { space: targets.spaceText }),
    ...(targets.empty ? { empty: true } : {}),
    ...(targets.all ? { all: true } : {}),
  };
}

/**
 * Reads the room words and selection flags. `roomWords` are the positionals that name rooms
 * (for !purge, all but the last). At least one room or one selection flag is needed.
 */
export function parseRoomTargets(words: Words, roomWords: readonly string[], allowed: readonly SelectionFlagName[]): Result<RoomTargets, ArgumentProblem> {
  // A room typed twice is one room of the wave.
  const distinct = new Set(roomWords).size;
  if (distinct > MAX_WAVE_ROOMS) {
    return err({ argument: "<room>", expected: `at most ${MAX_WAVE_ROOMS} rooms in one wave (${distinct} were listed): send them as several commands` });
  }
  const listed: RoomArgument[] = [];
  for (const word of roomWords) {
    const room = parseRoomArgument("<room>", word);
    if (!room.ok) return room;
    listed.push(room.value);
  }
  const matching = allowed.includes("matching") ? textFlag(words, "matching")?.trim() : undefined;
  if (matching !== undefined && matching.length < 2) {
    return err({ argument: "--matching", given: matching, expected: "at least two characters: one would match nearly every room" });
  }
  const spaceText = allowed.includes("space") ? textFlag(words, "space") : undefined;
  let space: RoomArgument | undefined;
  if (spaceText !== undefined) {
    const parsed = parseRoomArgument("--space", spaceText);
    if (!parsed.ok) return parsed;
    space = parsed.value;
  }
  const empty = allowed.includes("empty") && booleanFlag(words, "empty");
  const all = allowed.includes("all") && booleanFlag(words, "all");
  if (all && (matching !== undefined || space !== undefined)) {
    return err({ argument: "--all", expected: `not together with ${matching !== undefined ? "--matching" : "--space"}: --all already takes every room` });
  }
  if (listed.length === 0 && matching === undefined && space === undefined && !empty && !all) {
    const flags = allowed.map((name) => `--${name}`).join(", ");
    return err({ argument: "<room>", expected: `at least one room (a room ID, alias or matrix.to link), or a selection: ${flags}` });
  }
  return ok({
    listed,
    listedText: roomWords,
    ...(matching === undefined ? {} : { matching }),
    ...(space === undefined || spaceText === undefined ? {} : { space, spaceText }),
    empty,
    all,
  });
}
