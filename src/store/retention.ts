import { z } from "zod";
import type { RetentionStateRow, RetentionStateStore } from "../retention/stateStore.js";
import type { WardenDatabase } from "./database.js";
import { settled } from "./errors.js";

const optional = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

const rowSchema = z.object({
  policy: z.string(),
  paused: z.number(),
  next_run_at: optional(z.number()),
  last_wave_id: optional(z.string()),
  last_started_at: optional(z.number()),
});

const UPSERT =
  "INSERT INTO retention_state (policy, paused, next_run_at, last_wave_id, last_started_at) VALUES (?, ?, ?, ?, ?) " +
  "ON CONFLICT (policy) DO UPDATE SET paused = excluded.paused, next_run_at = excluded.next_run_at, last_wave_id = excluded.last_wave_id, last_started_at = excluded.last_started_at";

/** Retention policies' state in the `retention_state` table: one row per policy, written whole. */
export class SqliteRetentionStore implements RetentionStateStore {
  constructor(private readonly database: WardenDatabase) {}

  /** The table is STRICT, so the parse only turns SQLite's values into types; a row it refused would be left out. */
  all(): readonly RetentionStateRow[] {
    return this.database
      .statement("SELECT * FROM retention_state ORDER BY policy")
      .all()
      .flatMap((row) => {
        const parsed = rowSchema.safeParse(row);
        if (!parsed.success) return [];
        const r = parsed.data;
        return [
          {
            policy: r.policy,
            paused: r.paused !== 0,
            ...(r.next_run_at === undefined ? {} : { nextRunAt: r.next_run_at }),
            ...(r.last_wave_id === undefined ? {} : { lastWaveId: r.last_wave_id }),
            ...(r.last_started_at === undefined ? {} : { lastStartedAt: r.last_started_at }),
          },
        ];
      });
  }

  save(row: RetentionStateRow): Promise<void> {
    return settled(() => {
      this.database.run(`the state of retention policy ${row.policy}`, () => {
        this.database.statement(UPSERT).run(row.policy, row.paused ? 1 : 0, row.nextRunAt ?? null, row.lastWaveId ?? null, row.lastStartedAt ?? null);
      });
    });
  }
}
