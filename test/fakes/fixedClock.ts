import type { Clock } from "../../src/util/clock.js";

/** 2025-01-15T12:00:00Z: a fixed "now" so parsed ages and ages of events are exact. */
export const FIXED_NOW = Date.UTC(2025, 0, 15, 12, 0, 0);

export class FixedClock implements Clock {
  constructor(private current: number = FIXED_NOW) {}

  now(): number {
    return this.current;
  }

  set(time: number): void {
    this.current = time;
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
}
