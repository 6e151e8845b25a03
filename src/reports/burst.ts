import type { StoredReport } from "../model/reports.js";
import type { ReportStore } from "./store.js";

export interface BurstRules {
  /** More than this many reports about one room or sender within the window fold into a digest. */
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
 * Whether a report joins a digest: when `burst` reports about its room (or, failing that, its
 * sender) were already received within the window before it, it is one too many for its own
 * card. The room is checked first: a raid on one room is one digest whoever sends.
 */
export function foldFor(report: StoredReport, store: Pick<ReportStore, "countRecent">, rules: BurstRules): Fold | undefined {
  const since = report.receivedTs - rules.windowMs;
  if (store.countRecent({ roomId: report.roomId }, since, report.id) >= rules.burst) {
    return { key: digestKey("room", report.roomId), kind: "room", subject: report.roomId };
  }
  if (report.sender !== undefined && store.countRecent({ sender: report.sender }, since, report.id) >= rules.burst) {
    return { key: digestKey("sender", report.sender), kind: "sender", subject: report.sender };
  }
  return undefined;
}
