/** A room event as Warden received it: enough to handle it again after a restart. */
export interface ReceivedEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly sender: string;
  readonly type: string;
  readonly content: unknown;
  readonly originServerTs: number;
}

/**
 * What Warden remembers of each command event, durably: received (before anything is done
 * about it), then answered. A command received and never answered is one a previous run
 * stopped in the middle of; the next start finishes it.
 */
export interface CommandJournal {
  /** Records a command event as received; resolves false when it was recorded before. Rejects when the write fails. */
  receive(event: ReceivedEvent): Promise<boolean>;
  /** Records that the command needs nothing more from Warden: its answer is in the room, or a task gives it. */
  answered(eventId: string): Promise<void>;
  /** Commands an earlier run received and never answered, oldest first. */
  unanswered(): Promise<readonly ReceivedEvent[]>;
  /** A one-step event (a ✅ reaction): recorded as received and answered at once; false when seen before. */
  claim(eventId: string): Promise<boolean>;
}
