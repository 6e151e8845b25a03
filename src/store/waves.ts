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

interface Loaded {
  wave: WaveRecord;
  /** In selection order; the key is phase + room ID. */
  readonly rooms: Map<string, WaveRoom>;
  nextSeq: number;
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
      this.loaded.set(wave.id, { wave, rooms: new Map(rooms.map((room) => [roomKey(room.phase, room.roomId), room])), nextSeq: rooms.length });
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
      if (next.status === "finished" && next.finalNotificationSent) this.loaded.delete(id);
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
      for (const room of next) entry.rooms.set(roomKey(room.phase, room.roomId), room);
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
      entry.rooms.set(roomKey(phase, roomId), next);
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
      for (const room of rooms) entry.rooms.set(roomKey(room.phase, room.roomId), room);
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
      for (const room of fresh) entry.rooms.set(roomKey(room.phase, room.roomId), room);
      entry.nextSeq += fresh.length;
    });
  }

  /** The wave rooms a task answers for (a room's own task, or one it joined). */
  roomsOfTask(taskId: string): WaveRoom[] {
    const found: WaveRoom[] = [];
    for (const entry of this.loaded.values()) {
      for (const room of entry.rooms.values()) if (room.taskId === taskId && !FINAL_WAVE_ROOM_STATES.has(room.state)) found.push(room);
    }
    return found;
  }

  private load(id: string): Loaded | undefined {
    const row = this.database.statement(`SELECT * FROM waves WHERE id = ?`).get(id);
    if (row === undefined) return undefined;
    const wave = rowToWave(row);
    if (wave === undefined) {
      if (!this.unreadable.includes(id)) this.unreadable.push(id);
      return undefined;
    }
    const rooms = new Map<string, WaveRoom>();
    let nextSeq = 0;
    for (const roomRow of this.database.statement(`SELECT * FROM wave_rooms WHERE wave_id = ? ORDER BY seq`).all(id)) {
      const room = rowToRoom(roomRow);
      nextSeq = Math.max(nextSeq, Number(roomRow["seq"]) + 1);
      if (room === undefined) {
        this.unreadable.push(`${id}/${String(roomRow["room_id"])}`);
        continue;
      }
      rooms.set(roomKey(room.phase, room.roomId), room);
    }
    const entry = { wave, rooms, nextSeq };
    this.loaded.set(id, entry);
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
