import type { ClientEvent, MatrixClient } from "./client.js";

const LONG_POLL_MS = 10_000;
/** How long the homeserver may be unreachable (a test restarting it) before following fails. */
const TOLERATED_OUTAGE_MS = 90_000;
const RETRY_MS = 250;

/**
 * Follows one room through /sync as one user and keeps every timeline event in arrival
 * order, so a test can wait for "a message like this, after that point" without sleeping.
 */
export class RoomRecorder {
  readonly events: ClientEvent[] = [];
  private running = false;
  private waiters: (() => void)[] = [];
  private failure: unknown;

  constructor(
    private readonly client: MatrixClient,
    private readonly roomId: string,
  ) {}

  /** Starts following from now on: events already in the room are skipped. */
  async start(): Promise<void> {
    const filter = this.filter();
    const first = await this.client.sync({ timeoutMs: 0, filter });
    this.running = true;
    void this.follow(first.next_batch);
  }

  private filter(): object {
    return {
      room: { rooms: [this.roomId], timeline: { limit: 100 }, state: { lazy_load_members: true } },
      presence: { not_types: ["*"] },
      account_data: { not_types: ["*"] },
    };
  }

  private async follow(since: string): Promise<void> {
    let token = since;
    const filter = this.filter();
    let failingSince: number | undefined;
    while (this.running) {
      try {
        const response = await this.client.sync({ since: token, timeoutMs: LONG_POLL_MS, filter });
        failingSince = undefined;
        const timeline = response.rooms?.join?.[this.roomId]?.timeline?.events ?? [];
        if (timeline.length > 0) {
          this.events.push(...timeline);
          this.wake();
        }
        token = response.next_batch;
      } catch (error) {
        if (this.isStopped()) return;
        failingSince ??= Date.now();
        if (Date.now() - failingSince < TOLERATED_OUTAGE_MS) {
          // The homeserver may be restarting on purpose; try again shortly.
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
          continue;
        }
        this.failure = error;
        this.wake();
        return;
      }
    }
  }

  // A method, not a field read: the loop's condition would otherwise narrow `running` to true.
  private isStopped(): boolean {
    return !this.running;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Position to pass to waitFor so only later events count. */
  mark(): number {
    return this.events.length;
  }

  /** Resolves with the first event at or after `from` that matches; rejects after `timeoutMs`. */
  async waitFor(predicate: (event: ClientEvent) => boolean, options: { from?: number; timeoutMs?: number; what?: string } = {}): Promise<ClientEvent> {
    const deadline = Date.now() + (options.timeoutMs ?? 60_000);
    let index = options.from ?? 0;
    for (;;) {
      for (; index < this.events.length; index++) {
        const event = this.events[index];
        if (event !== undefined && predicate(event)) return event;
      }
      if (this.failure !== undefined) throw this.failure instanceof Error ? this.failure : new Error("sync failed");
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const seen = this.events.slice(options.from ?? 0).map(describe).join("\n  ");
        throw new Error(`RoomRecorder: no event ${options.what ?? "matching"} within ${options.timeoutMs ?? 60_000} ms; seen:\n  ${seen}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Stops following; a long-poll still in flight is left to end on its own. */
  stop(): Promise<void> {
    this.running = false;
    this.wake();
    return Promise.resolve();
  }
}

export function bodyOf(event: ClientEvent): string {
  const body = event.content["body"];
  return typeof body === "string" ? body : "";
}

/** True for an edit (m.replace) of `eventId`. */
export function isEditOf(event: ClientEvent, eventId: string): boolean {
  const relation = event.content["m.relates_to"];
  return (
    relation !== null &&
    typeof relation === "object" &&
    (relation as Record<string, unknown>)["rel_type"] === "m.replace" &&
    (relation as Record<string, unknown>)["event_id"] === eventId
  );
}

export function describe(event: ClientEvent): string {
  return `${event.sender} ${event.type}: ${bodyOf(event).split("\n")[0] ?? ""}`;
}
