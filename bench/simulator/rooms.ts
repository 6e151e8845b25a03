import { roomSearch, type DatabaseEngine } from "./like.js";

/**
 * N rooms computed from their index rather than stored: a room's ID, name, alias, members and
 * events are functions of the index, and only what changes (purged history, deletion, blocks)
 * takes memory, in typed arrays. 100,000 rooms cost a few megabytes.
 */
export interface RoomsOptions {
  readonly count: number;
  readonly serverName: string;
  /** Events per room, the first its m.room.create. */
  readonly eventsPerRoom: number;
  /** Time between two events of a room. */
  readonly eventSpacingMs: number;
  /** When the newest events were sent: history ends here. */
  readonly historyEnd: number;
  /** Every this-many-th room is named "spam …", for --matching. */
  readonly spamEvery: number;
  readonly engine: DatabaseEngine;
  /** Names for the first rooms, in place of generated ones (to mirror rooms made on a real Synapse). */
  readonly names?: readonly string[];
}

/** A room's row as the list and the details share it. */
export interface RoomRow {
  readonly room_id: string;
  readonly name: string;
  readonly canonical_alias: string | null;
  readonly joined_members: number;
  readonly joined_local_members: number;
  readonly version: string;
  readonly creator: string;
  readonly encryption: string | null;
  readonly federatable: boolean;
  readonly public: boolean;
  readonly join_rules: string;
  readonly guest_access: string | null;
  readonly history_visibility: string;
  readonly state_events: number;
  readonly room_type: string | null;
}

export interface SimEvent {
  readonly event_id: string;
  readonly type: string;
  readonly sender: string;
  readonly origin_server_ts: number;
  readonly room_id: string;
  readonly content: Readonly<Record<string, unknown>>;
  readonly state_key?: string;
}

export interface RoomPage {
  readonly rooms: readonly RoomRow[];
  readonly total: number;
}

/** Orders the list can be asked for; others are answered 400 by the simulator (Warden asks none of them). */
export const SIMULATED_ORDERS = ["name", "canonical_alias", "joined_members", "joined_local_members", "state_events"] as const;
export type SimulatedOrder = (typeof SIMULATED_ORDERS)[number];

const DELETED = 1;
/** The space (room 0) has this many children, rooms 1 to N. */
const SPACE_CHILDREN = 20;

export class SimulatedRooms {
  private readonly deleted: Uint8Array;
  private deletedCount = 0;
  /** Index of a room's first event still there: the ones before it were purged. */
  private readonly firstKept: Uint16Array;
  /** Blocks, by room ID: also rooms the server does not know, as Synapse allows. */
  private readonly blocked = new Map<string, string>();
  private readonly orders = new Map<string, Int32Array>();
  /** The last search's matching positions in the name order: Warden reads a search page by page. */
  private lastSearch: { readonly term: string; readonly key: string; readonly positions: Int32Array } | undefined;
  private readonly idPattern: RegExp;

  constructor(readonly options: RoomsOptions) {
    if (options.eventsPerRoom > 65_535) throw new Error("at most 65,535 events per room");
    this.deleted = new Uint8Array(options.count);
    this.firstKept = new Uint16Array(options.count);
    this.idPattern = new RegExp(`^!r(\\d+):${escape(options.serverName)}$`);
  }

  get count(): number {
    return this.options.count;
  }

  roomId(index: number): string {
    return `!r${String(index)}:${this.options.serverName}`;
  }

  /** The index of a room ID this simulator made, known or deleted; undefined otherwise. */
  indexOf(roomId: string): number | undefined {
    const digits = this.idPattern.exec(roomId)?.[1];
    if (digits === undefined || (digits.length > 1 && digits.startsWith("0"))) return undefined;
    const index = Number(digits);
    return index < this.options.count ? index : undefined;
  }

  /** Whether the server knows the room: made by the simulator and not deleted. */
  knows(index: number): boolean {
    return index >= 0 && index < this.options.count && this.deleted[index] !== DELETED;
  }

  name(index: number): string {
    const given = this.options.names?.[index];
    if (given !== undefined) return given;
    if (index === 0) return "Bench space";
    return index % this.options.spamEvery === 0 ? `spam offer ${String(index)}` : `bench room ${String(index)}`;
  }

  row(index: number): RoomRow {
    const joined = 1 + (index % 5);
    const local = index % 4 === 0 ? 0 : 1;
    return {
      room_id: this.roomId(index),
      name: this.name(index),
      // A room named by the caller mirrors one made without an alias.
      canonical_alias: index % 3 === 0 && this.options.names?.[index] === undefined ? `#alias${String(index)}:${this.options.serverName}` : null,
      joined_members: joined,
      joined_local_members: Math.min(local, joined),
      version: "10",
      creator: this.localUser(0),
      encryption: null,
      federatable: true,
      public: index % 7 === 0,
      join_rules: index % 7 === 0 ? "public" : "invite",
      guest_access: null,
      history_visibility: "shared",
      state_events: 5 + joined,
      room_type: index === 0 ? "m.space" : null,
    };
  }

  /** Joined members: local ones first, then remote ones. */
  members(index: number): string[] {
    const row = this.row(index);
    const local = Array.from({ length: row.joined_local_members }, (_, member) => this.localUser(member));
    const remote = Array.from({ length: row.joined_members - row.joined_local_members }, (_, member) => `@remote${String(member)}:remote.example`);
    return [...local, ...remote];
  }

  /**
   * One page of GET /rooms: known rooms matching `search`, in `order` (room ID breaking ties, as
   * Synapse's ORDER BY does), from offset `from`.
   */
  page(query: { readonly from: number; readonly limit: number; readonly order: SimulatedOrder; readonly backwards: boolean; readonly search?: string }): RoomPage {
    const ordered = this.ordered(query.order, query.backwards);
    const positions = query.search === undefined ? undefined : this.searched(query.search, query.order, query.backwards, ordered);
    const total = positions === undefined ? this.options.count - this.deletedCount : this.knownAmong(ordered, positions);
    const rooms: RoomRow[] = [];
    // Deleted rooms are skipped as they come: few of them are ever deleted at once.
    let seen = 0;
    const length = positions === undefined ? ordered.length : positions.length;
    for (let position = 0; position < length && rooms.length < query.limit; position++) {
      const index = positions === undefined ? (ordered[position] ?? -1) : (ordered[positions[position] ?? -1] ?? -1);
      if (!this.knows(index)) continue;
      if (seen++ < query.from) continue;
      rooms.push(this.row(index));
    }
    return { rooms, total };
  }

  /** Event k of room i: k = 0 is its creation, the others messages. */
  event(index: number, k: number): SimEvent {
    const roomId = this.roomId(index);
    const eventId = `$e${String(k)}_${String(index)}`;
    const sentAt = this.sentAt(index, k);
    if (k === 0) return { event_id: eventId, type: "m.room.create", sender: this.localUser(0), origin_server_ts: sentAt, room_id: roomId, content: { room_version: "10" }, state_key: "" };
    return {
      event_id: eventId,
      type: "m.room.message",
      sender: k % 2 === 0 ? this.localUser(0) : "@remote0:remote.example",
      origin_server_ts: sentAt,
      room_id: roomId,
      content: { msgtype: "m.text", body: `message ${String(k)}` },
    };
  }

  /** The position of an event of this simulator: its room and index; undefined for another ID. */
  eventPosition(eventId: string): { readonly index: number; readonly k: number } | undefined {
    const match = /^\$e(\d+)_(\d+)$/.exec(eventId);
    if (match === null) return undefined;
    const k = Number(match[1]);
    const index = Number(match[2]);
    if (index >= this.options.count || k >= this.options.eventsPerRoom) return undefined;
    return { index, k };
  }

  sentAt(index: number, k: number): number {
    const { eventsPerRoom, eventSpacingMs, historyEnd } = this.options;
    // Rooms are staggered by a few milliseconds so that no two share a sending time.
    return historyEnd - (eventsPerRoom - 1 - k) * eventSpacingMs - (index % 1000);
  }

  firstKeptEvent(index: number): number {
    return this.firstKept[index] ?? 0;
  }

  /** timestamp_to_event: the closest event still there at or after (f) or at or before (b) `ts`. */
  closestEvent(index: number, ts: number, direction: "f" | "b"): SimEvent | undefined {
    const first = this.firstKeptEvent(index);
    const last = this.options.eventsPerRoom - 1;
    if (direction === "f") {
      for (let k = first; k <= last; k++) if (this.sentAt(index, k) >= ts) return this.event(index, k);
      return undefined;
    }
    for (let k = last; k >= first; k--) if (this.sentAt(index, k) <= ts) return this.event(index, k);
    return undefined;
  }

  /** Purges a room's history before event k (which stays). */
  purgeBefore(index: number, k: number): void {
    this.firstKept[index] = Math.max(this.firstKeptEvent(index), k);
  }

  /** The room's last event sent strictly before `ts` (purge_up_to_ts's token), if any still there. */
  lastEventBefore(index: number, ts: number): number | undefined {
    for (let k = this.options.eventsPerRoom - 1; k >= this.firstKeptEvent(index); k--) if (this.sentAt(index, k) < ts) return k;
    return undefined;
  }

  remove(index: number): void {
    if (this.deleted[index] === DELETED) return;
    this.deleted[index] = DELETED;
    this.deletedCount++;
  }

  block(roomId: string, userId: string | undefined): void {
    if (userId === undefined) this.blocked.delete(roomId);
    else this.blocked.set(roomId, userId);
  }

  blockedBy(roomId: string): string | undefined {
    return this.blocked.get(roomId);
  }

  /** The space's children: rooms 1 to SPACE_CHILDREN. */
  spaceChildren(): number[] {
    return Array.from({ length: Math.min(SPACE_CHILDREN, this.options.count - 1) }, (_, child) => child + 1);
  }

  localUser(member: number): string {
    return `@user${String(member)}:${this.options.serverName}`;
  }

  private knownAmong(ordered: Int32Array, positions: Int32Array): number {
    let known = 0;
    for (const position of positions) if (this.knows(ordered[position] ?? -1)) known++;
    return known;
  }

  /** Every room index in `order`, built once per order and direction. */
  private ordered(order: SimulatedOrder, backwards: boolean): Int32Array {
    const key = `${order} ${backwards ? "b" : "f"}`;
    const cached = this.orders.get(key);
    if (cached !== undefined) return cached;
    const indices = Int32Array.from({ length: this.options.count }, (_, index) => index);
    const byText = (value: (index: number) => string | null, ascending: boolean) => (a: number, b: number) => {
      const first = value(a);
      const second = value(b);
      // SQLite sorts NULL before any text in ascending order.
      const compared = first === second ? 0 : first === null ? -1 : second === null ? 1 : first < second ? -1 : 1;
      const tie = this.roomId(a) < this.roomId(b) ? -1 : 1;
      return (ascending ? 1 : -1) * (compared === 0 ? tie : compared);
    };
    const byNumber = (value: (index: number) => number, ascending: boolean) => (a: number, b: number) => {
      const compared = value(a) - value(b);
      const tie = this.roomId(a) < this.roomId(b) ? -1 : 1;
      return (ascending ? 1 : -1) * (compared === 0 ? tie : compared);
    };
    const compare = {
      name: byText((index) => this.name(index), !backwards),
      canonical_alias: byText((index) => this.row(index).canonical_alias, !backwards),
      // Synapse sorts member counts largest first; dir=b turns that round.
      joined_members: byNumber((index) => this.row(index).joined_members, backwards),
      joined_local_members: byNumber((index) => this.row(index).joined_local_members, backwards),
      state_events: byNumber((index) => this.row(index).state_events, backwards),
    }[order];
    indices.sort(compare);
    this.orders.set(key, indices);
    return indices;
  }

  /** Positions in `ordered` of the rooms the search matches, deleted ones included (page() skips them). */
  private searched(term: string, order: SimulatedOrder, backwards: boolean, ordered: Int32Array): Int32Array {
    const key = `${order} ${backwards ? "b" : "f"}`;
    if (this.lastSearch?.term === term && this.lastSearch.key === key) return this.lastSearch.positions;
    const matches = roomSearch(term, this.options.engine);
    const found: number[] = [];
    for (let position = 0; position < ordered.length; position++) {
      const index = ordered[position] ?? 0;
      const row = this.row(index);
      if (matches(row.room_id, row.name, row.canonical_alias ?? undefined)) found.push(position);
    }
    const positions = Int32Array.from(found);
    this.lastSearch = { term, key, positions };
    return positions;
  }
}

function escape(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
