import { personOf, type StoredReport } from "../model/reports.js";
import type { ReportStore } from "./store.js";

export interface BurstRules {
  /** More than this many reports about one room or person within the window fold into a digest. */
  readonly burst: number;
  readonly windowMs: number;
}

export interface Fold {
  readonly key: string;
  readonly kind: "room" | "sender";
  readonly subject: string;
}

export function digestKey(kind: "room" | "sender", subject: string): string {
  return `${kind} ${subject}`;
}

/**
 * Whether a report joins a digest: when `burst` reports about its room (or, failing that, the
 * person it names) were already received within the window before it, it is one too many for
 * its own card. The room is checked first: a raid on one room is one digest whoever sends. A
 * person's reports are those about events they sent and those about them as a user: a report
 * about a user has no room, and joins the digest of the person it names.
 */
export function foldFor(report: StoredReport, store: Pick<ReportStore, "countRecent">, rules: BurstRules): Fold | undefined {
  const since = report.receivedTs - rules.windowMs;
  if (report.kind === "event" && store.countRecent({ roomId: report.roomId }, since, report) >= rules.burst) {
    return { key: digestKey("room", report.roomId), kind: "room", subject: report.roomId };
  }
  const person = personOf(report);
  if (person !== undefined && store.countRecent({ person }, since, report) >= rules.burst) {
    return { key: digestKey("sender", person), kind: "sender", subject: person };
  }
  return undefined;
}
