import { z } from "zod";
import { REPORT_STATES, type Digest, type ReportListFilter, type StoredReport } from "../model/reports.js";
import type { ReportCursor, ReportPatch, ReportStore } from "../reports/store.js";
import { present } from "../model/lookups.js";
import type { WardenDatabase } from "./database.js";
import type { SQLInputValue } from "./sqlite.js";

const COLUMNS = {
  receivedTs: "received_ts",
  roomId: "room_id",
  roomName: "room_name",
  canonicalAlias: "canonical_alias",
  eventId: "event_id",
  reporter: "reporter",
  sender: "sender",
  reason: "reason",
  score: "score",
  state: "state",
  cardEventId: "card_event_id",
  digestKey: "digest_key",
  changedAt: "changed_at",
  changedBy: "changed_by",
  resolution: "resolution",
  deletedOnHomeserver: "deleted_on_homeserver",
} as const satisfies Record<Exclude<keyof StoredReport, "id">, string>;

const NAMES = Object.keys(COLUMNS) as (keyof typeof COLUMNS)[];
const INSERT = `INSERT INTO reports (id, ${NAMES.map((name) => COLUMNS[name]).join(", ")}) VALUES (:id, ${NAMES.map((name) => `:${name}`).join(", ")}) ON CONFLICT (id) DO NOTHING`;

const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

const rowSchema = z.object({
  id: z.number(),
  received_ts: z.number(),
  room_id: z.string(),
  room_name: nullable(z.string()),
  canonical_alias: nullable(z.string()),
  event_id: z.string(),
  reporter: z.string(),
  sender: nullable(z.string()),
  reason: nullable(z.string()),
  score: nullable(z.number()),
  state: z.enum(REPORT_STATES),
  card_event_id: nullable(z.string()),
  digest_key: nullable(z.string()),
  changed_at: z.number(),
  changed_by: nullable(z.string()),
  resolution: nullable(z.enum(["done", "dismissed"])),
  deleted_on_homeserver: z.number(),
});

function rowToReport(row: unknown): StoredReport | undefined {
  const parsed = rowSchema.safeParse(row);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  return {
    id: r.id,
    receivedTs: r.received_ts,
    roomId: r.room_id,
    eventId: r.event_id,
    reporter: r.reporter,
    state: r.state,
    changedAt: r.changed_at,
    deletedOnHomeserver: r.deleted_on_homeserver !== 0,
    ...present("roomName", r.room_name),
    ...present("canonicalAlias", r.canonical_alias),
    ...present("sender", r.sender),
    ...present("reason", r.reason),
    ...present("score", r.score),
    ...present("cardEventId", r.card_event_id),
    ...present("digestKey", r.digest_key),
    ...present("changedBy", r.changed_by),
    ...present("resolution", r.resolution),
  };
}

function value(report: Partial<StoredReport>, name: keyof typeof COLUMNS): SQLInputValue {
  const field = report[name];
  if (field === undefined) return null;
  return typeof field === "boolean" ? (field ? 1 : 0) : field;
}

const digestRow = z.object({
  key: z.string(),
  kind: z.enum(["room", "sender"]),
  subject: z.string(),
  report_ids: z.string(),
  last_ts: z.number(),
  card_event_id: nullable(z.string()),
});

/** The reports Warden took from the homeserver, their digests and the poller's cursor. */
export class SqliteReportStore implements ReportStore {
  constructor(private readonly database: WardenDatabase) {}

  cursor(): ReportCursor | undefined {
    const row = this.database.statement("SELECT high_water, floor FROM report_cursor WHERE only = 1").get();
    if (row === undefined) return undefined;
    return { highWater: Number(row["high_water"]), floor: Number(row["floor"]) };
  }

  take(reports: readonly StoredReport[], cursor: ReportCursor): void {
    this.database.transaction(`${reports.length} new event report(s)`, () => {
      for (const report of reports) {
        this.database.statement(INSERT).run({ id: report.id, ...Object.fromEntries(NAMES.map((name) => [name, value(report, name)])) });
      }
      this.database
        .statement("INSERT INTO report_cursor (only, high_water, floor) VALUES (1, ?, ?) ON CONFLICT (only) DO UPDATE SET high_water = excluded.high_water, floor = excluded.floor")
        .run(cursor.highWater, cursor.floor);
    });
  }

  has(id: number): boolean {
    return this.database.statement("SELECT 1 AS found FROM reports WHERE id = ?").get(id) !== undefined;
  }

  get(id: number): StoredReport | undefined {
    return rowToReport(this.database.statement("SELECT * FROM reports WHERE id = ?").get(id));
  }

  update(id: number, patch: ReportPatch): StoredReport | undefined {
    const names = NAMES.filter((name) => name in patch);
    if (names.length > 0) {
      this.database.run(`event report ${id}`, () => {
        this.database
          .statement(`UPDATE reports SET ${names.map((name) => `${COLUMNS[name]} = :${name}`).join(", ")} WHERE id = :id`)
          .run({ id, ...Object.fromEntries(names.map((name) => [name, value(patch, name)])) });
      });
    }
    return this.get(id);
  }

  unposted(): StoredReport[] {
    return this.rows("SELECT * FROM reports WHERE card_event_id IS NULL ORDER BY id");
  }

  list(filter: ReportListFilter, from: number, limit: number): { reports: StoredReport[]; total: number } {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (!filter.includeResolved) where.push("state != 'resolved'");
    if (filter.roomId !== undefined) {
      where.push("room_id = ?");
      args.push(filter.roomId);
    }
    if (filter.user !== undefined) {
      where.push("(sender = ? OR reporter = ?)");
      args.push(filter.user, filter.user);
    }
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    const total = Number(this.database.statement(`SELECT COUNT(*) AS n FROM reports ${clause}`).get(...args)?.["n"] ?? 0);
    return { reports: this.rows(`SELECT * FROM reports ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`, ...args, limit, from), total };
  }

  countRecent(match: { roomId?: string; sender?: string }, since: number, beforeId: number): number {
    const [column, subject] = match.roomId !== undefined ? ["room_id", match.roomId] : ["sender", match.sender ?? null];
    const row = this.database.statement(`SELECT COUNT(*) AS n FROM reports WHERE ${column} = ? AND received_ts >= ? AND id < ?`).get(subject, since, beforeId);
    return Number(row?.["n"] ?? 0);
  }

  digest(key: string): Digest | undefined {
    const parsed = digestRow.safeParse(this.database.statement("SELECT * FROM report_digests WHERE key = ?").get(key));
    if (!parsed.success) return undefined;
    const row = parsed.data;
    const ids = z.array(z.number()).safeParse(JSON.parse(row.report_ids));
    return {
      key: row.key,
      kind: row.kind,
      subject: row.subject,
      reportIds: ids.success ? ids.data : [],
      lastTs: row.last_ts,
      ...(row.card_event_id === undefined ? {} : { cardEventId: row.card_event_id }),
    };
  }

  saveDigest(digest: Digest): void {
    this.database.run(`the digest of ${digest.key}`, () => {
      this.database
        .statement(
          "INSERT INTO report_digests (key, kind, subject, report_ids, last_ts, card_event_id) VALUES (?, ?, ?, ?, ?, ?) " +
            "ON CONFLICT (key) DO UPDATE SET kind = excluded.kind, subject = excluded.subject, report_ids = excluded.report_ids, last_ts = excluded.last_ts, card_event_id = excluded.card_event_id",
        )
        .run(digest.key, digest.kind, digest.subject, JSON.stringify(digest.reportIds), digest.lastTs, digest.cardEventId ?? null);
    });
  }

  byCard(eventId: string): StoredReport[] {
    return this.rows("SELECT * FROM reports WHERE card_event_id = ? ORDER BY id", eventId);
  }

  private rows(sql: string, ...args: SQLInputValue[]): StoredReport[] {
    return this.database
      .statement(sql)
      .all(...args)
      .flatMap((row) => {
        const report = rowToReport(row);
        return report === undefined ? [] : [report];
      });
  }
}
