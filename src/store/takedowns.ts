import { randomBytes } from "node:crypto";
import { z } from "zod";
import { TAKEDOWN_STATUSES, TAKEDOWN_STEP_STATES, TAKEDOWN_STEPS, type TakedownRecord } from "../model/takedowns.js";
import type { WardenDatabase } from "./database.js";
import { settled } from "./errors.js";

/** Finished takedowns older than this are deleted, like finished waves. */
const KEEP_FINISHED_MS = 30 * 24 * 3600 * 1000;

const stepSchema = z.object({
  name: z.enum(TAKEDOWN_STEPS),
  state: z.enum(TAKEDOWN_STEP_STATES),
  detail: z.string().exactOptional(),
  count: z.number().exactOptional(),
  taskId: z.string().exactOptional(),
  waveId: z.string().exactOptional(),
  sendId: z.string().exactOptional(),
  startedAt: z.number().exactOptional(),
  finishedAt: z.number().exactOptional(),
});

const recordSchema = z.object({
  id: z.string(),
  requester: z.string(),
  managementRoomId: z.string(),
  commandEventId: z.string(),
  options: z.object({
    deactivate: z.boolean(),
    erase: z.boolean(),
    rooms: z.boolean(),
    quarantineMedia: z.boolean(),
    reason: z.string().exactOptional(),
  }),
  users: z.array(
    z.object({
      userId: z.string(),
      local: z.boolean(),
      rooms: z.array(z.string()),
      ownRooms: z.array(z.string()),
      steps: z.array(stepSchema),
    }),
  ),
  leftOut: z.array(z.object({ userId: z.string(), why: z.string() })),
  status: z.enum(TAKEDOWN_STATUSES),
  boardEventId: z.string().exactOptional(),
  createdAt: z.number(),
  finishedAt: z.number().exactOptional(),
  finalNotificationSent: z.boolean(),
});

/** The part of the store the takedown runner and commands use. */
export interface TakedownStore {
  newId(): string;
  /** Stores the record whole (inserted or replaced) before returning. */
  save(record: TakedownRecord): Promise<void>;
  get(id: string): TakedownRecord | undefined;
  /** Running takedowns, and finished ones whose final message is still owed. */
  unfinished(): readonly TakedownRecord[];
  /** Newest first. */
  recent(limit: number): readonly TakedownRecord[];
  startedBy(commandEventId: string): boolean;
}

/**
 * The takedowns held in memory and every read of them: the SQLite store below writes through to
 * its table, the tests' memory store keeps them only here.
 */
export abstract class TakedownRecords implements TakedownStore {
  protected readonly records = new Map<string, TakedownRecord>();

  abstract save(record: TakedownRecord): Promise<void>;

  newId(): string {
    for (;;) {
      const id = `t-${randomBytes(3).toString("hex")}`;
      if (!this.records.has(id)) return id;
    }
  }

  get(id: string): TakedownRecord | undefined {
    return this.records.get(id);
  }

  unfinished(): readonly TakedownRecord[] {
    return [...this.records.values()].filter((record) => record.status === "running" || !record.finalNotificationSent);
  }

  recent(limit: number): readonly TakedownRecord[] {
    return [...this.records.values()].sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }

  startedBy(commandEventId: string): boolean {
    return [...this.records.values()].some((record) => record.commandEventId === commandEventId);
  }
}

/**
 * Takedowns in the `takedowns` table, one row each with the plan as JSON, kept in memory as
 * well (a handful at a time). A row this Warden cannot read (written by a newer one) is left
 * alone rather than lost.
 */
export class SqliteTakedownStore extends TakedownRecords {
  constructor(
    private readonly database: WardenDatabase,
    now: number = Date.now(),
  ) {
    super();
    this.database.statement("DELETE FROM takedowns WHERE status = 'finished' AND created_at < ?").run(now - KEEP_FINISHED_MS);
    for (const row of this.database.statement("SELECT record FROM takedowns ORDER BY created_at, id").all()) {
      const text = row["record"];
      if (typeof text !== "string") continue;
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        continue;
      }
      const parsed = recordSchema.safeParse(json);
      if (parsed.success) this.records.set(parsed.data.id, parsed.data);
    }
  }

  save(record: TakedownRecord): Promise<void> {
    return settled(() => {
      this.database.run(`takedown ${record.id}`, () => {
        this.database
          .statement(
            "INSERT INTO takedowns (id, command_event_id, status, created_at, record) VALUES (?, ?, ?, ?, ?) " +
              "ON CONFLICT (id) DO UPDATE SET status = excluded.status, record = excluded.record",
          )
          .run(record.id, record.commandEventId, record.status, record.createdAt, JSON.stringify(record));
      });
      this.records.set(record.id, record);
    });
  }
}
