import { asEventId, asRoomAlias, asRoomId, asUserId, type EventId, type RoomAlias, type RoomId, type UserId } from "../../matrix/ids.js";
import { parsePermalink } from "../../matrix/permalink.js";
import { err, ok, type Result } from "../../util/result.js";
import type { ArgumentProblem, Words } from "../../model/commandSpec.js";

export type RoomArgument = { readonly kind: "id"; readonly roomId: RoomId } | { readonly kind: "alias"; readonly alias: RoomAlias };

export const ROOM_EXPECTED = "a room ID (!abc:example.org), a room alias (#room:example.org) or a matrix.to link to a room";

export function parseRoomArgument(name: string, word: string): Result<RoomArgument, ArgumentProblem> {
  const fromLink = parsePermalink(word);
  const text = fromLink?.room ?? word;
  const roomId = asRoomId(text);
  if (roomId !== undefined) return ok({ kind: "id", roomId });
  const alias = asRoomAlias(text);
  if (alias !== undefined) return ok({ kind: "alias", alias });
  return err({ argument: name, given: word, expected: ROOM_EXPECTED });
}

/** The parse step of the commands whose only argument is a room. */
export function parseRoomOnly(words: Words): Result<{ readonly room: RoomArgument }, ArgumentProblem> {
  const room = parseRoomArgument("<room>", words.positionals[0] ?? "");
  return room.ok ? ok({ room: room.value }) : room;
}

export function parseUserArgument(name: string, word: string): Result<UserId, ArgumentProblem> {
  const userId = asUserId(word.trim());
  return userId === undefined ? err({ argument: name, given: word, expected: "a full user ID such as @abuse:example.org" }) : ok(userId);
}

/** Where a purge stops: an event (kept, with everything after it) or a time. */
export type PurgePoint =
  | { readonly kind: "event"; readonly eventId: EventId }
  | { readonly kind: "time"; readonly timestamp: number; readonly form: "epoch-ms" | "iso" | "age" };

export const AGE_UNITS_TEXT = "s, min, h, d, w (seconds, minutes, hours, days, weeks)";

export const POINT_EXPECTED =
  "an event ID ($abc...), a matrix.to link to an event, an epoch time in milliseconds (1700000000000), an ISO-8601 date or date-time (2024-05-01, 2024-05-01T12:00Z; UTC unless a zone is given), " +
  `or an age: a whole number and one of the units ${AGE_UNITS_TEXT}, such as 90d, 12h, 30min, 2w; m alone is refused (minutes or months?)`;

const AGE_UNITS: Readonly<Record<string, number>> = {
  s: 1_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
// Anchored at both ends: "30days" or "6mo" is not an age with text after it.
const AGE = /^(\d{1,6})(s|min|h|d|w)$/;
/** A number followed by letters: meant as an age, so an unknown unit is answered with the list. */
const AGE_LIKE = /^(\d{1,6})([a-z]+)$/i;
const DAYS_PER_MONTH = 30;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i;
/** Epochs in milliseconds below this (March 1973) are almost surely seconds typed by mistake. */
const SMALLEST_PLAUSIBLE_MILLISECONDS = 100_000_000_000;

export function parsePurgePoint(name: string, word: string, now: number): Result<PurgePoint, ArgumentProblem> {
  const link = parsePermalink(word);
  if (link !== undefined) {
    if (link.eventId === undefined) {
      return err({ argument: name, given: word, expected: `a link to an event, not to a room; ${POINT_EXPECTED}` });
    }
    // The link's room is not trusted: the purge checks the event's own room against the target.
    return ok({ kind: "event", eventId: link.eventId });
  }
  const eventId = asEventId(word);
  if (eventId !== undefined) return ok({ kind: "event", eventId });

  if (/^\d+$/.test(word)) {
    const value = Number(word);
    if (!Number.isSafeInteger(value)) return err({ argument: name, given: word, expected: POINT_EXPECTED });
    if (value < SMALLEST_PLAUSIBLE_MILLISECONDS) {
      return err({
        argument: name,
        given: word,
        expected: `milliseconds since 1970; this looks like seconds, which would be ${word}000`,
      });
    }
    return checkPast(name, word, value, "epoch-ms", now);
  }
  const age = AGE.exec(word);
  if (age !== null) {
    const amount = Number(age[1]);
    // Stryker disable next-line StringLiteral: equivalent, AGE's second group always matches, so the fallback (for the type checker) is never read
    const unit = AGE_UNITS[age[2] ?? ""] ?? 0;
    if (amount === 0) return err({ argument: name, given: word, expected: "an age greater than zero, such as 30d" });
    return ok({ kind: "time", timestamp: now - amount * unit, form: "age" });
  }
  const ageLike = AGE_LIKE.exec(word);
  // Stryker disable next-line StringLiteral: equivalent, AGE_LIKE's second group always matches, so the fallback (for the type checker) is never read
  if (ageLike !== null) return err({ argument: name, given: word, expected: unknownAgeUnit(Number(ageLike[1]), ageLike[2] ?? "") });
  if (ISO_DATE.test(word) || ISO_DATE_TIME.test(word)) {
    // Date.parse reads a date-time without a zone as local time; Warden promises UTC.
    // Stryker disable next-line Regex: equivalent, dropping the end anchor finds no other zone, as the date part before the T cannot hold [+-]dd:dd
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(word) && !ISO_DATE.test(word);
    const text = ISO_DATE.test(word) ? `${word}T00:00:00Z` : hasZone ? word : `${word}Z`;
    const value = Date.parse(text);
    if (Number.isNaN(value) || !isRealCalendarDate(word)) {
      return err({ argument: name, given: word, expected: `a real calendar date; ${POINT_EXPECTED}` });
    }
    return checkPast(name, word, value, "iso", now);
  }
  return err({ argument: name, given: word, expected: POINT_EXPECTED });
}

function unknownAgeUnit(amount: number, unit: string): string {
  if (unit === "m") {
    // Minutes for one moderator, months for another: the wrong guess destroys the wrong history.
    return `an unambiguous unit: m could mean minutes or months; write ${amount}min for minutes, or ${amount * DAYS_PER_MONTH}d for about ${amount} month${amount === 1 ? "" : "s"}`;
  }
  return `an age unit Warden knows: ${AGE_UNITS_TEXT}, such as 90d or 30min ("${unit}" is not one)`;
}

/** Date.parse rolls 2024-02-30 over to 1 March; a typed date must exist as typed. */
function isRealCalendarDate(word: string): boolean {
  const [year, month, day] = word.slice(0, 10).split("-").map(Number);
  // Stryker disable next-line ConditionalExpression,BooleanLiteral: equivalent, the ISO regexes guarantee three numbers; the check is for the type checker
  if (year === undefined || month === undefined || day === undefined) return false;
  const date = new Date(Date.UTC(year, month - 1, day));
  // A day its month lacks rolls over into the next month (Date.parse has already refused months
  // and days out of range), changing month and day both, so any one comparison would refuse it:
  // dropping one, or joining two with ||, changes nothing. All three stay so the check stands alone.
  // (The line's whole-condition mutants, which the tests kill, are disabled with them.)
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, see above
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function checkPast(
  name: string,
  word: string,
  timestamp: number,
  form: "epoch-ms" | "iso",
  now: number,
): Result<PurgePoint, ArgumentProblem> {
  if (timestamp > now) {
    return err({
      argument: name,
      given: word,
      expected: `a time in the past (it is ${new Date(now).toISOString()} now); a purge cannot reach into the future`,
    });
  }
  return ok({ kind: "time", timestamp, form });
}
