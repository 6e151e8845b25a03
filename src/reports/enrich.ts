import type { EventId, RoomId, UserId } from "../matrix/ids.js";
import type { ClientEvent, SynapseAdminClient } from "../synapse/adminClient.js";
import type { ContextLine, EventContext, ReportCard, StoredEventReport, StoredReport, StoredUserReport } from "../model/reports.js";
import { present } from "../model/lookups.js";

/** The context API splits `limit` between events before and after the reported one. */
export const CARD_CONTEXT_LIMIT = 4;
export const FULL_CONTEXT_LIMIT = 10;
/** Reports about a sender read to count the earlier ones; more are rare and said as "at least". */
const SENDER_PAGE = 100;

export type ReportAdmin = Pick<SynapseAdminClient, "eventContext" | "eventReports" | "userReports">;

/** Everything a card shows about a report, read from the homeserver now. */
export async function buildCard(report: StoredReport, admin: ReportAdmin, contextLimit = CARD_CONTEXT_LIMIT): Promise<ReportCard> {
  if (report.kind === "user") {
    const [earlier, aboutEvents] = await Promise.all([countEarlierAboutUser(report, admin), countEventReportsAbout(report.target, admin)]);
    return { kind: "user", report, ...present("earlierAboutTarget", earlier), ...present("eventReportsAboutTarget", aboutEvents) };
  }
  const [context, earlier] = await Promise.all([readContext(report, admin, contextLimit), countEarlier(report, admin)]);
  return { kind: "event", report, context, ...(earlier === undefined ? {} : { earlierAboutSender: earlier }) };
}

async function readContext(report: StoredEventReport, admin: ReportAdmin, limit: number): Promise<EventContext> {
  const found = await admin.eventContext(report.roomId as RoomId, report.eventId as EventId, limit);
  if (!found.ok) {
    switch (found.error.kind) {
      case "not-found":
        return { kind: "unavailable", why: "the homeserver no longer has this event (redacted away, purged, or never received)" };
      case "rate-limited":
      case "server-error":
      case "timeout":
      case "unreachable":
        return { kind: "unavailable", why: "context unavailable: the homeserver is too busy to answer now; try !report with the id later" };
      default:
        return { kind: "unavailable", why: `context unavailable: ${found.error.userMessage}` };
    }
  }
  const { event, events_before: before, events_after: after } = found.value;
  // events_before comes newest first.
  const ordered = [...[...before].reverse(), event, ...after];
  return { kind: "shown", lines: ordered.map((item) => contextLine(item, item.event_id === event.event_id)) };
}

/** One event as a line of text. Never HTML: the renderer escapes it, and formatted bodies are ignored. */
export function contextLine(event: ClientEvent, reported: boolean): ContextLine {
  const base = { sender: event.sender, at: event.origin_server_ts, reported };
  if (event.type === "m.room.encrypted") return { ...base, text: "encrypted", placeholder: true };
  if (event.type === "m.room.message" || event.type === "m.sticker") {
    const body = event.content["body"];
    const msgtype = event.content["msgtype"];
    if (typeof body !== "string") return { ...base, text: Object.keys(event.content).length === 0 ? "redacted" : "no text", placeholder: true };
    const kind = typeof msgtype === "string" ? msgtype : event.type;
    const media = ["m.image", "m.video", "m.audio", "m.file", "m.sticker"].includes(kind);
    return { ...base, text: media ? `${kind}: ${body}` : body, placeholder: false };
  }
  if (event.state_key !== undefined) return { ...base, text: `state event ${event.type}`, placeholder: true };
  return { ...base, text: `event ${event.type}`, placeholder: true };
}

async function countEarlier(report: StoredEventReport, admin: ReportAdmin): Promise<number | undefined> {
  if (report.sender === undefined) return undefined;
  const listed = await admin.eventReports({ eventSender: report.sender as UserId, direction: "b", limit: SENDER_PAGE });
  if (!listed.ok) return undefined;
  // By received time, as the list is ordered: ids are not (Synapse reuses a deleted newest one).
  const newerOrThis = listed.value.event_reports.filter((other) => other.received_ts >= report.receivedTs).length;
  return Math.max(0, listed.value.total - newerOrThis);
}

/**
 * Earlier reports about the same user (received before this one). Synapse matches the target
 * filter with LIKE, so the page is checked for the exact user; a list longer than one page
 * leaves older reports unread, and the count is then a floor.
 */
async function countEarlierAboutUser(report: StoredUserReport, admin: ReportAdmin): Promise<{ count: number; atLeast: boolean } | undefined> {
  const listed = await admin.userReports({ target: report.target, direction: "b", limit: SENDER_PAGE });
  if (!listed.ok) return undefined;
  const count = listed.value.user_reports.filter((other) => other.target_user_id === report.target && other.received_ts < report.receivedTs).length;
  const more = listed.value.next_token;
  return { count, atLeast: more !== undefined && more !== null };
}

/** Reports about events the user sent (the event list matches the sender exactly). */
async function countEventReportsAbout(userId: string, admin: ReportAdmin): Promise<number | undefined> {
  const listed = await admin.eventReports({ eventSender: userId as UserId, limit: 1 });
  return listed.ok ? listed.value.total : undefined;
}
