import { randomBytes } from "node:crypto";
import type { Clock } from "../../util/clock.js";
import { err, ok, type Result } from "../../util/result.js";
import type { Command, CommandContext } from "../spec.js";

/** A destructive command waiting for its requester's go-ahead. Kept in memory: a restart forgets it. */
export interface PendingConfirmation {
  readonly id: string;
  readonly command: Command;
  readonly args: unknown;
  readonly context: CommandContext;
  readonly expiresAt: number;
  previewEventId?: string;
}

export type ConfirmationRefusal =
  | { readonly kind: "unknown" }
  | { readonly kind: "expired"; readonly pending: PendingConfirmation }
  | { readonly kind: "not-requester"; readonly pending: PendingConfirmation }
  | { readonly kind: "already-confirmed"; readonly pending: PendingConfirmation };

/** Keeps the previews that wait for confirmation; each can be taken once, by its requester, in time. */
export class ConfirmationBook {
  private readonly pending = new Map<string, PendingConfirmation>();
  /** Confirmations no longer pending, and why, so a late !confirm gets the right answer. */
  private readonly closed = new Map<string, { confirmation: PendingConfirmation; why: "confirmed" | "expired" }>();

  constructor(
    private readonly clock: Clock,
    readonly windowMs: number,
  ) {}

  open(command: Command, args: unknown, context: CommandContext): PendingConfirmation {
    let id: string;
    do id = `c-${randomBytes(3).toString("hex")}`;
    while (this.pending.has(id) || this.closed.has(id));
    const confirmation: PendingConfirmation = { id, command, args, context, expiresAt: this.clock.now() + this.windowMs };
    this.pending.set(id, confirmation);
    return confirmation;
  }

  byPreviewEvent(eventId: string): PendingConfirmation | undefined {
    const closed = [...this.closed.values()].map((entry) => entry.confirmation);
    for (const confirmation of [...this.pending.values(), ...closed]) {
      if (confirmation.previewEventId === eventId) return confirmation;
    }
    return undefined;
  }

  /** Removes and returns the confirmation if `by` asked for it and it has not expired. */
  take(id: string, by: string): Result<PendingConfirmation, ConfirmationRefusal> {
    const confirmation = this.pending.get(id);
    if (confirmation === undefined) {
      const done = this.closed.get(id);
      if (done === undefined) return err({ kind: "unknown" });
      return err(done.why === "expired" ? { kind: "expired", pending: done.confirmation } : { kind: "already-confirmed", pending: done.confirmation });
    }
    if (confirmation.context.requester !== by) return err({ kind: "not-requester", pending: confirmation });
    if (this.clock.now() > confirmation.expiresAt) {
      this.close(confirmation, "expired");
      return err({ kind: "expired", pending: confirmation });
    }
    this.close(confirmation, "confirmed");
    return ok(confirmation);
  }

  /** Drops and returns the confirmations whose window has passed, so their previews can say so. */
  expireDue(): PendingConfirmation[] {
    const now = this.clock.now();
    const expired = [...this.pending.values()].filter((confirmation) => now > confirmation.expiresAt);
    for (const confirmation of expired) this.close(confirmation, "expired");
    return expired;
  }

  private close(confirmation: PendingConfirmation, why: "confirmed" | "expired"): void {
    this.pending.delete(confirmation.id);
    this.closed.set(confirmation.id, { confirmation, why });
  }
}
