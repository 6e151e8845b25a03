import { randomBytes } from "node:crypto";
import { z } from "zod";
import {
  FINAL_WAVE_ROOM_STATES,
  WAVE_KINDS,
  WAVE_PHASES,
  WAVE_ROOM_STATES,
  WAVE_STATUSES,
  type WavePhase,
  type WaveRecord,
  type WaveRoom,
} from "../model/waves.js";
import type { WardenDatabase } from "./database.js";
import { settled } from "./errors.js";
import type { SQLInputValue } from "./sqlite.js";

/** Finished waves older than this are deleted with their rooms; their tasks go after 30 days too. */
const KEEP_FINISHED_MS = 30 * 24 * 3600 * 1000;

const parameterValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);
const leftOutSchema = z.array(z.object({ label: z.string(), roomId: z.string().exactOptional(), why: z.string() }));
const selectionSchema = z.object({
  listed: z.array(z.string()),
  matching: z.string().exactOptional(),
  space: z.string().exactOptional(),
  empty: z.boolean().exactOptional(),
  all: z.boolean().exactOptional(),
});

const waveSchema = z.object({
  id: z.string(),
  kind: z.enum(WAVE_KINDS),
  requester: z.string(),
  managementRoomId: z.string(),
  commandEventId: z.string(),
  selection: selectionSchema,
  parameters: z.record(z.string(), parameterValue),
  policy: z.string().exactOptional(),
  leftOut: leftOutSchema,
  status: z.enum(WAVE_STATUSES),
  boardEventId: z.string().exactOptional(),
  createdAt: z.number(),
  finishedAt: z.number().exactOptional(),
  cancelledBy: z.string().exactOptional(),
  finalNotificationSent: z.boolean(),
  board: z.literal(false).exactOptional(),
  mainPhaseNotified: z.literal(true).exactOptional(),
});

const stepOutcome = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), count: z.number(), at: z.number() }),
  z.object({ ok: z.literal(false), reason: z.string(), at: z.number() }),
]);
// One key per step (ROOM_STEPS). A step this Warden does not know (written by a newer one) is dropped, not a reason to lose the room.
const stepsSchema = z.object({ media: stepOutcome.exactOptional() });

const roomSchema = z.object({
  waveId: z.string(),
  roomId: z.string(),
  phase: z.enum(WAVE_PHASES),
  label: z.string(),
  name: z.string().exactOptional(),
  joinedMembers: z.number().exactOptional(),
  joinedLocalMembers: z.number().exactOptional(),
  state: z.enum(WAVE_ROOM_STATES),
  taskId: z.string().exactOptional(),
  attempts: z.number(),
  notBefore: z.number().exactOptional(),
  reason: z.string().exactOptional(),
  finishedAt: z.number().exactOptional(),
  durationMs: z.number().exactOptional(),
  sendId: z.string().exactOptional(),
  steps: stepsSchema.exactOptional(),
});

/** A wave's rooms not yet in a final state: in all, in the main phase, and queued. */
export interface RoomTally {
  /** Rooms not final; 0 once every room is (the wave is done). */
  readonly unfinished: number;
  /** Main-phase rooms not final; 0 once the main phase has ended. */
  readonly mainUnfinished: number;
  /** Rooms waiting to be sent (state queued, whatever their notBefore). */
  readonly queued: number;
}

interface Loaded {
  readonly id: string;
  wave: WaveRecord;
  /** In selection order; the key is phase + room ID. */
  readonly rooms: Map<string, WaveRoom>;
  /** Each room's seq: its place in selection order, to list a task's rooms in that order. */
  readonly seqs: Map<string, number>;
  nextSeq: number;
  /** When it was loaded, against the others: roomsOfTask lists waves in this order. */
  readonly loadedAs: number;
  /** Kept with every room written, so whether the wave (or its main phase) is done is known without counting its rooms. */
  readonly tally: { unfinished: number; mainUnfinished: number; queued: number };
  /**
   * The keys of each phase's queued rooms, in selection order, kept with every room written: a
   * pass of the engine runs at each job's end and reads only these, not the rooms already done
   * (at 100,000 rooms that walk was most of a pass). Rooms are queued in selection order as a
   * rule (`inOrder`, whose last room's seq is `lastSeq` or less); a room queued again behind rooms
   * queued after it (a retry) goes to `late`, sorted by seq, and is read in its place.
   */
  readonly queues: Record<WavePhase, RoomQueue>;
  /** The queued rooms with a notBefore: the only ones whose due time a pass must look at one by one. */
  readonly waiting: Set<string>;
  /** The rooms being sent or sent (their job in flight). */
  readonly busy: Set<string>;
}

interface RoomQueue {
  readonly inOrder: Set<string>;
  lastSeq: number;
  readonly late: string[];
}

function roomKey(phase: WavePhase, roomId: string): string {
  return `${phase} ${roomId}`;
}

/**
 * Waves and their room queues, in the `waves` and `wave_rooms` tables. Waves not yet finished
 * (and finished ones once asked for) are kept in memory; like the task store, memory changes
 * only after the database committed, so a failed write leaves both as they were.
 */
export class WaveStore {
  private readonly loaded = new Map<string, Loaded>();
  private loads = 0;
  /**
   * The rooms not final that follow each task, by wave and room key, over the waves in memory: a
   * task's end is matched to its rooms without scanning every room of every wave.
   */
  private readonly byTask = new Map<string, Map<string, Set<string>>>();
  /** Rows that could not be read (written by a newer Warden, or edited by hand). */
  readonly unreadable: string[] = [];

  constructor(
    private readonly database: WardenDatabase,
    private readonly now: () => number,
    /** A candidate wave id; a test gives a sequence to see a taken one skipped. */
    private readonly candidateId: () => string = () => `w-${randomBytes(3).toString("hex")}`,
  ) {
    this.prune();
    for (const row of database.statement(`SELECT id FROM waves WHERE status != 'finished' OR final_notification_sent = 0 ORDER BY created_at`).all()) {
      this.load(String(row["id"]));
    }
  }

  /** "w-4c1e0a": short enough to type. */
  newId(): string {
    for (;;) {
      const id = this.candidateId();
      if (this.get(id) === undefined) return id;
    }
  }

  get(id: string): WaveRecord | undefined {
    return (this.loaded.get(id) ?? this.load(id))?.wave;
  }

  /**
   * The wave's queued rooms of one phase in selection order (the order rooms() lists them in),
   * without a copy: for a reader that is done before it awaits anything (a write during the walk
   * may show it the changed room, or not).
   */
  *eachQueued(id: string, phase: WavePhase): Generator<WaveRoom, void, undefined> {
    const entry = this.loaded.get(id) ?? this.load(id);
    if (entry === undefined) return;
    const { inOrder, late } = entry.queues[phase];
    let next = 0;
    for (const key of inOrder) {
      const seq = entry.seqs.get(key) ?? 0;
      for (; next < late.length && (entry.seqs.get(late[next] ?? "") ?? 0) < seq; next++) {
        const room = entry.rooms.get(late[next] ?? "");
        if (room !== undefined) yield room;
      }
      const room = entry.rooms.get(key);
      if (room !== undefined) yield room;
    }
    for (; next < late.length; next++) {
      const room = entry.rooms.get(late[next] ?? "");
      if (room !== undefined) yield room;
    }
  }

  /** The wave's queued rooms that have a notBefore, in no set order, without a copy. */
  eachWaiting(id: string): IterableIterator<WaveRoom> {
    return this.roomsUnder(id, (entry) => entry.waiting);
  }

  /** How many of the wave's queued rooms have a notBefore. */
  waitingCount(id: string): number {
    return (this.loaded.get(id) ?? this.load(id))?.waiting.size ?? 0;
  }

  /** The wave's rooms being sent or sent, in no set order, without a copy. */
  eachBusy(id: string): IterableIterator<WaveRoom> {
    return this.roomsUnder(id, (entry) => entry.busy);
  }

  /** The wave's rooms in selection order (main phase rooms first, then purge phase rows as they were added). */
  rooms(id: string): WaveRoom[] {
    const loaded = this.loaded.get(id) ?? this.load(id);
    return loaded === undefined ? [] : [...loaded.rooms.values()];
  }

  room(id: string, phase: WavePhase, roomId: string): WaveRoom | undefined {
    return (this.loaded.get(id) ?? this.load(id))?.rooms.get(roomKey(phase, roomId));
  }

  /** Waves not finished, or finished without their summary delivered; oldest first. */
  open(): WaveRecord[] {
    return [...this.loaded.values()]
      .map((entry) => entry.wave)
      .filter((wave) => wave.status !== "finished" || !wave.finalNotificationSent)
      .sort((a, b) => a.createdAt - b.createdAt);
  }

  /** How many waves memory holds with their rooms: the open ones, and any read again since. */
  held(): number {
    return this.loaded.size;
  }

  /** Whether a command started a wave: its board answers it, so a restart must not run it again. */
  startedBy(commandEventId: string): boolean {
    return this.database.statement(`SELECT 1 AS found FROM waves WHERE command_event_id = ? LIMIT 1`).get(commandEventId) !== undefined;
  }

  /** The most recent waves, newest first (for !status without an id). */
  recent(limit: number): WaveRecord[] {
    const ids = this.database
      .statement(`SELECT id FROM waves ORDER BY created_at DESC LIMIT ?`)
      .all(limit)
      .map((row) => String(row["id"]));
    return ids.map((id) => this.get(id)).filter((wave): wave is WaveRecord => wave !== undefined);
  }

  /** The wave and its rooms, in one transaction: a wave is never recorded without its queue. */
  insert(wave: WaveRecord, rooms: readonly WaveRoom[]): Promise<void> {
    return settled(() => {
      this.database.transaction(`wave ${wave.id}`, () => {
        this.database.statement(INSERT_WAVE).run(waveToRow(wave));
        rooms.forEach((room, index) => this.database.statement(INSERT_ROOM).run(roomToRow(room, index)));
      });
      const entry = this.entry(wave, rooms.length);
      for (const [index, room] of rooms.entries()) this.put(entry, room, index);
    });
  }

  update(id: string, change: Partial<Omit<WaveRecord, "id">>): Promise<WaveRecord> {
    const entry = this.loaded.get(id) ?? this.load(id);
    if (entry === undefined) return Promise.reject(new Error(`wave ${id} is not in the store`));
    const next: WaveRecord = { ...entry.wave, ...change };
    return settled(() => {
      this.database.run(`the change to wave ${id}`, () => this.database.statement(UPDATE_WAVE).run(waveToRow(next)));
      entry.wave = next;
      // Done with for good: read again from the database only if !status asks for it.
      if (next.status === "finished" && next.finalNotificationSent) this.drop(entry);
      return next;
    });
  }

  /** Changes rooms of one wave (and optionally the wave) in one transaction. */
  updateRooms(id: string, changes: readonly { phase: WavePhase; roomId: string; change: Partial<WaveRoom> }[]): Promise<WaveRoom[]> {
    const entry = this.loaded.get(id) ?? this.load(id);
    if (entry === undefined) return Promise.reject(new Error(`wave ${id} is not in the store`));
    const next = changes.map(({ phase, roomId, change }) => {
      const current = entry.rooms.get(roomKey(phase, roomId));
      if (current === undefined) throw new Error(`room ${roomId} (${phase}) is not in wave ${id}`);
      return { ...current, ...change, waveId: current.waveId, roomId: current.roomId, phase: current.phase };
    });
    return settled(() => {
      this.database.transaction(`the change to ${next.length} room(s) of wave ${id}`, () => {
        for (const room of next) this.database.statement(UPDATE_ROOM).run(roomUpdateRow(room));
      });
      for (const room of next) this.put(entry, room);
      return next;
    });
  }

  /**
   * Changes one room only if it is still queued and its wave still running, in one conditional
   * write: what a wave step read before an await (a room due to be sent, a room waiting for its
   * purge phase) is checked again at the moment of the write, so a cancel in between wins.
   * Resolves to the changed room, or undefined when the room was no longer queued (or the wave no
   * longer running) and nothing was written.
   */
  updateQueued(id: string, phase: WavePhase, roomId: string, change: Partial<WaveRoom>): Promise<WaveRoom | undefined> {
    const entry = this.loaded.get(id) ?? this.load(id);
    const current = entry?.rooms.get(roomKey(phase, roomId));
    if (entry === undefined || current === undefined || current.state !== "queued" || entry.wave.status !== "running") return Promise.resolve(undefined);
    const next: WaveRoom = { ...current, ...change, waveId: current.waveId, roomId: current.roomId, phase: current.phase };
    return settled(() => {
      const written = this.database.run(`the change to room ${roomId} (${phase}) of wave ${id}`, () =>
        this.database.statement(`${UPDATE_ROOM} AND state = 'queued'`).run(roomUpdateRow(next)),
      );
      // Memory and database agree, so the SQL condition holds whenever the check above did; it is
      // there so the write itself is the check.
      if (Number(written.changes) !== 1) return undefined;
      this.put(entry, next);
      return next;
    });
  }

  /**
   * Cancels a running wave: the wave and every room still queued, in one transaction, so no
   * room can be claimed for sending after the cancel and none is left queued in a cancelled
   * wave. Resolves to the rooms cancelled, or undefined when the wave was not running.
   */
  cancel(id: string, by: string, reason: string, now: number): Promise<WaveRoom[] | undefined> {
    const entry = this.loaded.get(id) ?? this.load(id);
    if (entry === undefined || entry.wave.status !== "running") return Promise.resolve(undefined);
    const wave: WaveRecord = { ...entry.wave, status: "cancelled", cancelledBy: by };
    const rooms = [...entry.rooms.values()].filter((room) => room.state === "queued").map((room): WaveRoom => ({ ...room, state: "cancelled", reason, finishedAt: now }));
    return settled(() => {
      this.database.transaction(`the cancel of wave ${id}`, () => {
        this.database.statement(UPDATE_WAVE).run(waveToRow(wave));
        for (const room of rooms) this.database.statement(UPDATE_ROOM).run(roomUpdateRow(room));
      });
      entry.wave = wave;
      for (const room of rooms) this.put(entry, room);
      return rooms;
    });
  }

  /** Adds rooms to a wave's queue (the purge phase of a room whose shutdown ended). */
  addRooms(id: string, rooms: readonly WaveRoom[]): Promise<void> {
    const entry = this.loaded.get(id) ?? this.load(id);
    if (entry === undefined) return Promise.reject(new Error(`wave ${id} is not in the store`));
    const fresh = rooms.filter((room) => !entry.rooms.has(roomKey(room.phase, room.roomId)));
    return settled(() => {
      this.database.transaction(`${fresh.length} room(s) added to wave ${id}`, () => {
        fresh.forEach((room, index) => this.database.statement(INSERT_ROOM).run(roomToRow(room, entry.nextSeq + index)));
      });
      for (const [index, room] of fresh.entries()) this.put(entry, room, entry.nextSeq + index);
      entry.nextSeq += fresh.length;
    });
  }

  /**
   * The wave rooms not yet final that a task answers for (a room's own task, or one it joined), over
   * the waves in memory: waves in the order they were loaded, each one's rooms in selection order.
   */
  roomsOfTask(taskId: string): WaveRoom[] {
    const waves = this.byTask.get(taskId);
    if (waves === undefined) return [];
    const found: WaveRoom[] = [];
    const entries = [...waves.keys()].flatMap((waveId) => this.loaded.get(waveId) ?? []).sort((a, b) => a.loadedAs - b.loadedAs);
    for (const entry of entries) {
      const keys = [...(waves.get(entry.id) ?? [])].sort((a, b) => (entry.seqs.get(a) ?? 0) - (entry.seqs.get(b) ?? 0));
      for (const key of keys) {
        const room = entry.rooms.get(key);
        if (room !== undefined) found.push(room);
      }
    }
    return found;
  }

  /** How many of the wave's rooms are not final (in all, in the main phase) and queued; all 0 for a wave the store does not have. */
  tally(id: string): RoomTally {
    const entry = this.loaded.get(id) ?? this.load(id);
    return entry === undefined ? { unfinished: 0, mainUnfinished: 0, queued: 0 } : { ...entry.tally };
  }

  /** A wave newly in memory, with no rooms yet. */
  private entry(wave: WaveRecord, nextSeq: number): Loaded {
    const entry: Loaded = {
      id: wave.id,
      wave,
      rooms: new Map(),
      seqs: new Map(),
      nextSeq,
      loadedAs: this.loads++,
      tally: { unfinished: 0, mainUnfinished: 0, queued: 0 },
      queues: { main: { inOrder: new Set(), lastSeq: -1, late: [] }, purge: { inOrder: new Set(), lastSeq: -1, late: [] } },
      waiting: new Set(),
      busy: new Set(),
    };
    this.loaded.set(wave.id, entry);
    return entry;
  }

  /** Every room write in memory goes through here, so the tally and the task index change with the room. `seq` for a room new to the wave. */
  private put(entry: Loaded, room: WaveRoom, seq?: number): void {
    const key = roomKey(room.phase, room.roomId);
    const before = entry.rooms.get(key);
    if (before !== undefined) this.count(entry, key, before, -1);
    entry.rooms.set(key, room);
    if (seq !== undefined) entry.seqs.set(key, seq);
    this.count(entry, key, room, 1);
    this.index(entry, key, before, room);
  }

  private *roomsUnder(id: string, keys: (entry: Loaded) => ReadonlySet<string>): Generator<WaveRoom, void, undefined> {
    const entry = this.loaded.get(id) ?? this.load(id);
    if (entry === undefined) return;
    for (const key of keys(entry)) {
      const room = entry.rooms.get(key);
      if (room !== undefined) yield room;
    }
  }

  /** Keeps the queue, waiting and busy indexes with a room written (before: as it was, if it was). */
  private index(entry: Loaded, key: string, before: WaveRoom | undefined, room: WaveRoom): void {
    const queued = room.state === "queued";
    const queue = entry.queues[room.phase];
    if (queued && before?.state !== "queued") this.enqueue(entry, queue, key);
    else if (!queued && before?.state === "queued") this.dequeue(queue, key);
    if (queued && room.notBefore !== undefined) entry.waiting.add(key);
    else entry.waiting.delete(key);
    if (room.state === "sending" || room.state === "sent") entry.busy.add(key);
    else entry.busy.delete(key);
  }

  private enqueue(entry: Loaded, queue: RoomQueue, key: string): void {
    const seq = entry.seqs.get(key) ?? 0;
    if (seq > queue.lastSeq) {
      queue.inOrder.add(key);
      queue.lastSeq = seq;
      return;
    }
    // Binary search for the first late room after this one: late stays sorted by seq.
    let low = 0;
    let high = queue.late.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((entry.seqs.get(queue.late[middle] ?? "") ?? 0) < seq) low = middle + 1;
      else high = middle;
    }
    queue.late.splice(low, 0, key);
  }

  private dequeue(queue: RoomQueue, key: string): void {
    if (queue.inOrder.delete(key)) {
      // Empty, any room may start it again in order.
      if (queue.inOrder.size === 0) queue.lastSeq = -1;
      return;
    }
    const at = queue.late.indexOf(key);
    if (at >= 0) queue.late.splice(at, 1);
  }

  private count(entry: Loaded, key: string, room: WaveRoom, sign: 1 | -1): void {
    if (FINAL_WAVE_ROOM_STATES.has(room.state)) return;
    entry.tally.unfinished += sign;
    if (room.phase === "main") entry.tally.mainUnfinished += sign;
    if (room.state === "queued") entry.tally.queued += sign;
    if (room.taskId === undefined) return;
    const waves = this.byTask.get(room.taskId) ?? new Map<string, Set<string>>();
    const keys = waves.get(entry.id) ?? new Set<string>();
    if (sign === 1) keys.add(key);
    else keys.delete(key);
    if (keys.size > 0) waves.set(entry.id, keys);
    else waves.delete(entry.id);
    if (waves.size > 0) this.byTask.set(room.taskId, waves);
    else this.byTask.delete(room.taskId);
  }

  /** Forgets a wave in memory, and its rooms in the task index (a finished wave has none there unless its rooms were left unfinished). */
  private drop(entry: Loaded): void {
    this.loaded.delete(entry.id);
    if (entry.tally.unfinished === 0) return;
    for (const [key, room] of entry.rooms) this.count(entry, key, room, -1);
  }

  private load(id: string): Loaded | undefined {
    const row = this.database.statement(`SELECT * FROM waves WHERE id = ?`).get(id);
    if (row === undefined) return undefined;
    const wave = rowToWave(row);
    if (wave === undefined) {
      if (!this.unreadable.includes(id)) this.unreadable.push(id);
      return undefined;
    }
    const roomRows = this.database.statement(`SELECT * FROM wave_rooms WHERE wave_id = ? ORDER BY seq`).all(id);
    // Only once every row is read: a failed read leaves nothing half-loaded.
    const entry = this.entry(wave, 0);
    for (const roomRow of roomRows) {
      const room = rowToRoom(roomRow);
      const seq = Number(roomRow["seq"]);
      entry.nextSeq = Math.max(entry.nextSeq, seq + 1);
      if (room === undefined) {
        this.unreadable.push(`${id}/${String(roomRow["room_id"])}`);
        continue;
      }
      this.put(entry, room, seq);
    }
    return entry;
  }

  private prune(): void {
    const cutoff = this.now() - KEEP_FINISHED_MS;
    this.database.transaction("the removal of old waves", () => {
      this.database.statement(`DELETE FROM waves WHERE status = 'finished' AND final_notification_sent = 1 AND coalesce(finished_at, created_at) < ?`).run(cutoff);
    });
  }
}

const WAVE_COLUMNS = [
  "id",
  "kind",
  "requester",
  "management_room_id",
  "command_event_id",
  "selection",
  "parameters",
  "policy",
  "left_out",
  "status",
  "board_event_id",
  "created_at",
  "finished_at",
  "cancelled_by",
  "final_notification_sent",
  "board",
  "main_phase_notified",
] as const;
const ROOM_COLUMNS = [
  "wave_id",
  "phase",
  "room_id",
  "seq",
  "label",
  "name",
  "joined_members",
  "joined_local_members",
  "state",
  "task_id",
  "attempts",
  "not_before",
  "reason",
  "finished_at",
  "duration_ms",
  "send_id",
  "steps",
] as const;
const ROOM_MUTABLE = ["state", "task_id", "attempts", "not_before", "reason", "finished_at", "duration_ms", "send_id", "steps"] as const;

const INSERT_WAVE = `INSERT INTO waves (${WAVE_COLUMNS.join(", ")}) VALUES (${WAVE_COLUMNS.map((column) => `:${column}`).join(", ")})`;
// Stryker disable next-line MethodExpression,ConditionalExpression: equivalent — without the filter the row's id is set to the same id, which changes nothing
const UPDATE_WAVE = `UPDATE waves SET ${WAVE_COLUMNS.filter((column) => column !== "id")
  .map((column) => `${column} = :${column}`)
  .join(", ")} WHERE id = :id`;
const INSERT_ROOM = `INSERT INTO wave_rooms (${ROOM_COLUMNS.join(", ")}) VALUES (${ROOM_COLUMNS.map((column) => `:${column}`).join(", ")})`;
const UPDATE_ROOM = `UPDATE wave_rooms SET ${ROOM_MUTABLE.map((column) => `${column} = :${column}`).join(", ")} WHERE wave_id = :wave_id AND phase = :phase AND room_id = :room_id`;

function waveToRow(wave: WaveRecord): Record<string, SQLInputValue> {
  return {
    id: wave.id,
    kind: wave.kind,
    requester: wave.requester,
    management_room_id: wave.managementRoomId,
    command_event_id: wave.commandEventId,
    selection: JSON.stringify(wave.selection),
    parameters: JSON.stringify(wave.parameters),
    policy: wave.policy ?? null,
    left_out: JSON.stringify(wave.leftOut),
    status: wave.status,
    board_event_id: wave.boardEventId ?? null,
    created_at: wave.createdAt,
    finished_at: wave.finishedAt ?? null,
    cancelled_by: wave.cancelledBy ?? null,
    final_notification_sent: wave.finalNotificationSent ? 1 : 0,
    board: wave.board === false ? 0 : 1,
    main_phase_notified: wave.mainPhaseNotified === true ? 1 : 0,
  };
}

function roomUpdateRow(room: WaveRoom): Record<string, SQLInputValue> {
  return {
    wave_id: room.waveId,
    phase: room.phase,
    room_id: room.roomId,
    state: room.state,
    task_id: room.taskId ?? null,
    attempts: room.attempts,
    not_before: room.notBefore ?? null,
    reason: room.reason ?? null,
    finished_at: room.finishedAt ?? null,
    duration_ms: room.durationMs ?? null,
    send_id: room.sendId ?? null,
    steps: room.steps === undefined ? null : JSON.stringify(room.steps),
  };
}

function roomToRow(room: WaveRoom, seq: number): Record<string, SQLInputValue> {
  return {
    ...roomUpdateRow(room),
    seq,
    label: room.label,
    name: room.name ?? null,
    joined_members: room.joinedMembers ?? null,
    joined_local_members: room.joinedLocalMembers ?? null,
  };
}

function present(row: Record<string, unknown>, key: string, column: string): Record<string, unknown> {
  return row[column] === null || row[column] === undefined ? {} : { [key]: row[column] };
}

function json(column: unknown): unknown {
  return typeof column === "string" ? (JSON.parse(column) as unknown) : column;
}

function rowToWave(row: Record<string, unknown>): WaveRecord | undefined {
  try {
    const parsed = waveSchema.safeParse({
      id: row["id"],
      kind: row["kind"],
      requester: row["requester"],
      managementRoomId: row["management_room_id"],
      commandEventId: row["command_event_id"],
      selection: json(row["selection"]),
      parameters: json(row["parameters"]),
      ...present(row, "policy", "policy"),
      leftOut: json(row["left_out"]),
      status: row["status"],
      ...present(row, "boardEventId", "board_event_id"),
      createdAt: row["created_at"],
      ...present(row, "finishedAt", "finished_at"),
      ...present(row, "cancelledBy", "cancelled_by"),
      finalNotificationSent: row["final_notification_sent"] === 1,
      ...(row["board"] === 0 ? { board: false } : {}),
      ...(row["main_phase_notified"] === 1 ? { mainPhaseNotified: true } : {}),
    });
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function rowToRoom(row: Record<string, unknown>): WaveRoom | undefined {
  let steps: unknown;
  try {
    steps = json(row["steps"]);
  } catch {
    return undefined;
  }
  const parsed = roomSchema.safeParse({
    waveId: row["wave_id"],
    roomId: row["room_id"],
    phase: row["phase"],
    label: row["label"],
    ...present(row, "name", "name"),
    ...present(row, "joinedMembers", "joined_members"),
    ...present(row, "joinedLocalMembers", "joined_local_members"),
    state: row["state"],
    ...present(row, "taskId", "task_id"),
    attempts: row["attempts"],
    ...present(row, "notBefore", "not_before"),
    ...present(row, "reason", "reason"),
    ...present(row, "finishedAt", "finished_at"),
    ...present(row, "durationMs", "duration_ms"),
    ...present(row, "sendId", "send_id"),
    ...(steps === null ? {} : { steps }),
  });
  return parsed.success ? parsed.data : undefined;
}
