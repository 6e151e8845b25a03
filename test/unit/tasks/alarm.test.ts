import { describe, expect, it } from "vitest";
import { Alarm, LONGEST_WAIT_MS, type Timers } from "../../../src/tasks/alarm.js";

/** Timers that only record what was asked, and fire when the test says. */
class RecordedTimers implements Timers {
  readonly set: { callback: () => void; delayMs: number; cleared: boolean }[] = [];

  setTimeout(callback: () => void, delayMs: number): unknown {
    const timer = { callback, delayMs, cleared: false };
    this.set.push(timer);
    return timer;
  }

  clearTimeout(handle: unknown): void {
    const timer = this.set.find((candidate) => candidate === handle);
    if (timer !== undefined) timer.cleared = true;
  }
}

describe("alarm", () => {
  it("keep the earliest wake-up: a later one changes nothing, an earlier one replaces it", () => {
    const timers = new RecordedTimers();
    let now = 1_000;
    const alarm = new Alarm(timers, { now: () => now }, () => undefined);

    alarm.setFor(6_000);
    alarm.setFor(9_000);
    alarm.setFor(3_000);

    expect(timers.set.map((timer) => [timer.delayMs, timer.cleared])).toEqual([
      [5_000, true],
      [2_000, false],
    ]);
    now = 2_000;
    alarm.setFor(1_500);
    expect(timers.set.at(-1)?.delayMs).toBe(0);
  });

  it("never set a timer longer than an hour, so a 90-day cooldown does not fire at once in Node", () => {
    const timers = new RecordedTimers();
    const alarm = new Alarm(timers, { now: () => 0 }, () => undefined);

    alarm.setFor(90 * 86_400_000);

    expect(timers.set[0]?.delayMs).toBe(LONGEST_WAIT_MS);
  });

  it("ring once when the timer fires, and can be set again afterwards", () => {
    const timers = new RecordedTimers();
    let rings = 0;
    const alarm = new Alarm(timers, { now: () => 0 }, () => {
      rings++;
    });
    alarm.setFor(10);
    timers.set[0]?.callback();
    alarm.setFor(20);

    expect(rings).toBe(1);
    expect(timers.set).toHaveLength(2);
    alarm.clear();
    expect(timers.set[1]?.cleared).toBe(true);
  });
});
