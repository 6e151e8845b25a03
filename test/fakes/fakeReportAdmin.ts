import type { EventId, RoomId } from "../../src/matrix/ids.js";
import type {
  AdminError,
  EventContextBody,
  EventReport,
  EventReportQuery,
  EventReportsBody,
  ForwardExtremitiesBody,
  SynapseAdminClient,
  UserReportBody,
  UserReportQuery,
} from "../../src/synapse/adminClient.js";
import { eventReportsBody, userReportsBody } from "../../src/synapse/schemas.js";
import { err, ok, type Result } from "../../src/util/result.js";
import { adminError } from "./fakeAdmin.js";
import { FakeUserAdmin } from "./fakeUserAdmin.js";

type ReportAdminMethod =
  | "eventReports"
  | "eventReport"
  | "deleteEventReport"
  | "eventContext"
  | "forwardExtremities"
  | "deleteForwardExtremities"
  | "userReport"
  | "deleteUserReport";

export type ReportAdminCall =
  | { readonly method: "eventReports"; readonly query: EventReportQuery }
  | { readonly method: "userReport" | "deleteUserReport"; readonly reportId: number }
  | { readonly method: "eventReport" | "deleteEventReport"; readonly reportId: number }
  | { readonly method: "eventContext"; readonly roomId: RoomId; readonly eventId: EventId }
  | { readonly method: "forwardExtremities" | "deleteForwardExtremities"; readonly roomId: RoomId };

/**
 * FakeUserAdmin plus event reports, event context and forward extremities, answered the way
 * Synapse 1.163 answers them: reports are listed by the time they were received (newest first
 * unless dir=f), paged by offset with `total`; deleting a missing report is a 404; deleting the
 * extremities keeps the newest one. A page goes through the admin client's own schema, so an
 * entry it cannot read (`oddEntries`) behaves as it would from a real homeserver. Ids come from
 * the largest id at the fake's start, as Synapse's do: `restart()` after deleting the newest
 * report hands its id out again.
 *
 * Reports about users (Synapse ≥ 1.152) the same way, with ids of their own: FakeUserAdmin lists
 * `userReportList` (and its `userFailures` answer for the list); this adds filing one, reading
 * one and deleting one.
 */
export class FakeReportAdmin extends FakeUserAdmin implements Pick<SynapseAdminClient, ReportAdminMethod> {
  readonly reportCalls: ReportAdminCall[] = [];
  /** The homeserver's reports, in any order. */
  readonly reports: EventReport[] = [];
  /** Entries as a homeserver might send them whatever the schema says; each needs a numeric received_ts for the order. */
  readonly oddEntries: (Record<string, unknown> & { received_ts: number })[] = [];
  /** Event id -> its context; an event missing here answers 404. */
  readonly contexts = new Map<string, EventContextBody>();
  readonly extremities = new Map<string, ForwardExtremitiesBody["results"]>();
  readonly reportFailures = new Map<ReportAdminMethod, AdminError>();
  /** Events whose JSON the homeserver no longer has: GET event_reports/<id> answers 404 for their reports. */
  readonly purgedEvents = new Set<string>();
  private nextReportId = 1;
  private nextUserReportId = 1;

  /** Files a report about a user as a user's client would; ids count up like Synapse's. */
  addUserReport(report: Partial<UserReportBody> & { target_user_id: string; received_ts: number }): UserReportBody {
    const full: UserReportBody = { id: this.nextUserReportId++, user_id: "@reporter:example.org", reason: "abuse", ...report };
    this.userReportList.push(full);
    return full;
  }

  userReport(reportId: number): Promise<Result<UserReportBody, AdminError>> {
    this.reportCalls.push({ method: "userReport", reportId });
    const failure = this.reportFailures.get("userReport");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const report = this.userReportList.find((candidate) => candidate.id === reportId);
    return Promise.resolve(report === undefined ? err(adminError("not-found", 404, "User report not found")) : ok(report));
  }

  deleteUserReport(reportId: number): Promise<Result<Record<string, never>, AdminError>> {
    this.reportCalls.push({ method: "deleteUserReport", reportId });
    const failure = this.reportFailures.get("deleteUserReport");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const index = this.userReportList.findIndex((report) => report.id === reportId);
    if (index < 0) return Promise.resolve(err(adminError("not-found", 404, "User report not found")));
    this.userReportList.splice(index, 1);
    return Promise.resolve(ok({}));
  }

  /** Files a report as a user's client would; ids count up like Synapse's. */
  addReport(report: Partial<EventReport> & { room_id: string; event_id: string; received_ts: number }): EventReport {
    const full: EventReport = { id: this.nextReportId++, user_id: "@reporter:example.org", reason: "spam", sender: "@spammer:example.org", ...report };
    this.reports.push(full);
    return full;
  }

  eventReports(query: EventReportQuery = {}): Promise<Result<EventReportsBody, AdminError>> {
    this.reportCalls.push({ method: "eventReports", query });
    const failure = this.reportFailures.get("eventReports");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const entries: (Record<string, unknown> & { received_ts: number })[] = [...this.reports, ...this.oddEntries];
    const matching = entries
      .filter((report) => (query.eventSender === undefined || report["sender"] === query.eventSender) && (query.roomId === undefined || String(report["room_id"]).includes(query.roomId)))
      .sort((a, b) => (query.direction === "f" ? a.received_ts - b.received_ts : b.received_ts - a.received_ts));
    const from = query.from ?? 0;
    const limit = query.limit ?? 100;
    const page = matching.slice(from, from + limit);
    const checked = eventReportsBody.safeParse({ event_reports: page, total: matching.length, ...(from + limit < matching.length ? { next_token: from + page.length } : {}) });
    if (!checked.success) return Promise.resolve(err(adminError("bad-response", 200, `unexpected shape at ${checked.error.issues.map((issue) => issue.path.join(".")).join(", ")}`)));
    return Promise.resolve(ok(checked.data));
  }

  /** Synapse restarted: the next report id (of each kind) is one more than the largest id there is now. */
  restart(): void {
    this.nextReportId = Math.max(0, ...this.reports.map((report) => report.id)) + 1;
    this.nextUserReportId = Math.max(0, ...this.userReportList.map((report) => report.id)) + 1;
  }

  /** As Synapse: 404 also for a report whose event was purged (`purgedEvents`), although it is listed and can be deleted. */
  eventReport(reportId: number): Promise<Result<EventReport, AdminError>> {
    this.reportCalls.push({ method: "eventReport", reportId });
    const failure = this.reportFailures.get("eventReport");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const report = this.reports.find((candidate) => candidate.id === reportId);
    if (report === undefined || this.purgedEvents.has(report.event_id)) return Promise.resolve(err(adminError("not-found", 404, "Event report not found")));
    return Promise.resolve(ok(report));
  }

  deleteEventReport(reportId: number): Promise<Result<Record<string, never>, AdminError>> {
    this.reportCalls.push({ method: "deleteEventReport", reportId });
    const failure = this.reportFailures.get("deleteEventReport");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const index = this.reports.findIndex((report) => report.id === reportId);
    if (index < 0) return Promise.resolve(err(adminError("not-found", 404, "Event report not found")));
    this.reports.splice(index, 1);
    return Promise.resolve(ok({}));
  }

  eventContext(roomId: RoomId, eventId: EventId): Promise<Result<EventContextBody, AdminError>> {
    this.reportCalls.push({ method: "eventContext", roomId, eventId });
    const failure = this.reportFailures.get("eventContext");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const context = this.contexts.get(eventId);
    return Promise.resolve(context === undefined ? err(adminError("not-found", 404, "Event not found.")) : ok(context));
  }

  forwardExtremities(roomId: RoomId): Promise<Result<ForwardExtremitiesBody, AdminError>> {
    this.reportCalls.push({ method: "forwardExtremities", roomId });
    const failure = this.reportFailures.get("forwardExtremities");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const results = this.extremities.get(roomId);
    if (results === undefined) return Promise.resolve(err(adminError("not-found", 404, "Room not found")));
    return Promise.resolve(ok({ count: results.length, results: [...results] }));
  }

  deleteForwardExtremities(roomId: RoomId): Promise<Result<{ deleted: number }, AdminError>> {
    this.reportCalls.push({ method: "deleteForwardExtremities", roomId });
    const failure = this.reportFailures.get("deleteForwardExtremities");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const results = this.extremities.get(roomId) ?? [];
    const newest = [...results].sort((a, b) => (b.received_ts ?? 0) - (a.received_ts ?? 0))[0];
    this.extremities.set(roomId, newest === undefined ? [] : [newest]);
    return Promise.resolve(ok({ deleted: Math.max(0, results.length - 1) }));
  }
}

/**
 * Makes the fake list reports about users the way Synapse does rather than exactly: its
 * `target_user_id` and `user_id` filters are LIKE matches (a substring, ASCII case ignored),
 * and `odd` entries are listed as sent (each needs a numeric received_ts for the order), so the
 * admin client's schema sets aside those it cannot read.
 */
export function listUserReportsAsSynapse(admin: FakeReportAdmin, odd: readonly (Record<string, unknown> & { received_ts: number })[] = []): void {
  admin.userReports = (query: UserReportQuery) => {
    admin.userCalls.push({ method: "userReports", query });
    const failure = admin.userFailures.get("userReports");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const like = (value: unknown, filter: string | undefined) => filter === undefined || String(value).toLowerCase().includes(filter.toLowerCase());
    const matching = [...admin.userReportList, ...odd]
      .filter((report: Record<string, unknown>) => like(report["target_user_id"], query.target) && like(report["user_id"], query.reporter))
      .sort((a, b) => (query.direction === "f" ? a.received_ts - b.received_ts : b.received_ts - a.received_ts));
    const from = query.from ?? 0;
    const limit = query.limit ?? 100;
    const page = matching.slice(from, from + limit);
    return Promise.resolve(ok(userReportsBody.parse({ user_reports: page, total: matching.length, ...(from + limit < matching.length ? { next_token: from + page.length } : {}) })));
  };
}
