import type { RetentionPolicy } from "../model/retention.js";

/**
 * When a retention policy runs. Pure functions of the policy and the time, so the scheduler and
 * its tests agree on the rules:
 *
 * - With `at`, runs fall on a grid: that UTC time of day, and steps of `every` from it when
 *   `every` divides a day (the config refuses any other interval under a day). With a whole
 *   number of days, each day's `at` is on the grid and runs are `every` apart.
 * - A policy seen for the first time runs at the grid's next slot (with `at`) or one `every`
 *   after Warden starts (without): a new policy never purges the moment Warden starts;
 *   `!retention run` is there for that.
 * - After a run (or a run skipped), the next one is one `every` after its slot. A slot missed
 *   while Warden was down is run once when Warden starts, never once per missed slot; then the
 *   grid (with `at`) or a full `every` from that run (without) gives the next.
 */

const DAY_MS = 86_400_000;

function timeOfDayMs(at: string): number {
  const [hours = 0, minutes = 0] = at.split(":").map(Number);
  return (hours * 60 + minutes) * 60_000;
}

/** The first slot of the policy's grid at or after `time`. */
export function alignUp(time: number, at: string, everyMs: number): number {
  // Stryker disable next-line EqualityOperator: equivalent — with an every of exactly a day both sides are a day
  const step = everyMs < DAY_MS ? everyMs : DAY_MS;
  // `step` divides a day, so midnight is on every step's grid and the offset alone places it.
  const offset = timeOfDayMs(at) % step;
  return offset + Math.ceil((time - offset) / step) * step;
}

/** The first run of a policy Warden has no stored schedule for. */
export function firstRun(policy: Pick<RetentionPolicy, "at" | "everyMs">, now: number): number {
  return policy.at === undefined ? now + policy.everyMs : alignUp(now, policy.at, policy.everyMs);
}

/** The run after the one due at `slot`, taken (or skipped) at `now`. Always later than `now`. */
export function nextAfter(policy: Pick<RetentionPolicy, "at" | "everyMs">, slot: number, now: number): number {
  const next = slot + policy.everyMs;
  if (policy.at === undefined) return next > now ? next : now + policy.everyMs;
  // Stryker disable next-line ConditionalExpression: equivalent — callers pass a slot that is due (slot <= now), so next - now is at most one every and the formula gives 0 too
  const steps = next > now ? 0 : Math.floor((now - next) / policy.everyMs) + 1;
  return alignUp(next + steps * policy.everyMs, policy.at, policy.everyMs);
}

/**
 * The stored next run, checked against the policy as configured now. A stored time further
 * away than one `every` cannot come from these rules: `every` was shortened since, so the
 * schedule starts afresh. With `at`, a stored time off the grid (`at` changed) moves to the
 * grid's next slot. A stored time in the past stays: the run is due at once.
 */
export function reconcile(policy: Pick<RetentionPolicy, "at" | "everyMs">, stored: number | undefined, now: number): number {
  if (stored === undefined) return firstRun(policy, now);
  const aligned = policy.at === undefined ? stored : alignUp(stored, policy.at, policy.everyMs);
  return aligned > now + policy.everyMs ? firstRun(policy, now) : aligned;
}
