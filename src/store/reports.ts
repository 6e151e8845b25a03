import { z } from "zod";
import { REPORT_STATES, type Digest, type ReportIdentity, type ReportListFilter, type StoredReport, type UnreadableReport } from "../model/reports.js";
import type { NewReport, ReportCursor, ReportGap, ReportPatch, ReportStore, TakenBatch } from "../reports/store.js";
import { present } from "../model/lookups.js";
import type { WardenDatabase } from "./database.js";
import type { SQLInputValue } from "./sqlite.js";

const COLUMNS = {
  homeserverId: "homeserver_id",
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
const INSERT = `INSERT INTO reports (id, ${NAMES.map((name) => COLUMNS[name]).join(", ")}) VALUES (:id, ${NAMES.map((name) => `:${name}`).join(", ")})`;

const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

const rowSchema = z.object({
  id: z.number(),
  homeserver_id: z.number(),
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
    homeserverId: r.homeserver_id,
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

function value(report: Partial<NewReport>, name: keyof typeof COLUMNS): SQLInputValue {
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

const cursorRow = z.object({ newest_ts: z.number(), gap: nullable(z.string()) });

const gapSchema = z.object({
  fromTs: z.number(),
  toTs: z.number(),
  top: z.object({ homeserverId: z.number(), eventId: z.string(), reporter: z.string(), receivedTs: z.number() }).optional(),
  offset: z.number(),
  countOlder: z.boolean(),
});

/** A gap that does not read (a hand edit) is dropped: the polls go on from the top of the list. */
function readGap(text: string): ReportGap | undefined {
  const parsed = gapSchema.safeParse(parseJson(text));
  if (!parsed.success) return undefined;
  const { top, ...gap } = parsed.data;
  return { ...gap, ...(top === undefined ? {} : { top }) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: undefined, which the schema refuses.
  }
  return undefined;
}

const unreadableRow = z.object({ key: z.string(), homeserver_id: nullable(z.number()), problem: z.string() });

/** The reports Warden took from the homeserver, their digests and the poller's cursor. */
export class SqliteReportStore implements ReportStore {
  constructor(private readonly database: WardenDatabase) {}

  cursor(): ReportCursor | undefined {
    const parsed = cursorRow.safeParse(this.database.statement("SELECT newest_ts, gap FROM report_cursor WHERE only = 1").get());
    if (!parsed.success) return undefined;
    const gap = parsed.data.gap === undefined ? undefined : readGap(parsed.data.gap);
    return { newestTs: parsed.data.newest_ts, ...(gap === undefined ? {} : { gap }) };
  }

  take(batch: { readonly reports: readonly NewReport[]; readonly cursor: ReportCursor; readonly unreadable?: readonly UnreadableReport[] }): TakenBatch {
    return this.database.transaction(`${batch.reports.length} new event report(s)`, () => {
      const reports: StoredReport[] = [];
      for (const report of batch.reports) {
        if (this.knows(report)) continue;
        const id = this.freeNumber(report.homeserverId);
        this.database.statement(INSERT).run({ id, ...Object.fromEntries(NAMES.map((name) => [name, value(report, name)])) });
        reports.push({ ...report, id });
      }
      const { newestTs, gap } = batch.cursor;
      this.database
        .statement("INSERT INTO report_cursor (only, newest_ts, gap) VALUES (1, ?, ?) ON CONFLICT (only) DO UPDATE SET newest_ts = excluded.newest_ts, gap = excluded.gap")
        .run(newestTs, gap === undefined ? null : JSON.stringify(gap));
      const unreadable = (batch.unreadable ?? []).filter(
        (entry) =>
          this.database
            .statement("INSERT INTO report_unreadable (key, homeserver_id, problem) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING")
            .run(entry.key, entry.homeserverId ?? null, entry.problem).changes > 0,
      );
      return { reports, unreadable };
    });
  }

  knows(report: ReportIdentity): boolean {
    return (
      this.database
        .statement("SELECT 1 AS found FROM reports WHERE homeserver_id = ? AND event_id = ? AND reporter = ? AND received_ts = ?")
        .get(report.homeserverId, report.eventId, report.reporter, report.receivedTs) !== undefined
    );
  }

  /** The homeserver's id while Warden has no report of that number, else one past the largest. */
  private freeNumber(homeserverId: number): number {
    if (this.database.statement("SELECT 1 AS taken FROM reports WHERE id = ?").get(homeserverId) === undefined) return homeserverId;
    return Number(this.database.statement("SELECT MAX(id) AS largest FROM reports").get()?.["largest"]) + 1;
  }

  withHomeserverId(homeserverId: number): StoredReport[] {
    return this.rows("SELECT * FROM reports WHERE homeserver_id = ? ORDER BY received_ts, id", homeserverId);
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

  unnamed(): UnreadableReport[] {
    return this.database
      .statement("SELECT key, homeserver_id, problem FROM report_unreadable WHERE named_event_id IS NULL ORDER BY rowid")
      .all()
      .flatMap((row) => {
        const parsed = unreadableRow.safeParse(row);
        if (!parsed.success) return [];
        const { key, homeserver_id: homeserverId, problem } = parsed.data;
        return [{ key, problem, ...present("homeserverId", homeserverId) }];
      });
  }

  markNamed(keys: readonly string[], eventId: string): void {
    this.database.transaction(`${keys.length} unreadable event report(s) named`, () => {
      for (const key of keys) this.database.statement("UPDATE report_unreadable SET named_event_id = ? WHERE key = ?").run(eventId, key);
    });
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
