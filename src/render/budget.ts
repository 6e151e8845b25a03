import { jsonBytes } from "../matrix/chat.js";
import { escapeHtml, truncate } from "./html.js";

/**
 * The one place where a list meets the message budget (MESSAGE_BUDGET_BYTES in matrix/chat.ts).
 * Renderers build messages of any size from lists of any length; every list goes through
 * here, which shows its first entries and counts the rest ("and N more"), and keeps a
 * machine-readable record to counts plus the first entries. The full lists stay in the store
 * (`!status <task-id> --page N` shows a task's).
 */

/** One line in both forms; `html` is escaped. */
export interface Line {
  readonly plain: string;
  readonly html: string;
}

/** How much of one list a message shows. */
export interface ListLimits {
  /** At most this many entries. */
  readonly entries: number;
  /** At most this many bytes for the entries shown, plain and HTML together (as JSON, UTF-8). */
  readonly bytes: number;
}

/**
 * A list's share of a message. A message holds up to three lists (a shutdown's kicked users,
 * users not kicked and aliases) beside a reason, headings and a record, so each gets under a
 * tenth of the 32 KiB budget: with user IDs of 40 characters, the 20 entries fit easily.
 */
export const LIST_LIMITS: ListLimits = { entries: 20, bytes: 3 * 1024 };

/** A message that is one long list (!members, !rooms, a page of !status) may use most of the budget. */
export const LONG_LIST_LIMITS: ListLimits = { entries: 100, bytes: 20 * 1024 };

/** What a machine-readable record keeps of each list, besides the list's full count. */
export const RECORD_LIST_LIMITS: ListLimits = { entries: 20, bytes: 1024 };

export function lineBytes(line: Line): number {
  return jsonBytes(line.plain) + jsonBytes(line.html);
}

export function textLine(text: string): Line {
  return { plain: text, html: escapeHtml(text) };
}

/** The first entries that fit the limits, and how many were left out. */
export function firstEntries<T>(
  items: readonly T[],
  toLine: (item: T) => Line,
  limits: ListLimits = LIST_LIMITS,
): { readonly shown: readonly Line[]; readonly rest: number } {
  const shown: Line[] = [];
  let bytes = 0;
  for (const item of items) {
    if (shown.length >= limits.entries) break;
    const line = toLine(item);
    bytes += lineBytes(line);
    if (bytes > limits.bytes) break;
    shown.push(line);
  }
  return { shown, rest: items.length - shown.length };
}

/** "… and N more" (N left out of a list; `word` for "older" and the like), with an optional hint on where they are. */
export function moreLine(rest: number, hint?: Line, word = "more"): Line {
  return {
    plain: `... and ${rest} ${word}${hint === undefined ? "" : ` ${hint.plain}`}`,
    html: `… and ${rest} ${word}${hint === undefined ? "" : ` ${hint.html}`}`,
  };
}

/** One line per entry shown, then "… and N more" when entries were left out. */
export function listLines<T>(items: readonly T[], toLine: (item: T) => Line, limits: ListLimits = LIST_LIMITS, hint?: Line, word?: string): Line[] {
  const { shown, rest } = firstEntries(items, toLine, limits);
  return rest > 0 ? [...shown, moreLine(rest, hint, word)] : [...shown];
}

/** One entry of an inline list as the budget measures it: cut at 255 characters. */
export function inlineEntry(item: string): Line {
  return textLine(truncate(item, 255));
}

/** The entries on one line, comma-separated: "a, b, c, and N more". */
export function inlineList(items: readonly string[], limits: ListLimits = LIST_LIMITS, separator = ", "): string {
  const { shown, rest } = firstEntries(items, inlineEntry, limits);
  const text = shown.map((line) => line.plain).join(separator);
  if (rest === 0) return text;
  return shown.length === 0 ? `${rest} (too long to list here)` : `${text}${separator}and ${rest} more`;
}

/** What a machine-readable record keeps of a list: its first entries, each cut at 255 characters (the count goes beside it). */
export function recordEntries(items: readonly string[]): string[] {
  const kept: string[] = [];
  let bytes = 0;
  for (const item of items) {
    const entry = truncate(item, 255);
    bytes += jsonBytes(entry);
    if (kept.length >= RECORD_LIST_LIMITS.entries || bytes > RECORD_LIST_LIMITS.bytes) break;
    kept.push(entry);
  }
  return kept;
}

/** Splits a list into pages that each fit the limits, for reading a long list page by page. */
export function pages<T>(items: readonly T[], toLine: (item: T) => Line, limits: ListLimits = LONG_LIST_LIMITS): T[][] {
  const starts = pageStarts(items.map((item) => lineBytes(toLine(item))), limits);
  return starts.map((start, page) => items.slice(start, starts[page + 1] ?? items.length));
}

/**
 * Where each page of a list starts, from its entries' sizes as lineBytes measures them: the same
 * pages as `pages`, for a list so long that building every entry's line for each page asked for
 * would cost more than the page (`!status <wave-id>` of a wave of 100,000 rooms). Page N holds
 * the entries from starts[N - 1] up to starts[N] (or the end); an entry over the byte limit gets
 * a page to itself.
 */
export function pageStarts(sizes: readonly number[], limits: ListLimits = LONG_LIST_LIMITS): number[] {
  const starts: number[] = [];
  let entries = 0;
  let bytes = 0;
  for (const [index, size] of sizes.entries()) {
    if (entries > 0 && (entries >= limits.entries || bytes + size > limits.bytes)) {
      entries = 0;
      bytes = 0;
    }
    if (entries === 0) starts.push(index);
    entries++;
    bytes += size;
  }
  return starts;
}

/**
 * An entry's lineBytes, measured once and kept in `sizes`: for long lists paged again and again
 * (pageStarts). Only for entries that never change (a changed entry is a new object) and whose
 * line depends on nothing else; a line that also depends on something else needs a map per case.
 */
export function lineBytesOnce<K extends object>(sizes: WeakMap<K, number>, entry: K, toLine: (entry: K) => Line): number {
  const known = sizes.get(entry);
  if (known !== undefined) return known;
  const size = lineBytes(toLine(entry));
  sizes.set(entry, size);
  return size;
}
