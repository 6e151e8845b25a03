import type { Clock } from "../../util/clock.js";
import { ok, type Result } from "../../util/result.js";

/**
 * How long a preview's plan is kept for its confirmation: longer than the longest confirmWindow
 * (the config allows up to 24 h), so a confirmation in time never finds it gone.
 */
export const KEEP_PLAN_MS = 25 * 3_600_000;

/**
 * What a command's preview worked out before anything ran — the rooms a wave acts on, a retention
 * run's rooms and cut-off — kept by the command's event ID, so that the confirmed run acts on
 * exactly what the moderator was shown, even if the homeserver's rooms or the clock moved in
 * between. A run without a preview (--yes) works it out once, when it runs. A failure is not
 * kept: the next try works it out again.
 */
export class KeptPlans<T> {
  private readonly plans = new Map<string, { readonly at: number; readonly plan: T }>();

  constructor(private readonly clock: Clock) {}

  /** The command's kept plan, or a new one from `compute`, kept for its run. */
  async plan<E>(commandEventId: string, compute: () => Promise<Result<T, E>>): Promise<Result<T, E>> {
    this.forgetExpired();
    const kept = this.plans.get(commandEventId);
    if (kept !== undefined) return ok(kept.plan);
    const computed = await compute();
    // Kept from when it was made: a confirmation window opens once the preview is shown.
    if (computed.ok) this.plans.set(commandEventId, { at: this.clock.now(), plan: computed.value });
    return computed;
  }

  /** As `plan`, for the run: it needs the plan once, so it is forgotten afterwards. */
  async take<E>(commandEventId: string, compute: () => Promise<Result<T, E>>): Promise<Result<T, E>> {
    const planned = await this.plan(commandEventId, compute);
    this.plans.delete(commandEventId);
    return planned;
  }

  /** Plans kept now (for tests of forgetting). */
  size(): number {
    return this.plans.size;
  }

  private forgetExpired(): void {
    const now = this.clock.now();
    for (const [key, kept] of this.plans) if (now - kept.at > KEEP_PLAN_MS) this.plans.delete(key);
  }
}
