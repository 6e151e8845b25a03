import type { EventReportFacts, ReportFacts, ReportKind, UserReportFacts } from "../model/reports.js";
import { present } from "../model/lookups.js";
import type { AdminError, EventReport, SynapseAdminClient, UnreadableEntry, UserReportBody } from "../synapse/adminClient.js";
import type { Result } from "../util/result.js";

/** One page of a report list, newest first, in Warden's terms. */
export interface ReportPage {
  readonly reports: readonly ReportFacts[];
  readonly unreadable: readonly UnreadableEntry[];
  /** Entries in the whole list, as the homeserver counts them. */
  readonly total: number;
  /** Where the next page starts (an offset); absent on the last page. */
  readonly next?: number;
}

/**
 * One of the homeserver's report lists: event reports, or reports about users (Synapse ≥ 1.152).
 * Both are ordered by received time, paged by offset, and hand a deleted newest id out again
 * after a restart: the poller and the walk read them the same way.
 */
export interface ReportList {
  readonly kind: ReportKind;
  page(from: number, limit: number): Promise<Result<ReportPage, AdminError>>;
}

export function eventReportList(admin: Pick<SynapseAdminClient, "eventReports">): ReportList {
  return {
    kind: "event",
    async page(from, limit) {
      const listed = await admin.eventReports({ from, limit, direction: "b" });
      if (!listed.ok) return listed;
      const { event_reports: reports, unreadable, total, next_token: next } = listed.value;
      return { ok: true, value: { reports: reports.map(eventReportFacts), unreadable, total, ...present("next", next) } };
    },
  };
}

export function userReportList(admin: Pick<SynapseAdminClient, "userReports">): ReportList {
  return {
    kind: "user",
    async page(from, limit) {
      const listed = await admin.userReports({ from, limit, direction: "b" });
      if (!listed.ok) return listed;
      const { user_reports: reports, unreadable, total, next_token: next } = listed.value;
      return { ok: true, value: { reports: reports.map(userReportFacts), unreadable, total, ...present("next", next) } };
    },
  };
}

export function eventReportFacts(report: EventReport): EventReportFacts {
  return {
    kind: "event",
    homeserverId: report.id,
    receivedTs: report.received_ts,
    roomId: report.room_id,
    eventId: report.event_id,
    reporter: report.user_id,
    ...present("roomName", report.name),
    ...present("canonicalAlias", report.canonical_alias),
    ...present("sender", report.sender),
    ...present("reason", report.reason),
    ...present("score", report.score),
  };
}

export function userReportFacts(report: UserReportBody): UserReportFacts {
  return {
    kind: "user",
    homeserverId: report.id,
    receivedTs: report.received_ts,
    target: report.target_user_id,
    reporter: report.user_id,
    ...present("reason", report.reason),
  };
}
