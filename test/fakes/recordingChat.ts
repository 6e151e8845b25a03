import type { ChatSender, OutgoingMessage, SendOptions } from "../../src/matrix/chat.js";
import type { RoomId } from "../../src/matrix/ids.js";
import { err, ok, type Result } from "../../src/util/result.js";

export interface SentMessage {
  readonly roomId: RoomId;
  readonly message: OutgoingMessage;
  readonly options: SendOptions | undefined;
  readonly eventId: string;
}

export interface EditedMessage {
  readonly roomId: RoomId;
  readonly eventId: string;
  readonly message: OutgoingMessage;
}

/**
 * A ChatSender that records every message instead of sending it. Each send gets a fresh
 * event id; `failWith` makes sends and edits fail with that text (after recording them).
 */
export class RecordingChat implements ChatSender {
  readonly sent: SentMessage[] = [];
  readonly edited: EditedMessage[] = [];
  failWith: string | undefined;
  private counter = 0;

  send(roomId: RoomId, message: OutgoingMessage, options?: SendOptions): Promise<Result<string, string>> {
    this.counter += 1;
    const eventId = `$sent-${this.counter}`;
    this.sent.push({ roomId, message, options, eventId });
    return Promise.resolve(this.failWith === undefined ? ok(eventId) : err(this.failWith));
  }

  edit(roomId: RoomId, eventId: string, message: OutgoingMessage): Promise<Result<string, string>> {
    this.edited.push({ roomId, eventId, message });
    this.counter += 1;
    return Promise.resolve(this.failWith === undefined ? ok(`$edit-${this.counter}`) : err(this.failWith));
  }

  /** The plain bodies of everything sent, in order. */
  plainBodies(): string[] {
    return this.sent.map((entry) => entry.message.plain);
  }
}
