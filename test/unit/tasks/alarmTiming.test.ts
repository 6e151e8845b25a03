import { describe, expect, it } from "vitest";
import { Alarm, REAL_TIMERS, type Timers } from "../../../src/tasks/alarm.js";

/** Timers that only record: each pending timeout with its delay, and which were cleared. */
class RecordingTimers implements Timers {
  readonly set: { readonly handle: number; readonly delayMs: number; readonly callback: () => void }[] = [];
  readonly cleared: unknown[] = [];
  private next = 1;

  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.next++;
    this.set.push({ handle, delayMs, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.cleared.push(handle);
  }

  fire(handle: number): void {
    const timer = this.set.find((entry) => entry.handle === handle);
    if (timer === undefined) throw new Error(`no timer ${handle}`);
    timer.callback();
  }
}

function harness(now = 1_000) {
  const timers = new RecordingTimers();
  const clock = { time: now, now(): number { return this.time; } };
  let rings = 0;
  const alarm = new Alarm(timers, clock, () => {
    rings++;
  });
  return { timers, clock, alarm, rings: () => rings };
}

describe("Alarm", () => {
  it("waits from now until the time asked, rounded up to a whole millisecond", () => {
    const { timers, alarm } = harness(1_000);
    alarm.setFor(1_250.2);
    expect(timers.set.map((timer) => timer.delayMs)).toEqual([251]);
  });

  it("rings at once for a time already past", () => {
    const { timers, alarm } = harness(1_000);
    alarm.setFor(400);
    expect(timers.set.map((timer) => timer.delayMs)).toEqual([0]);
  });

  it("keeps its time when asked for a later or the same one", () => {
    const { timers, alarm } = harness(1_000);
    alarm.setFor(1_500);
    alarm.setFor(2_000);
    alarm.setFor(1_500);
    expect(timers.set.map((timer) => timer.delayMs)).toEqual([500]);
    expect(timers.cleared).toEqual([]);
  });

  it("moves to an earlier time, cancelling the later wake-up", () => {
    const { timers, alarm } = harness(1_000);
    alarm.setFor(1_500);
    alarm.setFor(1_200);
    expect(timers.set.map((timer) => timer.delayMs)).toEqual([500, 200]);
    expect(timers.cleared).toEqual([1]);
  });

  it("counts a past time as now: asking for now again keeps the timer, a time before now moves it", () => {
    const { timers, alarm } = harness(1_000);
    alarm.setFor(500);
    alarm.setFor(1_000);
    expect(timers.set).toHaveLength(1);
    alarm.setFor(999);
    expect(timers.set.map((timer) => timer.delayMs)).toEqual([0, 0]);
  });

  it("rings, and afterwards takes a new time of any kind", () => {
    const { timers, alarm, rings } = harness(1_000);
    alarm.setFor(1_100);
    timers.fire(1);
    expect(rings()).toBe(1);
    alarm.setFor(5_000);
    expect(timers.set.map((timer) => timer.delayMs)).toEqual([100, 4_000]);
    expect(timers.cleared).toEqual([]);
  });

  it("clear cancels the pending timer once, and a later time is then set afresh", () => {
    const { timers, alarm } = harness(1_000);
    alarm.setFor(1_100);
    alarm.clear();
    alarm.clear();
    expect(timers.cleared).toEqual([1]);
    alarm.setFor(3_000);
    expect(timers.set.map((timer) => timer.delayMs)).toEqual([100, 2_000]);
  });
});

describe("REAL_TIMERS", () => {
  it("runs a callback after its delay", async () => {
    const fired = await new Promise<boolean>((resolve) => {
      REAL_TIMERS.setTimeout(() => {
        resolve(true);
      }, 1);
    });
    expect(fired).toBe(true);
  });

  it("cancels a callback that was cleared", async () => {
    let fired = false;
    const handle = REAL_TIMERS.setTimeout(() => {
      fired = true;
    }, 1);
    REAL_TIMERS.clearTimeout(handle);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(false);
  });
});
