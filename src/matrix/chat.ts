import { createHash } from "node:crypto";
import type { Result } from "../util/result.js";
import type { RoomAlias, RoomId, UserId } from "./ids.js";

/** The namespaced content key under which a message carries its machine-readable record. */
export const RECORD_KEY = "org.warden.record";

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
}

export interface SendOptions {
  readonly replyTo?: string;
  /** A stable transaction id makes a resend after a crash a no-op on the homeserver. */
  readonly transactionId?: string;
}

/** What commands and the tracker may do in chat: post and edit. Nothing else of the bot. */
export interface ChatSender {
  send(roomId: RoomId, message: OutgoingMessage, options?: SendOptions): Promise<Result<string, string>>;
  edit(roomId: RoomId, eventId: string, message: OutgoingMessage): Promise<Result<string, string>>;
}

export interface RoomDirectory {
  /** Resolves an alias through the room directory. */
  resolveAlias(alias: RoomAlias): Promise<Result<RoomId, string>>;
}

/**
 * The transaction id of Warden's one answer to a command event. Sending the answer again (a
 * restart between sending it and recording that it was sent) reuses the id, and the homeserver
 * drops the repeat: Synapse keeps a device's transaction ids for 30 minutes.
 */
export function answerTransactionId(commandEventId: string): string {
  return `warden-answer-${createHash("sha256").update(commandEventId).digest("hex").slice(0, 32)}`;
}
