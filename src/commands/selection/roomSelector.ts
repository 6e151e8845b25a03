import pLimit, { type LimitFunction } from "p-limit";
import type { RoomDirectory } from "../../matrix/chat.js";
import { asRoomId, type RoomId } from "../../matrix/ids.js";
import type { LeftOutRoom, RoomSelector, SelectedRoom, SelectionRequest, SelectionResult } from "../../model/waves.js";
import { listAllRooms } from "../../synapse/paging.js";
import { err, ok, type Result } from "../../util/result.js";
import type { ProtectedRoomSource } from "../parsing/protectedRooms.js";
import { exclusionReason, prepareExclusions } from "./exclusions.js";
import { containsWords, resolveReference, roomInfo, type Candidate, type RoomFields, type SelectionAdmin } from "./rooms.js";
import { readSpace, type SpaceTree } from "./spaces.js";

/** Room details and member reads in flight at once: enough to be quick, few enough to go unnoticed. */
const DEFAULT_CONCURRENCY = 4;

export interface RoomSelectorDependencies {
  readonly admin: SelectionAdmin;
  readonly directory: RoomDirectory;
  readonly managementRoomId: RoomId;
  readonly protectedRooms: ProtectedRoomSource;
  readonly concurrency?: number;
}

/**
 * Turns a selection into rooms, reading the homeserver through the admin API.
 *
 * The rooms are the listed rooms plus the rooms that every given filter agrees on:
 * - `matching` WORDS: the admin room list's search_term (a substring of the name, of the
 *   canonical alias's localpart, or the exact room ID), each room it answers checked against
 *   WORDS as typed (containsWords: its SQL reads _ and % as wildcards);
 * - `space`: the space itself and every room of its tree this homeserver is in;
 * - `empty`: rooms with no local member (joined_local_members is 0);
 * - `all`: every room; it adds nothing to another filter.
 * So `--empty` alone is every room without local members, `--matching spam --empty` the rooms
 * matching "spam" without local members, `--space X --empty` the rooms of X without local members.
 *
 * Each room comes once, by room ID: listed rooms first in the order typed, then the filters'
 * rooms in the room list's order (by name) or, for a space alone, the space's order (depth first).
 *
 * Left out, each named with its reason: Warden's management room and the protectedRooms
 * (always); a listed alias that does not resolve; a listed room this homeserver does not know
 * when `unknownRooms` is "leave-out" (kept without details otherwise); the rooms the retention
 * exclusions match. An empty result is a value: the caller says that nothing was selected.
 *
 * Errors (no rooms at all): protectedRooms or an exclusion that cannot be resolved (fail closed),
 * a space this homeserver does not know or cannot walk, and any admin read that fails.
 */
export class AdminRoomSelector implements RoomSelector {
  constructor(private readonly dependencies: RoomSelectorDependencies) {}

  async select(request: SelectionRequest): Promise<Result<SelectionResult, string>> {
    const { admin, directory, managementRoomId } = this.dependencies;
    const protectedRooms = await this.dependencies.protectedRooms.current();
    if (!protectedRooms.ok) return err(protectedRooms.error);
    const exclusions = await prepareExclusions(request.exclude, admin, directory);
    if (!exclusions.ok) return exclusions;
    const limit = pLimit(this.dependencies.concurrency ?? DEFAULT_CONCURRENCY);
    const leftOut: LeftOutRoom[] = [];

    const listed = await this.listedRooms(request, limit, leftOut);
    if (!listed.ok) return listed;
    const filtered = await this.filteredRooms(request, limit, leftOut);
    if (!filtered.ok) return filtered;

    const seen = new Set<string>();
    const kept: Candidate[] = [];
    for (const candidate of [...listed.value, ...filtered.value]) {
      if (seen.has(candidate.roomId)) continue;
      seen.add(candidate.roomId);
      const why = firstRuleLeavingOut(candidate, managementRoomId, protectedRooms.value, request.unknownRooms);
      if (why === undefined) kept.push(candidate);
      else leftOut.push({ label: candidate.label, roomId: candidate.roomId, why });
    }

    const verdicts = await Promise.all(kept.map((candidate) => exclusionReason(candidate, exclusions.value, admin, limit)));
    const rooms: SelectedRoom[] = [];
    for (const [index, candidate] of kept.entries()) {
      const verdict = verdicts[index];
      if (verdict === undefined) continue;
      if (!verdict.ok) return verdict;
      if (verdict.value === undefined) rooms.push(selected(candidate));
      else leftOut.push({ label: candidate.label, roomId: candidate.roomId, why: verdict.value });
    }
    // A listed room kept though unknown may also be a space's unknown child: chosen wins.
    const chosen = new Set<string>(rooms.map((room) => room.roomId));
    return ok({ rooms, leftOut: leftOut.filter((room) => room.roomId === undefined || !chosen.has(room.roomId)) });
  }

  /** Listed rooms in the order typed, with their details; aliases that do not resolve go to `leftOut`. */
  private async listedRooms(request: SelectionRequest, limit: LimitFunction, leftOut: LeftOutRoom[]): Promise<Result<Candidate[], string>> {
    const { admin, directory } = this.dependencies;
    const resolved = await Promise.all(request.listed.map((reference) => limit(() => resolveReference(reference, directory))));
    const targets: { roomId: RoomId; label: string }[] = [];
    const seen = new Set<string>();
    for (const [index, target] of resolved.entries()) {
      const reference = request.listed[index];
      if (reference === undefined) continue;
      if (!target.ok) {
        const label = reference.kind === "id" ? reference.roomId : reference.alias;
        if (!leftOut.some((room) => room.label === label && room.roomId === undefined)) leftOut.push({ label, why: target.error });
        continue;
      }
      if (seen.has(target.value.roomId)) continue;
      seen.add(target.value.roomId);
      targets.push(target.value);
    }
    const details = await Promise.all(targets.map((target) => limit(() => admin.roomDetails(target.roomId))));
    const rooms: Candidate[] = [];
    for (const [index, target] of targets.entries()) {
      const answer = details[index];
      if (answer === undefined) continue;
      if (answer.ok) rooms.push({ ...target, info: roomInfo(answer.value) });
      // Whether an unknown room stays is decided with the other rules, so a protected one says so.
      else if (answer.error.kind === "not-found") rooms.push(target);
      else return err(`could not read the room ${target.label}: ${answer.error.userMessage}`);
    }
    return ok(rooms);
  }

  /** The rooms every given filter agrees on; none when no filter is given. */
  private async filteredRooms(request: SelectionRequest, limit: LimitFunction, leftOut: LeftOutRoom[]): Promise<Result<Candidate[], string>> {
    const { admin, directory } = this.dependencies;
    const { matching, space, empty, all } = request;
    if (matching === undefined && space === undefined && empty !== true && all !== true) return ok([]);
    let rooms: Candidate[] | undefined;
    if (matching !== undefined) {
      // Synapse refuses an empty search_term; a blank one would otherwise mean "every room".
      if (matching.trim() === "") return err("--matching needs at least one word to look for");
      const found = await listAllRooms(admin, { searchTerm: matching });
      if (!found.ok) return err(`could not list the rooms matching "${matching}": ${found.error.userMessage}`);
      rooms = found.value
        .filter((entry) => containsWords(matching, entry.room_id, roomInfo(entry)))
        .flatMap((entry) => candidateOf(entry.room_id, entry, leftOut));
    }
    if (space !== undefined) {
      const tree = await readSpace(space, admin, directory);
      if (!tree.ok) return tree;
      if (rooms === undefined) {
        const described = await this.describeSpace(tree.value, limit, leftOut);
        if (!described.ok) return described;
        rooms = described.value;
      } else {
        const inSpace = new Set(tree.value.roomIds);
        rooms = rooms.filter((room) => inSpace.has(room.roomId));
      }
    }
    if (rooms === undefined) {
      const everything = await listAllRooms(admin);
      if (!everything.ok) return err(`could not list the homeserver's rooms: ${everything.error.userMessage}`);
      rooms = everything.value.flatMap((entry) => candidateOf(entry.room_id, entry, leftOut));
    }
    // An unknown local member count (a room list entry without one) is not taken for zero.
    if (empty === true) rooms = rooms.filter((room) => room.info?.joinedLocalMembers === 0);
    return ok(rooms);
  }

  /** The space's rooms with their details: the hierarchy has neither local member counts nor join rules as the room list spells them. */
  private async describeSpace(tree: SpaceTree, limit: LimitFunction, leftOut: LeftOutRoom[]): Promise<Result<Candidate[], string>> {
    const { admin } = this.dependencies;
    const others = tree.roomIds.filter((roomId) => roomId !== tree.spaceId);
    const details = await Promise.all(
      others.map((roomId) => {
        const checked = asRoomId(roomId);
        return checked === undefined ? Promise.resolve(undefined) : limit(() => admin.roomDetails(checked));
      }),
    );
    const rooms: Candidate[] = [{ roomId: tree.spaceId, label: tree.label, info: roomInfo(tree.details) }];
    for (const [index, roomId] of others.entries()) {
      const answer = details[index];
      if (answer === undefined) leftOut.push({ label: roomId, why: "the homeserver listed it under an ID Warden cannot read" });
      else if (answer.ok) rooms.push(...candidateOf(roomId, answer.value, leftOut));
      // A child on another server that no local user ever joined, or a room deleted since: nothing to act on here.
      else if (answer.error.kind === "not-found") leftOut.push({ label: roomId, roomId, why: `in the space ${tree.label}, but this homeserver does not know it` });
      else return err(`could not read the room ${roomId} of the space ${tree.label}: ${answer.error.userMessage}`);
    }
    return ok(rooms);
  }
}

/** Management room and protectedRooms before "unknown", so a protected room is named as protected. */
function firstRuleLeavingOut(
  candidate: Candidate,
  managementRoomId: RoomId,
  protectedRooms: ReadonlySet<RoomId>,
  unknownRooms: SelectionRequest["unknownRooms"],
): string | undefined {
  if (candidate.roomId === managementRoomId) return "Warden's own management room";
  if (protectedRooms.has(candidate.roomId)) return "listed in protectedRooms in Warden's config";
  if (candidate.info === undefined && unknownRooms === "leave-out") return "this homeserver does not know the room";
  return undefined;
}

function candidateOf(roomId: string, fields: RoomFields, leftOut: LeftOutRoom[]): Candidate[] {
  const checked = asRoomId(roomId);
  if (checked === undefined) {
    leftOut.push({ label: roomId, why: "the homeserver listed it under an ID Warden cannot read" });
    return [];
  }
  return [{ roomId: checked, label: roomId, info: roomInfo(fields) }];
}

function selected(candidate: Candidate): SelectedRoom {
  const info = candidate.info;
  return {
    roomId: candidate.roomId,
    label: candidate.label,
    ...(info?.name === undefined ? {} : { name: info.name }),
    ...(info?.canonicalAlias === undefined ? {} : { canonicalAlias: info.canonicalAlias }),
    ...(info?.joinedMembers === undefined ? {} : { joinedMembers: info.joinedMembers }),
    ...(info?.joinedLocalMembers === undefined ? {} : { joinedLocalMembers: info.joinedLocalMembers }),
  };
}
