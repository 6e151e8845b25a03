import { z } from "zod";
import {
  parseReportLabel,
  REPORT_KINDS,
  REPORT_STATES,
  type Digest,
  type ReportIdentity,
  type ReportKind,
  type ReportListFilter,
  type ReportRef,
  type StoredEventReport,
  type StoredReport,
  type StoredUserReport,
  type UnreadableReport,
} from "../model/reports.js";
import type { BurstSubject, NewReport, ReportCursor, ReportGap, ReportPatch, ReportStore, TakenBatch } from "../reports/store.js";
import { present } from "../model/lookups.js";
import type { WardenDatabase } from "./database.js";
import type { SQLInputValue } from "./sqlite.js";

/** Every field of either kind of report and its column; a field the report's kind lacks is NULL. */
const COLUMNS = {
  kind: "kind",
  homeserverId: "homeserver_id",
  receivedTs: "received_ts",
  roomId: "room_id",
  roomName: "room_name",
  canonicalAlias: "canonical_alias",
  eventId: "event_id",
  target: "target",
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
} as const;
type Field = keyof typeof COLUMNS;
// Every field of either kind has a column (`id` is the key, written apart).
const FIELD_COLUMNS: Record<Exclude<keyof StoredEventReport | keyof StoredUserReport, "id">, string> = COLUMNS;

const NAMES = Object.keys(FIELD_COLUMNS) as Field[];
const INSERT = `INSERT INTO reports (id, ${NAMES.map((name) => COLUMNS[name]).join(", ")}) VALUES (:id, ${NAMES.map((name) => `:${name}`).join(", ")})`;

const nullable = <T extends z.ZodType>(schema: T) => schema.nullish().transform((value) => value ?? undefined);

const handlingColumns = {
  id: z.number(),
  homeserver_id: z.number(),
  received_ts: z.number(),
  reporter: z.string(),
  reason: nullable(z.string()),
  state: z.enum(REPORT_STATES),
  card_event_id: nullable(z.string()),
  digest_key: nullable(z.string()),
  changed_at: z.number(),
  changed_by: nullable(z.string()),
  resolution: nullable(z.enum(["done", "dismissed"])),
  deleted_on_homeserver: z.number(),
};

const rowSchema = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("event"),
    ...handlingColumns,
    room_id: z.string(),
    room_name: nullable(z.string()),
    canonical_alias: nullable(z.string()),
    event_id: z.string(),
    sender: nullable(z.string()),
    score: nullable(z.number()),
  }),
  z.object({ kind: z.literal("user"), ...handlingColumns, target: z.string() }),
]);

function rowToReport(row: unknown): StoredReport | undefined {
  const parsed = rowSchema.safeParse(row);
  if (!parsed.success) return undefined;
  const r = parsed.data;
  const shared = {
    id: r.id,
    homeserverId: r.homeserver_id,
    receivedTs: r.received_ts,
    reporter: r.reporter,
    state: r.state,
    changedAt: r.changed_at,
    deletedOnHomeserver: r.deleted_on_homeserver !== 0,
    ...present("reason", r.reason),
    ...present("cardEventId", r.card_event_id),
    ...present("digestKey", r.digest_key),
    ...present("changedBy", r.changed_by),
    ...present("resolution", r.resolution),
  };
  if (r.kind === "user") return { kind: "user", ...shared, target: r.target };
  return {
    kind: "event",
    ...shared,
    roomId: r.room_id,
    eventId: r.event_id,
    ...present("roomName", r.room_name),
    ...present("canonicalAlias", r.canonical_alias),
    ...present("sender", r.sender),
    ...present("score", r.score),
  };
}

function value(report: Partial<Record<Field, string | number | boolean>>, name: Field): SQLInputValue {
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

/**
 * A digest's reports as stored: an event report by its number (as before reports about users
 * existed), a user report by its label ("u12").
 */
const storedRefs = z.array(z.union([z.number(), z.string()]));

function readRefs(text: string): ReportRef[] {
  const parsed = storedRefs.safeParse(parseJson(text));
  if (!parsed.success) return [];
  return parsed.data.flatMap((entry) => {
    const ref = typeof entry === "number" ? { kind: "event" as const, id: entry } : parseReportLabel(entry);
    return ref === undefined ? [] : [ref];
  });
}

function writeRefs(refs: readonly ReportRef[]): string {
  return JSON.stringify(refs.map((ref) => (ref.kind === "event" ? ref.id : `u${ref.id}`)));
}

const cursorRow = z.object({ newest_ts: z.number(), gap: nullable(z.string()) });

const gapTop = z.union([
  // A gap stored before reports about users existed has no kind: it is an event report's.
  z.object({ kind: z.literal("event").default("event"), homeserverId: z.number(), eventId: z.string(), reporter: z.string(), receivedTs: z.number() }),
  z.object({ kind: z.literal("user"), homeserverId: z.number(), target: z.string(), reporter: z.string(), receivedTs: z.number() }),
]);

const gapSchema = z.object({
  fromTs: z.number(),
  toTs: z.number(),
  top: gapTop.optional(),
  offset: z.number(),
  countOlder: z.boolean(),
});

/** A gap that does not read (a hand edit), or that names a report of another kind, is dropped: the polls go on from the top of the list. */
function readGap(text: string, kind: ReportKind): ReportGap | undefined {
  const parsed = gapSchema.safeParse(parseJson(text));
  if (!parsed.success) return undefined;
  const { top, ...gap } = parsed.data;
  if (top !== undefined && top.kind !== kind) return undefined;
  const identity: ReportIdentity | undefined = top;
  return { ...gap, ...(identity === undefined ? {} : { top: identity }) };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // Not JSON: undefined, which the schema refuses.
  }
  return undefined;
}

const unreadableRow = z.object({ key: z.string(), kind: z.enum(REPORT_KINDS), homeserver_id: nullable(z.number()), problem: z.string() });

const NOUN: Readonly<Record<ReportKind, string>> = { event: "event report", user: "user report" };

/** The reports Warden took from the homeserver (both kinds), their digests, the poller's cursors and its one-time notices. */
export class SqliteReportStore implements ReportStore {
  constructor(private readonly database: WardenDatabase) {}

  cursor(kind: ReportKind): ReportCursor | undefined {
    const parsed = cursorRow.safeParse(this.database.statement("SELECT newest_ts, gap FROM report_cursor WHERE kind = ?").get(kind));
    if (!parsed.success) return undefined;
    const gap = parsed.data.gap === undefined ? undefined : readGap(parsed.data.gap, kind);
    return { newestTs: parsed.data.newest_ts, ...(gap === undefined ? {} : { gap }) };
  }

  take(kind: ReportKind, batch: { readonly reports: readonly NewReport[]; readonly cursor: ReportCursor; readonly unreadable?: readonly UnreadableReport[] }): TakenBatch {
    return this.database.transaction(`${batch.reports.length} new ${NOUN[kind]}(s)`, () => {
      const reports: StoredReport[] = [];
      for (const report of batch.reports) {
        if (report.kind !== kind || this.knows(report)) continue;
        const id = this.freeNumber(kind, report.homeserverId);
        this.database.statement(INSERT).run({ id, ...Object.fromEntries(NAMES.map((name) => [name, value(report, name)])) });
        reports.push({ ...report, id });
      }
      const { newestTs, gap } = batch.cursor;
      this.database
        .statement("INSERT INTO report_cursor (kind, newest_ts, gap) VALUES (?, ?, ?) ON CONFLICT (kind) DO UPDATE SET newest_ts = excluded.newest_ts, gap = excluded.gap")
        .run(kind, newestTs, gap === undefined ? null : JSON.stringify(gap));
      const unreadable = (batch.unreadable ?? []).filter(
        (entry) =>
          this.database
            .statement("INSERT INTO report_unreadable (key, kind, homeserver_id, problem) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING")
            .run(entry.key, entry.kind, entry.homeserverId ?? null, entry.problem).changes > 0,
      );
      return { reports, unreadable };
    });
  }

  knows(report: ReportIdentity): boolean {
    const [column, subject] = report.kind === "event" ? ["event_id", report.eventId] : ["target", report.target];
    return (
      this.database
        .statement(`SELECT 1 AS found FROM reports WHERE kind = ? AND homeserver_id = ? AND ${column} = ? AND reporter = ? AND received_ts = ?`)
        .get(report.kind, report.homeserverId, subject, report.reporter, report.receivedTs) !== undefined
    );
  }

  /** The homeserver's id while Warden has no report of that kind and number, else one past the kind's largest. */
  private freeNumber(kind: ReportKind, homeserverId: number): number {
    if (this.database.statement("SELECT 1 AS taken FROM reports WHERE kind = ? AND id = ?").get(kind, homeserverId) === undefined) return homeserverId;
    return Number(this.database.statement("SELECT MAX(id) AS largest FROM reports WHERE kind = ?").get(kind)?.["largest"]) + 1;
  }

  withHomeserverId(kind: ReportKind, homeserverId: number): StoredReport[] {
    return this.rows("SELECT * FROM reports WHERE kind = ? AND homeserver_id = ? ORDER BY received_ts, id", kind, homeserverId);
  }

  get(ref: ReportRef): StoredReport | undefined {
    return rowToReport(this.database.statement("SELECT * FROM reports WHERE kind = ? AND id = ?").get(ref.kind, ref.id));
  }

  update(ref: ReportRef, patch: ReportPatch): StoredReport | undefined {
    const names = NAMES.filter((name) => name in patch);
    if (names.length > 0) {
      this.database.run(`${NOUN[ref.kind]} ${ref.kind === "user" ? "u" : ""}${ref.id}`, () => {
        this.database
          .statement(`UPDATE reports SET ${names.map((name) => `${COLUMNS[name]} = :${name}`).join(", ")} WHERE kind = :refKind AND id = :refId`)
          .run({ refKind: ref.kind, refId: ref.id, ...Object.fromEntries(names.map((name) => [name, value(patch, name)])) });
      });
    }
    return this.get(ref);
  }

  unposted(): StoredReport[] {
    return this.rows("SELECT * FROM reports WHERE card_event_id IS NULL ORDER BY received_ts, kind, id");
  }

  list(filter: ReportListFilter, from: number, limit: number): { reports: StoredReport[]; total: number } {
    const where: string[] = [];
    const args: SQLInputValue[] = [];
    if (!filter.includeResolved) where.push("state != 'resolved'");
    if (filter.kind !== undefined) {
      where.push("kind = ?");
      args.push(filter.kind);
    }
    if (filter.roomId !== undefined) {
      where.push("room_id = ?");
      args.push(filter.roomId);
    }
    if (filter.user !== undefined) {
      where.push("(sender = ? OR target = ? OR reporter = ?)");
      args.push(filter.user, filter.user, filter.user);
    }
    const clause = where.length === 0 ? "" : `WHERE ${where.join(" AND ")}`;
    const total = Number(this.database.statement(`SELECT COUNT(*) AS n FROM reports ${clause}`).get(...args)?.["n"] ?? 0);
    return { reports: this.rows(`SELECT * FROM reports ${clause} ORDER BY received_ts DESC, kind DESC, id DESC LIMIT ? OFFSET ?`, ...args, limit, from), total };
  }

  countRecent(subject: BurstSubject, since: number, before: Pick<StoredReport, "kind" | "id" | "receivedTs">): number {
    // Taken before it: of its kind, a lower number (numbers follow the order reports were taken
    // in); of the other kind, received before it (the two lists are read apart).
    const earlier = "(CASE WHEN kind = :kind THEN id < :id ELSE received_ts < :receivedTs END)";
    const bound = { since, kind: before.kind, id: before.id, receivedTs: before.receivedTs };
    const row =
      "roomId" in subject
        ? this.database.statement(`SELECT COUNT(*) AS n FROM reports WHERE kind = 'event' AND room_id = :subject AND received_ts >= :since AND ${earlier}`).get({ ...bound, subject: subject.roomId })
        : this.database
            .statement(`SELECT COUNT(*) AS n FROM reports WHERE (sender = :subject OR target = :subject) AND received_ts >= :since AND ${earlier}`)
            .get({ ...bound, subject: subject.person });
    return Number(row?.["n"] ?? 0);
  }

  digest(key: string): Digest | undefined {
    const parsed = digestRow.safeParse(this.database.statement("SELECT * FROM report_digests WHERE key = ?").get(key));
    if (!parsed.success) return undefined;
    const row = parsed.data;
    return {
      key: row.key,
      kind: row.kind,
      subject: row.subject,
      reportIds: readRefs(row.report_ids),
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
        .run(digest.key, digest.kind, digest.subject, writeRefs(digest.reportIds), digest.lastTs, digest.cardEventId ?? null);
    });
  }

  byCard(eventId: string): StoredReport[] {
    return this.rows("SELECT * FROM reports WHERE card_event_id = ? ORDER BY received_ts, kind, id", eventId);
  }

  unnamed(): UnreadableReport[] {
    return this.database
      .statement("SELECT key, kind, homeserver_id, problem FROM report_unreadable WHERE named_event_id IS NULL ORDER BY rowid")
      .all()
      .flatMap((row) => {
        const parsed = unreadableRow.safeParse(row);
        if (!parsed.success) return [];
        const { key, kind, homeserver_id: homeserverId, problem } = parsed.data;
        return [{ kind, key, problem, ...present("homeserverId", homeserverId) }];
      });
  }

  markNamed(keys: readonly string[], eventId: string): void {
    this.database.transaction(`${keys.length} unreadable report(s) named`, () => {
      for (const key of keys) this.database.statement("UPDATE report_unreadable SET named_event_id = ? WHERE key = ?").run(eventId, key);
    });
  }

  noticePosted(key: string): boolean {
    return this.database.statement("SELECT 1 AS found FROM report_notices WHERE key = ?").get(key) !== undefined;
  }

  markNotice(key: string, posted: boolean): void {
    this.database.run(`the notice ${key}`, () => {
      if (posted) this.database.statement("INSERT INTO report_notices (key, posted_at) VALUES (?, unixepoch() * 1000) ON CONFLICT (key) DO NOTHING").run(key);
      else this.database.statement("DELETE FROM report_notices WHERE key = ?").run(key);
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
