import type { ChatSender, OutgoingMessage, SendFailure, SendOptions } from "../../src/matrix/chat.js";
import type { RoomId } from "../../src/matrix/ids.js";
import { err, ok, type Result } from "../../src/util/result.js";

export interface RoomMessage {
  readonly eventId: string;
  readonly replyTo: string | undefined;
  readonly plain: string;
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A management room as the homeserver keeps it, shared by several Warden processes in turn.
 * Like Synapse, it keeps one event per transaction id: a resend returns the first event and adds
 * nothing. Each send takes a turn of the event loop, so a test can stop a process mid-send.
 */
export class FakeRoom {
  readonly messages: RoomMessage[] = [];
  private readonly byTransaction = new Map<string, string>();
  private counter = 0;

  /** A connection for one process; after kill() its sends never complete, as for a dead process. */
  connect(): RoomConnection {
    return new RoomConnection(this);
  }

  /** How many messages answer `eventId`. */
  answersTo(eventId: string): number {
    return this.messages.filter((message) => message.replyTo === eventId).length;
  }

  accept(message: OutgoingMessage, options: SendOptions | undefined): string {
    const transactionId = options?.transactionId;
    const earlier = transactionId === undefined ? undefined : this.byTransaction.get(transactionId);
    if (earlier !== undefined) return earlier;
    this.counter += 1;
    const eventId = `$room-${this.counter}`;
    if (transactionId !== undefined) this.byTransaction.set(transactionId, eventId);
    this.messages.push({ eventId, replyTo: options?.replyTo, plain: message.plain });
    return eventId;
  }
}

export class RoomConnection implements ChatSender {
  /** Makes sends fail with this text (the homeserver refusing), until cleared. */
  failWith: string | undefined;
  private alive = true;

  constructor(private readonly room: FakeRoom) {}

  kill(): void {
    this.alive = false;
  }

  async send(_roomId: RoomId, message: OutgoingMessage, options?: SendOptions): Promise<Result<string, SendFailure>> {
    await tick();
    if (!this.alive) return new Promise(() => undefined);
    if (this.failWith !== undefined) return err({ kind: "failed", detail: this.failWith });
    return ok(this.room.accept(message, options));
  }

  async edit(): Promise<Result<string, SendFailure>> {
    await tick();
    if (!this.alive) return new Promise(() => undefined);
    return ok("$edit");
  }
}
