import type { Clock } from "../util/clock.js";

/** Timers, injected so tests and the benchmarks can run the loops on a fake clock. */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const REAL_TIMERS: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/**
 * The longest a timer is set for. Node fires a setTimeout longer than about 24.8 days after 1 ms
 * instead, which would spin a loop waiting for a 90-day cooldown; ringing early is harmless (the
 * loop looks, finds nothing due, and sets the alarm again).
 */
export const LONGEST_WAIT_MS = 3_600_000;

/**
 * One pending wake-up for a loop (the tracker's ticks, the wave engine's steps): asking for an
 * earlier time moves it, asking for a later one changes nothing, so many reasons to look again
 * never pile up as many timers.
 */
export class Alarm {
  private timer: { readonly handle: unknown; readonly at: number } | undefined;

  constructor(
    private readonly timers: Timers,
    private readonly clock: Clock,
    private readonly ring: () => void,
  ) {}

  /** Rings at `at` (now, if it is past), unless it already rings no later. */
  setFor(at: number): void {
    if (this.timer !== undefined && this.timer.at <= at) return;
    this.clear();
    const delay = Math.min(LONGEST_WAIT_MS, Math.max(0, Math.ceil(at - this.clock.now())));
    const handle = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.ring();
    }, delay);
    this.timer = { handle, at: this.clock.now() + delay };
  }

  clear(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer.handle);
    this.timer = undefined;
  }
}
