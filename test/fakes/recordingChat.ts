import type { ChatSender, OutgoingMessage, SendFailure, SendOptions } from "../../src/matrix/chat.js";
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
 * event id; `failWith` makes sends and edits fail with that text (after recording them), as
 * `failKind` says ("too-large" models a homeserver that refused even the shorter form).
 */
export class RecordingChat implements ChatSender {
  readonly sent: SentMessage[] = [];
  readonly edited: EditedMessage[] = [];
  failWith: string | undefined;
  failKind: SendFailure["kind"] = "failed";
  private counter = 0;

  send(roomId: RoomId, message: OutgoingMessage, options?: SendOptions): Promise<Result<string, SendFailure>> {
    this.counter += 1;
    const eventId = `$sent-${this.counter}`;
    this.sent.push({ roomId, message, options, eventId });
    return Promise.resolve(this.failWith === undefined ? ok(eventId) : err(this.failure(this.failWith)));
  }

  edit(roomId: RoomId, eventId: string, message: OutgoingMessage): Promise<Result<string, SendFailure>> {
    this.edited.push({ roomId, eventId, message });
    this.counter += 1;
    return Promise.resolve(this.failWith === undefined ? ok(`$edit-${this.counter}`) : err(this.failure(this.failWith)));
  }

  private failure(detail: string): SendFailure {
    return { kind: this.failKind, detail };
  }

  /** The plain bodies of everything sent, in order. */
  plainBodies(): string[] {
    return this.sent.map((entry) => entry.message.plain);
  }
}
