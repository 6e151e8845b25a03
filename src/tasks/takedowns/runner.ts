import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import { currentStep, isFinished, TAKEDOWN_STEPS, type TakedownRecord, type TakedownStep, type TakedownUser } from "../../model/takedowns.js";
import type { TakedownStore } from "../../store/takedowns.js";
import type { Clock } from "../../util/clock.js";
import { Alarm, REAL_TIMERS, type Timers } from "../alarm.js";
import type { TaskRecord } from "../types.js";
import { deactivateStep, mediaStep, redactStep, restrictStep, roomsStep, type StepAdvance, type StepDependencies } from "./steps.js";

/** Tells the management room about takedowns: one board edited as the steps move, one final message. */
export interface TakedownNotifier {
  /** Posts the board, replying to the command; resolves to its event id. */
  posted(record: TakedownRecord): Promise<string | undefined>;
  moved(record: TakedownRecord): Promise<void>;
  /** The final message, mentioning the requester, and the audit record. True when done with it (delivered, or given up for good). */
  finished(record: TakedownRecord): Promise<boolean>;
}

export interface TakedownRunnerOptions {
  /** While a step waits for a job or a wave, it is looked at this often (the tracker's end wakes it at once as well). */
  readonly followEveryMs: number;
  /** A step told "not now" (rate-limited, the homeserver down) is tried again after this long, doubling. */
  readonly laterMs: number;
  /** "Not now" this many times in a row: the step fails with the last reason. */
  readonly laterTries: number;
  /** The board is edited at most this often. */
  readonly boardEveryMs: number;
  /** A final message that could not be sent is tried again after this long. */
  readonly finalRetryMs: number;
}

export const DEFAULT_TAKEDOWN_OPTIONS: TakedownRunnerOptions = {
  followEveryMs: 1_000,
  laterMs: 5_000,
  laterTries: 6,
  boardEveryMs: 2_000,
  finalRetryMs: 30_000,
};

/** Is this task a takedown's (its messages are the takedown's board, not its own)? */
export function isTakedownTask(task: TaskRecord): boolean {
  return typeof task.parameters["takedownId"] === "string";
}

/**
 * Runs every takedown: each user's steps in order (src/model/takedowns.ts), each one stored as
 * running before it acts and with its outcome after, so that after a crash a takedown resumes at
 * the step it was in and never repeats a finished one. A step that starts a job (the redaction)
 * or a wave (the rooms) waits for it through the one tracker and the wave engine; the direct
 * calls (suspend, quarantine, deactivate) are harmless to repeat when a crash came between the
 * call and its record. Users move independently: one user's slow redaction holds back nobody else.
 */
export class TakedownRunner {
  private readonly alarm: Alarm;
  private running = false;
  private again = false;
  private stopped = false;
  /** Passes running (at most one, and one woken meanwhile). */
  private readonly working = new Set<Promise<void>>();
  /** Board edits and final messages being sent, outside the passes: a slow send holds back no step. */
  private readonly sending = new Set<Promise<void>>();
  /** Takedowns whose final message is being sent now. */
  private readonly finalsSending = new Set<string>();
  /** "Not now" answers in a row, by takedown, user and step, and when to try again. */
  private readonly later = new Map<string, { tries: number; at: number }>();
  private readonly boards = new Map<string, { lastAt: number; dirty: boolean }>();
  private readonly finals = new Map<string, number>();

  constructor(
    private readonly store: TakedownStore,
    private readonly steps: StepDependencies,
    private readonly notifier: TakedownNotifier,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: TakedownRunnerOptions = DEFAULT_TAKEDOWN_OPTIONS,
    timers: Timers = REAL_TIMERS,
  ) {
    this.alarm = new Alarm(timers, clock, () => {
      this.wake();
    });
  }

  /** Records the takedown, posts its board, and starts its first steps; resolves once recorded and posted. */
  async start(record: TakedownRecord): Promise<TakedownRecord> {
    await this.store.save(record);
    this.log.info({ takedownId: record.id, users: record.users.map((user) => user.userId), options: record.options }, "takedown started");
    const boardEventId = await this.notifier.posted(record);
    // A pass may have moved the takedown while the board was posted: the board's id joins what is stored now, never the record as it was.
    const current = this.store.get(record.id) ?? record;
    const posted = boardEventId === undefined ? current : { ...current, boardEventId };
    if (boardEventId !== undefined) await this.store.save(posted);
    this.boards.set(record.id, { lastAt: this.clock.now(), dirty: false });
    this.wake();
    return posted;
  }

  /** Picks up every takedown an earlier run left unfinished. */
  resumeAll(): void {
    for (const record of this.store.unfinished()) this.log.info({ takedownId: record.id }, "resuming takedown");
    this.wake();
  }

  /** A task ended: a takedown waiting for it moves on now, not at its next look. */
  taskEnded(task: TaskRecord): Promise<void> {
    if (isTakedownTask(task)) this.wake();
    return Promise.resolve();
  }

  view(id: string): TakedownRecord | undefined {
    return this.store.get(id);
  }

  /** Resolves once no pass runs (one woken meanwhile included). */
  async idle(): Promise<void> {
    while (this.working.size > 0) await Promise.allSettled([...this.working]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.alarm.clear();
    await Promise.allSettled([...this.working, ...this.sending]);
  }

  /** Resolves once no board edit or final message is being sent (for tests and the benchmarks). */
  async sent(): Promise<void> {
    while (this.sending.size > 0) await Promise.allSettled([...this.sending]);
  }

  private background(work: () => Promise<void>): void {
    const sending = work()
      .catch((error: unknown) => {
        this.log.error({ err: error }, "a takedown message could not be sent or recorded; will try again");
      })
      .finally(() => this.sending.delete(sending));
    this.sending.add(sending);
  }

  /** Runs a pass now, or right after the one running. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    const pass = this.pass().finally(() => this.working.delete(pass));
    this.working.add(pass);
  }

  private async pass(): Promise<void> {
    this.running = true;
    try {
      do {
        this.again = false;
        let next = Number.POSITIVE_INFINITY;
        for (const record of this.store.unfinished()) {
          if (this.stopped) return;
          next = Math.min(next, await this.advance(record));
        }
        if (next !== Number.POSITIVE_INFINITY) this.alarm.setFor(next);
      } while (this.wokenDuringPass());
    } catch (error) {
      // A store that cannot be written stops the pass; the takedown is resumed from what was stored.
      this.log.error({ err: error }, "a takedown pass failed; will look again");
      this.alarm.setFor(this.clock.now() + this.options.laterMs);
    } finally {
      this.running = false;
    }
  }

  /** Whether something woke the runner while a pass ran (set from outside the pass, between its awaits). */
  private wokenDuringPass(): boolean {
    return this.again && !this.stopped;
  }

  /** Moves one takedown as far as it can go now; returns when to look at it again. */
  private async advance(initial: TakedownRecord): Promise<number> {
    let record = initial;
    let next = Number.POSITIVE_INFINITY;
    if (record.status === "running") {
      const users = await Promise.all(record.users.map((user) => this.advanceUser(record, user)));
      record = this.store.get(record.id) ?? record;
      for (const at of users) next = Math.min(next, at);
      if (record.users.every(isFinished)) {
        record = { ...record, status: "finished", finishedAt: this.clock.now() };
        await this.store.save(record);
        this.log.info({ takedownId: record.id }, "takedown finished");
      } else {
        next = Math.min(next, this.editBoard(record));
      }
    }
    if (record.status === "finished" && !record.finalNotificationSent) next = Math.min(next, this.sendFinal(record));
    return next;
  }

  /** Runs the user's steps in order until one waits; returns when to look again. */
  private async advanceUser(record: TakedownRecord, initial: TakedownUser): Promise<number> {
    let user = initial;
    for (;;) {
      const step = currentStep(user);
      if (step === undefined) return Number.POSITIVE_INFINITY;
      const key = `${record.id} ${user.userId} ${step.name}`;
      const later = this.later.get(key);
      if (later !== undefined && later.at > this.clock.now()) return later.at;
      // The send id is stored before the step acts: a job it starts carries it, so a restart finds that job instead of starting another.
      if (step.state === "pending") {
        user = await this.saveStep(record.id, user.userId, { ...step, state: "running", startedAt: this.clock.now(), sendId: `${record.id}-${randomBytes(4).toString("hex")}` });
      }
      const running = currentStep(user) ?? step;
      let advance: StepAdvance;
      try {
        advance = await this.runStep(this.store.get(record.id) ?? record, user, running);
      } catch (error) {
        this.log.error({ err: error, takedownId: record.id, userId: user.userId, step: step.name }, "a takedown step threw; will try again");
        advance = { kind: "later", reason: error instanceof Error ? error.message : String(error) };
      }
      if (advance.kind === "waiting") {
        this.later.delete(key);
        const follows = advance.step;
        if (follows.taskId !== running.taskId || follows.waveId !== running.waveId) {
          await this.saveStep(record.id, user.userId, { ...running, ...follows });
        }
        return this.clock.now() + this.options.followEveryMs;
      }
      if (advance.kind === "later") {
        const tries = (later?.tries ?? 0) + 1;
        if (tries < this.options.laterTries) {
          const at = this.clock.now() + this.options.laterMs * 2 ** (tries - 1);
          this.later.set(key, { tries, at });
          this.log.warn({ takedownId: record.id, userId: user.userId, step: step.name, reason: advance.reason, tries }, "takedown step put off");
          return at;
        }
        advance = { kind: "ended", state: "failed", detail: advance.reason };
      }
      this.later.delete(key);
      this.log.info({ takedownId: record.id, userId: user.userId, step: step.name, state: advance.state, detail: advance.detail }, "takedown step ended");
      user = await this.saveStep(record.id, user.userId, {
        ...running,
        state: advance.state,
        detail: advance.detail,
        ...(advance.count === undefined ? {} : { count: advance.count }),
        finishedAt: this.clock.now(),
      });
    }
  }

  private runStep(record: TakedownRecord, user: TakedownUser, step: TakedownStep): Promise<StepAdvance> {
    const dependencies = this.steps;
    switch (step.name) {
      case "restrict":
        return restrictStep(user, dependencies);
      case "media":
        return mediaStep(record, user, dependencies);
      case "redact":
        return redactStep(record, user, step, dependencies);
      case "rooms":
        return roomsStep(record, user, step, dependencies);
      case "deactivate":
        return deactivateStep(record, user, dependencies);
    }
  }

  /** Replaces one step of one user and stores the whole takedown before going on; marks the board for an edit. */
  private async saveStep(takedownId: string, userId: string, step: TakedownStep): Promise<TakedownUser> {
    const record = this.store.get(takedownId);
    if (record === undefined) throw new Error(`takedown ${takedownId} is not in the store`);
    const users = record.users.map((user) =>
      user.userId === userId ? { ...user, steps: user.steps.map((existing) => (existing.name === step.name ? step : existing)) } : user,
    );
    await this.store.save({ ...record, users });
    const board = this.boards.get(takedownId);
    this.boards.set(takedownId, { lastAt: board?.lastAt ?? 0, dirty: true });
    const user = users.find((candidate) => candidate.userId === userId);
    if (user === undefined) throw new Error(`user ${userId} is not in takedown ${takedownId}`);
    return user;
  }

  /** Edits the board when something changed and the last edit is old enough; returns when to edit next. */
  private editBoard(record: TakedownRecord): number {
    const board = this.boards.get(record.id) ?? { lastAt: 0, dirty: true };
    if (!board.dirty) return Number.POSITIVE_INFINITY;
    const due = board.lastAt + this.options.boardEveryMs;
    if (due > this.clock.now()) return due;
    this.boards.set(record.id, { lastAt: this.clock.now(), dirty: false });
    this.background(() => this.notifier.moved(record));
    return Number.POSITIVE_INFINITY;
  }

  /** Starts the final message unless it is being sent or waits for its next try; returns when to look again. */
  private sendFinal(record: TakedownRecord): number {
    const due = this.finals.get(record.id) ?? 0;
    if (due > this.clock.now()) return due;
    if (this.finalsSending.has(record.id)) return Number.POSITIVE_INFINITY;
    this.finalsSending.add(record.id);
    this.background(async () => {
      try {
        const done = await this.notifier.finished(record);
        if (!done) {
          const at = this.clock.now() + this.options.finalRetryMs;
          this.finals.set(record.id, at);
          this.alarm.setFor(at);
          return;
        }
        this.finals.delete(record.id);
        this.boards.delete(record.id);
        await this.store.save({ ...(this.store.get(record.id) ?? record), finalNotificationSent: true });
      } finally {
        this.finalsSending.delete(record.id);
      }
    });
    return Number.POSITIVE_INFINITY;
  }
}

/** Every step a takedown's user starts with: pending, except those the plan already knows will not run. */
export function initialSteps(skips: Partial<Record<TakedownStep["name"], string>>): TakedownStep[] {
  return TAKEDOWN_STEPS.map((name) => {
    const why = skips[name];
    return why === undefined ? { name, state: "pending" } : { name, state: "skipped", detail: why };
  });
}

