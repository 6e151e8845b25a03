import { parseMxc, type Mxc, type UserId } from "../../matrix/ids.js";
import { err, ok, type Result } from "../../util/result.js";
import type { ArgumentProblem } from "../../model/commandSpec.js";
import { parseRoomArgument, parseUserArgument, ROOM_EXPECTED, type RoomArgument } from "./arguments.js";

/** What a media command acts on: all media of a room, all uploads of a user, or one file. */
export type MediaTarget =
  | { readonly kind: "room"; readonly room: RoomArgument }
  | { readonly kind: "user"; readonly userId: UserId }
  | { readonly kind: "mxc"; readonly mxc: Mxc; readonly text: string };

export const MXC_EXPECTED = "a content URI mxc://<server>/<media id> (letters, digits, - and _ only)";
export const MEDIA_TARGET_EXPECTED = `${ROOM_EXPECTED}, a user ID (@abuse:example.org) or ${MXC_EXPECTED}`;

/** One file only (what --undo, protect and delete by id act on). */
export function parseMxcArgument(name: string, word: string): Result<{ readonly mxc: Mxc; readonly text: string }, ArgumentProblem> {
  const mxc = parseMxc(word);
  return mxc === undefined ? err({ argument: name, given: word, expected: MXC_EXPECTED }) : ok({ mxc, text: word });
}

/** A room, a user or a file, told apart by the first character as Matrix writes them. */
export function parseMediaTarget(name: string, word: string, kinds: readonly MediaTarget["kind"][] = ["room", "user", "mxc"]): Result<MediaTarget, ArgumentProblem> {
  const expected = expectedOf(kinds);
  if (word.startsWith("mxc:") && kinds.includes("mxc")) {
    const file = parseMxcArgument(name, word);
    return file.ok ? ok({ kind: "mxc", ...file.value }) : file;
  }
  if (word.startsWith("@") && kinds.includes("user")) {
    const userId = parseUserArgument(name, word);
    return userId.ok ? ok({ kind: "user", userId: userId.value }) : userId;
  }
  if (kinds.includes("room")) {
    const room = parseRoomArgument(name, word);
    if (room.ok) return ok({ kind: "room", room: room.value });
  }
  return err({ argument: name, given: word, expected });
}

function expectedOf(kinds: readonly MediaTarget["kind"][]): string {
  const parts = [
    ...(kinds.includes("room") ? [ROOM_EXPECTED] : []),
    ...(kinds.includes("user") ? ["a user ID (@abuse:example.org)"] : []),
    ...(kinds.includes("mxc") ? [MXC_EXPECTED] : []),
  ];
  return parts.join(", or ");
}
