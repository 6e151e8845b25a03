import { vi } from "vitest";

/** Real time a test may spend waiting for its condition before it is declared stuck. */
const REAL_DEADLINE_MS = 5_000;

/**
 * Fakes only timers and Date: the task store writes real files, so setImmediate and the
 * event loop stay real and disk I/O completes on its own.
 */
export function useFakeClock(start: number): void {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: start });
}

function realTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs the fake world until `condition` holds. Time jumps to the next timer only when
 * nothing else is pending (no timer means a step is still waiting on the disk, so the real
 * event loop gets a turn instead), which is how the tracker would experience real time.
 */
export async function runUntil(condition: () => boolean, maxFakeMs = 24 * 3600_000): Promise<void> {
  const fakeLimit = Date.now() + maxFakeMs;
  const realDeadline = performance.now() + REAL_DEADLINE_MS;
  while (!condition()) {
    if (performance.now() > realDeadline) throw new Error("condition not reached: nothing left to run");
    if (vi.getTimerCount() > 0) {
      if (Date.now() >= fakeLimit) throw new Error(`condition not reached within ${maxFakeMs} ms of fake time`);
      await vi.advanceTimersToNextTimerAsync();
    } else {
      await realTurn();
    }
  }
}
