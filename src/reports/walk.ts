import { identityOf, sameReport, type ReportFacts, type ReportIdentity } from "../model/reports.js";
import type { AdminError, UnreadableEntry } from "../synapse/adminClient.js";
import type { ReportList, ReportPage } from "./lists.js";

/**
 * Each next page starts this many entries before the end of the last one (10 of Synapse's 50),
 * so that the last entry read is normally on it again: that is how a walk sees that nothing
 * moved past it.
 */
export function pageOverlap(pageSize: number): number {
  return Math.max(1, Math.floor(pageSize / 5));
}

/** One walk down the newest-first list over a stretch of received times. */
export interface WalkPlan {
  /** The offset to read first. */
  readonly from: number;
  /**
   * Where an earlier walk stopped: everything received after `ts` was read, and `report` (the
   * last entry read, when known) too. The first page must hold that report or begin above `ts`
   * (with an entry received later), or be the top of the list; otherwise the walk steps back.
   * Unset for a walk from the top.
   */
  readonly above?: Anchor;
  /** The stretch ends here (included): the walk is complete at the first entry received before it. */
  readonly stopTs: number;
  /** Pages the walk may read, steps back included. */
  readonly pages: number;
  readonly pageSize: number;
}

export interface WalkResult {
  /** Readable entries received at or after `stopTs`, in list order; one may come twice (the overlap). */
  readonly reports: readonly ReportFacts[];
  readonly unreadable: readonly UnreadableEntry[];
  readonly pages: number;
  /**
   * Complete: the walk reached an entry received before `stopTs`, or the end of the list;
   * `below` is how many entries the list holds below the stretch.
   * Otherwise (out of pages, or a read failed): where it got to. `ts` is the oldest time read
   * (or `above` when nothing was), `offset` where to read next; undefined when a walk from the
   * top read nothing.
   */
  readonly end: { readonly complete: true; readonly below: number } | { readonly complete: false; readonly at?: WalkPlace; readonly failed?: AdminError };
}

/** Where an earlier walk stopped: the time read down to, and the last report read when known. */
export interface Anchor {
  readonly ts: number;
  readonly report?: ReportIdentity;
}

export type WalkPlace = Anchor & { readonly offset: number };

/**
 * The last entry read, to check that the next page begins at or above it: found again by its
 * identity, or by its fields when it was unreadable; `ts` is its time, or a later one when it
 * had none readable (the list is newest first), or Infinity when nothing was readable yet.
 */
interface Last extends Anchor {
  readonly unreadable?: string;
}

/**
 * Reads the list (of either kind) newest first from `plan.from` down to `plan.stopTs`, never skipping an entry:
 * reports filed meanwhile push entries down (the overlap absorbs that), deleted ones pull them
 * up. A page that does not begin at or above the last entry read — neither holding that entry
 * nor beginning with an entry received after it — may have skipped some, so the walk steps
 * back a page and reads again. Entries read twice are the caller's to recognise.
 */
export async function walkReports(list: ReportList, plan: WalkPlan): Promise<WalkResult> {
  const reports: ReportFacts[] = [];
  const unreadable: UnreadableEntry[] = [];
  let offset = plan.from;
  let anchor: Last | undefined = plan.above;
  let pages = 0;
  const stopped = (failed?: AdminError): WalkResult => ({
    reports,
    unreadable,
    pages,
    end: { complete: false, ...(anchor === undefined || anchor.ts === Infinity ? {} : { at: place(anchor, offset) }), ...(failed === undefined ? {} : { failed }) },
  });
  while (pages < plan.pages) {
    const listed = await list.page(offset, plan.pageSize);
    pages++;
    if (!listed.ok) return stopped(listed.error);
    const page = listed.value;
    if (offset > 0 && !beginsAbove(page, anchor)) {
      offset = Math.max(0, Math.min(offset, page.total) - plan.pageSize);
      continue;
    }
    unreadable.push(...page.unreadable);
    const older = page.reports.findIndex((report) => report.receivedTs < plan.stopTs);
    reports.push(...(older < 0 ? page.reports : page.reports.slice(0, older)));
    if (older >= 0) return { reports, unreadable, pages, end: { complete: true, below: page.total - offset - rawIndex(older, page.unreadable) } };
    const next = page.next;
    if (next === undefined) return { reports, unreadable, pages, end: { complete: true, below: 0 } };
    anchor = lastOf(page, anchor);
    offset = Math.max(offset + 1, next - pageOverlap(plan.pageSize));
  }
  return stopped();
}

/**
 * Whether a page begins at or above the last entry read: its first readable entry was received
 * after that one, or it holds that entry. An empty page (the list shrank below the offset) does not.
 */
function beginsAbove(page: ReportPage, anchor: Last | undefined): boolean {
  if (anchor === undefined) return true;
  const first = page.reports[0];
  if (first !== undefined && first.receivedTs > anchor.ts) return true;
  const { report: known, unreadable } = anchor;
  if (known !== undefined) return page.reports.some((report) => sameReport(identityOf(report), known));
  // Fields are text: with no unreadable anchor (undefined), nothing matches.
  return page.unreadable.some((entry) => entry.fields === unreadable);
}

/** The page's last entry, readable or not (see Last). */
function lastOf(page: ReportPage, previous: Last | undefined): Last | undefined {
  const last = page.reports.at(-1);
  const odd = page.unreadable.at(-1);
  if (odd !== undefined && odd.position === page.reports.length + page.unreadable.length - 1) {
    return { ts: last?.receivedTs ?? previous?.ts ?? Infinity, unreadable: odd.fields };
  }
  return last === undefined ? previous : { ts: last.receivedTs, report: identityOf(last) };
}

/** Where to go on from: an unreadable last entry cannot be found again by a later poll, only its time. */
function place(anchor: Last, offset: number): WalkPlace {
  // Stryker disable next-line ConditionalExpression: equivalent — `report: undefined` is no report, for the walk and the stores
  return { ts: anchor.ts, offset, ...(anchor.report === undefined ? {} : { report: anchor.report }) };
}

/** The place in the page of its `index`-th readable entry, counting the unreadable ones before it. */
function rawIndex(index: number, unreadable: readonly UnreadableEntry[]): number {
  let position = index;
  for (const entry of unreadable) if (entry.position <= position) position++;
  return position;
}
