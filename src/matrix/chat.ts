import { createHash } from "node:crypto";
import type { Result } from "../util/result.js";
import type { RoomAlias, RoomId, UserId } from "./ids.js";

/** The namespaced content key under which a message carries its machine-readable record. */
export const RECORD_KEY = "org.warden.record";

/**
 * The most one message may take: body, formatted body and record together, as UTF-8 JSON.
 * Half of the homeserver's 64 KiB event limit, which also counts the event's envelope
 * (hashes, signatures, auth and prev events) and, in an encrypted room, base64's third more.
 */
export const MESSAGE_BUDGET_BYTES = 32 * 1024;

/** A message in both forms Matrix clients show; `html` is built only from escaped text. */
export interface OutgoingMessage {
  readonly plain: string;
  readonly html: string;
  /**
   * Users to notify. Such a message is sent as m.text with m.mentions: the default push rules
   * silence m.notice, and a moderator must hear when their job ends.
   */
  readonly mentions?: readonly UserId[];
  /** A namespaced, machine-readable copy of what the message reports, for exporting the audit trail. */
  readonly record?: Readonly<Record<string, unknown>>;
  /**
   * The same news in few words (counts, no lists), sent instead when the homeserver refuses
   * this message as too large.
   */
  readonly short?: OutgoingMessage;
}

export interface SendOptions {
  readonly replyTo?: string;
  /** A stable transaction id makes a resend after a crash a no-op on the homeserver. */
  readonly transactionId?: string;
}

/**
 * Why a message did not go out. "too-large": the homeserver refused it for its size even in
 * its shorter form, so sending it again cannot help; "failed": anything else (may pass later).
 */
export interface SendFailure {
  readonly kind: "too-large" | "failed";
  readonly detail: string;
}

/** What commands and the tracker may do in chat: post and edit. Nothing else of the bot. */
export interface ChatSender {
  send(roomId: RoomId, message: OutgoingMessage, options?: SendOptions): Promise<Result<string, SendFailure>>;
  edit(roomId: RoomId, eventId: string, message: OutgoingMessage): Promise<Result<string, SendFailure>>;
}

export interface RoomDirectory {
  /** Resolves an alias through the room directory. */
  resolveAlias(alias: RoomAlias): Promise<Result<RoomId, string>>;
}

/** Bytes a value takes in the event's JSON (UTF-8, escapes included), as the homeserver counts them. */
export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), "utf8");
}

/** What a message adds to an event: its body, formatted body and record. */
export function messageBytes(message: OutgoingMessage): number {
  return jsonBytes(message.plain) + jsonBytes(message.html) + (message.record === undefined ? 0 : jsonBytes(message.record));
}

const SHORTENED_NOTE = "\n… (shortened to fit in one Matrix event)";

/**
 * The last guard before a message leaves: renderers keep lists short, but one long field (a
 * reason, a room name, a homeserver's error text) can still overflow. Past the budget the
 * shorter form is used; past it still, the record keeps only its short fields, the HTML is
 * dropped (clients then show the body) and the body is cut.
 */
export function fitMessage(message: OutgoingMessage, budget = MESSAGE_BUDGET_BYTES): OutgoingMessage {
  if (messageBytes(message) <= budget) return message;
  const base = message.short ?? message;
  if (messageBytes(base) <= budget) return base;
  const record = base.record === undefined ? undefined : compactRecord(base.record, budget / 4);
  const recordBytes = record === undefined ? 0 : jsonBytes(record);
  const fitted: OutgoingMessage = {
    plain: base.plain,
    html: base.html,
    ...(base.mentions === undefined ? {} : { mentions: base.mentions }),
    ...(record === undefined ? {} : { record }),
  };
  if (messageBytes(fitted) <= budget) return fitted;
  return { ...fitted, plain: cutToBytes(base.plain, budget - recordBytes - jsonBytes(""), SHORTENED_NOTE), html: "" };
}

/** A record reduced to its scalar fields (strings shortened), marked as such. */
function compactRecord(record: Readonly<Record<string, unknown>>, budget: number): Record<string, unknown> {
  if (jsonBytes(record) <= budget) return { ...record };
  const compact: Record<string, unknown> = { shortened: true };
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === "number" || typeof value === "boolean" || value === null) compact[key] = value;
    else if (typeof value === "string") compact[key] = value.length <= 200 ? value : `${value.slice(0, 199)}…`;
  }
  return compact;
}

/** The longest start of `text` whose JSON form fits in `budget` bytes with `note` added, cut between characters. */
export function cutToBytes(text: string, budget: number, note = "…"): string {
  if (jsonBytes(text) <= budget) return text;
  // Code points, so a cut never splits a surrogate pair (a cut inside an emoji sequence is harmless).
  const characters = Array.from(text);
  let low = 0;
  let high = characters.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (jsonBytes(characters.slice(0, middle).join("") + note) <= budget) low = middle;
    else high = middle - 1;
  }
  return characters.slice(0, low).join("") + note;
}

/**
 * The transaction id of Warden's one answer to a command event. Sending the answer again (a
 * restart between sending it and recording that it was sent) reuses the id, and the homeserver
 * drops the repeat: Synapse keeps a device's transaction ids for 30 minutes.
 */
export function answerTransactionId(commandEventId: string): string {
  return `warden-answer-${createHash("sha256").update(commandEventId).digest("hex").slice(0, 32)}`;
}
