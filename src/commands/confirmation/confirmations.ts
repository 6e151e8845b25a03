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
  /** Set through ConfirmationBook.attachPreview, which also indexes it for ✅ reactions. */
  previewEventId?: string;
}

/**
 * Closed confirmations remembered so a late !confirm or ✅ gets the right answer ("expired",
 * "already confirmed"); older ones are forgotten (then "unknown"), so memory stays bounded.
 */
export const CLOSED_REMEMBERED = 200;

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
  /** Preview event id → confirmation id, for pending and remembered closed ones: a ✅ is one look-up. */
  private readonly byPreview = new Map<string, string>();

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

  /** Records the event that shows this confirmation's preview, so a ✅ on it finds it. */
  attachPreview(confirmation: PendingConfirmation, eventId: string): void {
    confirmation.previewEventId = eventId;
    this.byPreview.set(eventId, confirmation.id);
  }

  /** Forgets a confirmation whose preview could not be posted: nobody can see its id to confirm it. */
  cancel(confirmation: PendingConfirmation): void {
    this.pending.delete(confirmation.id);
    if (confirmation.previewEventId !== undefined) this.byPreview.delete(confirmation.previewEventId);
  }

  byPreviewEvent(eventId: string): PendingConfirmation | undefined {
    const id = this.byPreview.get(eventId);
    if (id === undefined) return undefined;
    return this.pending.get(id) ?? this.closed.get(id)?.confirmation;
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
    // A Map iterates in insertion order: the first keys are the longest closed.
    for (const [id, { confirmation: oldest }] of this.closed) {
      if (this.closed.size <= CLOSED_REMEMBERED) break;
      this.closed.delete(id);
      if (oldest.previewEventId !== undefined) this.byPreview.delete(oldest.previewEventId);
    }
  }
}
