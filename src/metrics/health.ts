import type { Clock } from "../util/clock.js";

export interface HealthVerdict {
  readonly healthy: boolean;
  /** Short and free of ids or content: it is served to whoever can reach /healthz. */
  readonly reason: string;
}

/** Both signals must be this fresh. A sync long-poll lasts 30 s, and an idle Warden probes the admin API every 30 s. */
export const DEFAULT_FRESH_FOR_MS = 120_000;

/**
 * What /healthz answers: healthy when the last sync and the last admin call both succeeded,
 * recently. Fed by the bot client (syncs) and the admin client's request hook.
 */
export class HealthState {
  private lastSyncAt: number | undefined;
  private lastAdmin: { readonly at: number; readonly ok: boolean } | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly freshForMs = DEFAULT_FRESH_FOR_MS,
  ) {}

  syncSucceeded(): void {
    this.lastSyncAt = this.clock.now();
  }

  adminCallEnded(ok: boolean): void {
    this.lastAdmin = { at: this.clock.now(), ok };
  }

  /** When the last admin call happened, so an idle Warden knows to probe. */
  lastAdminCallAt(): number | undefined {
    return this.lastAdmin?.at;
  }

  verdict(): HealthVerdict {
    const now = this.clock.now();
    if (this.lastSyncAt === undefined) return { healthy: false, reason: "no sync has succeeded yet" };
    if (now - this.lastSyncAt > this.freshForMs) return { healthy: false, reason: `no successful sync for ${Math.round((now - this.lastSyncAt) / 1000)} s` };
    if (this.lastAdmin === undefined) return { healthy: false, reason: "no admin call has been made yet" };
    if (!this.lastAdmin.ok) return { healthy: false, reason: "the last admin call failed" };
    if (now - this.lastAdmin.at > this.freshForMs) return { healthy: false, reason: `no admin call for ${Math.round((now - this.lastAdmin.at) / 1000)} s` };
    return { healthy: true, reason: "ok" };
  }
}

/**
 * Keeps "the last admin call" meaningful while Warden is idle: when no admin call was made for
 * `everyMs`, asks the homeserver something harmless. The answer reaches HealthState through
 * the admin client's request hook like any other call.
 */
export function startAdminProbe(health: Pick<HealthState, "lastAdminCallAt">, probe: () => Promise<unknown>, clock: Clock, everyMs = 30_000): () => void {
  const timer = setInterval(() => {
    const last = health.lastAdminCallAt();
    if (last === undefined || clock.now() - last >= everyMs) void probe();
  }, everyMs / 2);
  timer.unref();
  return () => {
    clearInterval(timer);
  };
}
