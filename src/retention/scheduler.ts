import type { Logger } from "pino";
import { asRoomAlias, asRoomId } from "../matrix/ids.js";
import { scheduledRunId, type RetentionLastRun, type RetentionMiss, type RetentionPolicy, type RetentionPolicyState, type RetentionSelection } from "../model/retention.js";
import { countRooms, type LeftOutRoom, type RoomReference, type RoomSelector, type SelectedRoom, type SelectionRequest, type WaveControl, type WaveRecord, type WaveSelection } from "../model/waves.js";
import type { Timers } from "../tasks/alarm.js";
import type { Clock } from "../util/clock.js";
import { formatUtc } from "../util/duration.js";
import { err, ok, type Result } from "../util/result.js";
import { nextAfter, reconcile } from "./schedule.js";
import type { RetentionStateRow, RetentionStateStore } from "./stateStore.js";

/**
 * The scheduler wakes at least this often, whatever the next run: setTimeout cannot wait longer
 * than about 24.8 days, and a wall clock set forward (or back) is noticed within the hour.
 */
const MAX_SLEEP_MS = 3_600_000;

/** What a run would act on now: the rooms, those left out and why, and the purge point. */
export interface RetentionPlan {
  readonly policy: RetentionPolicy;
  /** History before this goes (epoch ms): now minus the policy's keep. */
  readonly cutoffTs: number;
  readonly rooms: readonly SelectedRoom[];
  readonly leftOut: readonly LeftOutRoom[];
}

/** What the !retention command may do; RetentionScheduler is the one implementation. */
export interface RetentionControl {
  policies(): readonly RetentionPolicy[];
  states(): readonly RetentionPolicyState[];
  /** The rooms a run would act on now, for a preview or a dry run. Err: the selection failed (the reason, for the moderator). */
  plan(name: string): Promise<Result<RetentionPlan, string>>;
  /**
   * Starts a run of `planned` now — the rooms and cut-off its preview showed — outside the schedule
   * (which it does not move). Err: why no wave started.
   */
  runNow(planned: RetentionPlan, requester: string, commandEventId: string): Promise<Result<WaveRecord, string>>;
  pause(name: string): Promise<Result<RetentionPolicyState, string>>;
  resume(name: string): Promise<Result<RetentionPolicyState, string>>;
}

export interface RetentionSchedulerOptions {
  readonly policies: readonly RetentionPolicy[];
  readonly store: RetentionStateStore;
  readonly selector: RoomSelector;
  readonly waves: WaveControl;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly log: Logger;
  readonly managementRoomId: string;
  /** Warden's own user ID: the requester of every scheduled run. */
  readonly selfUserId: string;
}

interface PolicyState {
  row: RetentionStateRow;
  lastMiss?: RetentionMiss;
  /** A run of this policy is being selected or started: a second one waits for the next slot. */
  starting: boolean;
}

/**
 * Runs each retention policy of the config on its schedule (see schedule.ts for the rules): at
 * each due slot it selects the policy's rooms and starts a purge wave through WaveControl, as a
 * moderator's wave would, with the same board, pacing and summary. A slot is skipped, not
 * delayed, while the policy is paused or its previous wave still runs. The next run is stored
 * with each change, so a restart neither skips nor repeats one.
 */
export class RetentionScheduler implements RetentionControl {
  private readonly policyStates = new Map<string, PolicyState>();
  private timer: unknown;
  private stopped = true;
  private tick: Promise<void> = Promise.resolve();

  /** Reads the stored state at once, so !retention answers even before `start`. */
  constructor(private readonly options: RetentionSchedulerOptions) {
    const stored = new Map(options.store.all().map((row) => [row.policy, row]));
    for (const policy of options.policies) {
      this.policyStates.set(policy.name, { row: stored.get(policy.name) ?? { policy: policy.name, paused: false }, starting: false });
    }
  }

  policies(): readonly RetentionPolicy[] {
    return this.options.policies;
  }

  /**
   * Settles each policy's next run against the config as it is now, stores what changed, arms
   * the timer, and starts checking the policies (checkAtStart) without waiting for the check:
   * it selects every policy's rooms, which on a big server or a slow homeserver takes long, and
   * Warden handles commands meanwhile. Its problems are logged as warnings when it ends. A store
   * failure here is logged, not fatal: the schedule then lives in memory until a later write
   * succeeds.
   */
  async start(): Promise<void> {
    const now = this.options.clock.now();
    for (const policy of this.options.policies) {
      const state = this.policyStates.get(policy.name);
      if (state === undefined) continue;
      const before = state.row;
      const after = this.adoptLostRun(policy, { ...before, nextRunAt: reconcile(policy, before.nextRunAt, now) }, now);
      // Only what changed is written. Start changes the next run, and with a lost run adopted
      // the last run as well, but never the last run alone (the adopted run's next one is later).
      if (after.nextRunAt !== before.nextRunAt) await this.save(state, after, "could not store a retention policy's schedule");
      this.options.log.info({ policy: policy.name, nextRunAt: after.nextRunAt, paused: after.paused }, "retention policy scheduled");
    }
    this.stopped = false;
    this.arm();
    void this.warnAtStart();
  }

  private async warnAtStart(): Promise<void> {
    try {
      for (const problem of await this.checkAtStart()) this.options.log.warn({ problem }, "retention policy");
    } catch (error) {
      // A bug, not an expected failure (a selection that fails is a problem in the list).
      this.options.log.error({ err: error }, "retention policies could not be checked at start");
    }
  }

  /** Stops the timer and waits for a run being started to be recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.tick;
  }

  /**
   * Problems worth a warning at start: a policy whose selection cannot be made, or that selects
   * no room today. Not fatal: `matching` or a space may select rooms tomorrow, and a run that
   * selects nothing only starts no wave.
   */
  async checkAtStart(): Promise<readonly string[]> {
    const problems: string[] = [];
    for (const [index, policy] of this.options.policies.entries()) {
      const plan = await this.plan(policy.name);
      const key = `retention[${index}] (${policy.name})`;
      if (!plan.ok) problems.push(`${key}: the rooms could not be selected: ${plan.error}`);
      else if (plan.value.rooms.length === 0) problems.push(`${key}: selects no room today${leftOutText(plan.value.leftOut)}; its runs start no wave until it does`);
    }
    return problems;
  }

  states(): readonly RetentionPolicyState[] {
    return this.options.policies.map((policy) => this.stateOf(policy));
  }

  async plan(name: string): Promise<Result<RetentionPlan, string>> {
    const policy = this.policy(name);
    if (policy === undefined) return err(unknownPolicy(name, this.options.policies));
    const cutoffTs = this.options.clock.now() - policy.keepMs;
    const selected = await this.options.selector.select(selectionRequest(policy));
    if (!selected.ok) return selected;
    return ok({ policy, cutoffTs, rooms: selected.value.rooms, leftOut: selected.value.leftOut });
  }

  async runNow(planned: RetentionPlan, requester: string, commandEventId: string): Promise<Result<WaveRecord, string>> {
    const { name } = planned.policy;
    const state = this.policyStates.get(name);
    const policy = this.policy(name);
    if (state === undefined || policy === undefined) return err(unknownPolicy(name, this.options.policies));
    // A moderator's explicit run goes ahead while the policy is paused: pausing stops the schedule only.
    const started = await this.startRun(policy, state, requester, commandEventId, () => Promise.resolve(ok(planned)));
    if (started.ok) await this.save(state, { ...state.row, lastWaveId: started.value.id, lastStartedAt: started.value.createdAt }, "could not record a retention run");
    return started;
  }

  async pause(name: string): Promise<Result<RetentionPolicyState, string>> {
    return this.setPaused(name, true);
  }

  /** The next run is the stored one if it is still ahead; one that passed while paused is not run at once but rescheduled. */
  async resume(name: string): Promise<Result<RetentionPolicyState, string>> {
    return this.setPaused(name, false);
  }

  private async setPaused(name: string, paused: boolean): Promise<Result<RetentionPolicyState, string>> {
    const state = this.policyStates.get(name);
    const policy = this.policy(name);
    if (state === undefined || policy === undefined) return err(unknownPolicy(name, this.options.policies));
    const now = this.options.clock.now();
    const nextRunAt = !paused && (state.row.nextRunAt ?? 0) <= now ? reconcile(policy, undefined, now) : state.row.nextRunAt;
    // Stryker disable next-line ConditionalExpression: equivalent — an undefined nextRunAt reads as an absent one everywhere, and the store writes both as NULL
    const row: RetentionStateRow = { ...state.row, paused, ...(nextRunAt === undefined ? {} : { nextRunAt }) };
    try {
      await this.options.store.save(row);
    } catch (error) {
      return err(error instanceof Error ? error.message : String(error));
    }
    state.row = row;
    this.options.log.info({ policy: name, paused, nextRunAt }, paused ? "retention policy paused" : "retention policy resumed");
    this.arm();
    return ok(this.stateOf(policy));
  }

  private policy(name: string): RetentionPolicy | undefined {
    return this.options.policies.find((policy) => policy.name === name);
  }

  private stateOf(policy: RetentionPolicy): RetentionPolicyState {
    const state = this.policyStates.get(policy.name);
    const row = state?.row;
    const lastRun = row?.lastWaveId === undefined ? undefined : this.lastRun(row.lastWaveId, row.lastStartedAt);
    return {
      policy,
      // Stryker disable next-line BooleanLiteral: equivalent — the constructor gives every configured policy a state, so the fallback is for the type checker only
      paused: row?.paused ?? false,
      ...(row?.nextRunAt === undefined ? {} : { nextRunAt: row.nextRunAt }),
      ...(lastRun === undefined ? {} : { lastRun }),
      ...(state?.lastMiss === undefined ? {} : { lastMiss: state.lastMiss }),
    };
  }

  /** The last wave's counts; undefined when the engine no longer knows the wave. */
  private lastRun(waveId: string, startedAt: number | undefined): RetentionLastRun | undefined {
    const view = this.options.waves.view(waveId);
    if (view === undefined) return undefined;
    const counts = countRooms(view.rooms, "main", view.now);
    return {
      waveId,
      startedAt: startedAt ?? view.wave.createdAt,
      ...(view.wave.finishedAt === undefined ? {} : { finishedAt: view.wave.finishedAt }),
      purged: counts.done,
      skipped: counts.skipped,
      failed: counts.failed,
    };
  }

  /**
   * A wave of this policy created at or after the stored slot, that the state does not name: the
   * run was started and Warden stopped before it could record it. Recording it now stops the
   * slot from running twice. Only waves still active can be found this way; a lost record of a
   * wave that has already ended means one repeated run, which skips every room purged up to the
   * same point (nothing before it is left).
   */
  private adoptLostRun(policy: RetentionPolicy, row: RetentionStateRow, now: number): RetentionStateRow {
    const slot = row.nextRunAt;
    if (slot === undefined || slot > now) return row;
    const lost = this.options.waves.active().find((wave) => wave.policy === policy.name && wave.createdAt >= slot && wave.id !== row.lastWaveId);
    if (lost === undefined) return row;
    this.options.log.warn({ policy: policy.name, waveId: lost.id }, "retention run found unrecorded after a restart; not run again");
    return { ...row, lastWaveId: lost.id, lastStartedAt: lost.createdAt, nextRunAt: nextAfter(policy, slot, now) };
  }

  private arm(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer);
    const now = this.options.clock.now();
    const due = [...this.policyStates.values()].filter((state) => !state.row.paused).map((state) => state.row.nextRunAt ?? now);
    if (due.length === 0) {
      this.timer = undefined;
      return;
    }
    const delay = Math.min(Math.max(0, Math.min(...due) - now), MAX_SLEEP_MS);
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined;
      this.tick = this.tick
        .then(() => this.runDue())
        .catch((error: unknown) => {
          this.options.log.error({ err: error }, "retention scheduler tick failed");
        });
    }, delay);
  }

  private async runDue(): Promise<void> {
    for (const policy of this.options.policies) {
      if (this.stopped) return;
      const state = this.policyStates.get(policy.name);
      const now = this.options.clock.now();
      if (state === undefined || state.row.paused || (state.row.nextRunAt ?? now) > now) continue;
      try {
        await this.runScheduled(policy, state, now);
      } catch (error) {
        // A bug, not an expected failure: logged, and the schedule goes on.
        this.options.log.error({ policy: policy.name, err: error }, "retention run failed unexpectedly");
      }
    }
    this.arm();
  }

  private async runScheduled(policy: RetentionPolicy, state: PolicyState, now: number): Promise<void> {
    const slot = state.row.nextRunAt ?? now;
    // The wave's requester is Warden itself, so its summary mentions nobody: no one asked for it.
    const started = await this.startRun(policy, state, this.options.selfUserId, scheduledRunId(policy.name, now), () => this.plan(policy.name));
    const nextRunAt = nextAfter(policy, slot, this.options.clock.now());
    const row: RetentionStateRow = started.ok ? { ...state.row, nextRunAt, lastWaveId: started.value.id, lastStartedAt: started.value.createdAt } : { ...state.row, nextRunAt };
    await this.save(state, row, "could not store a retention run and the next one; after a restart it may run again");
  }

  /**
   * Starts one run of what `planned` gives (selected now for a scheduled run; what the preview
   * showed for a moderator's); a run that starts no wave is logged and kept as the policy's last miss.
   */
  private async startRun(
    policy: RetentionPolicy,
    state: PolicyState,
    requester: string,
    commandEventId: string,
    planned: () => Promise<Result<RetentionPlan, string>>,
  ): Promise<Result<WaveRecord, string>> {
    const { log, waves } = this.options;
    if (state.starting) return this.miss(policy, state, "a run of this policy is being started already");
    state.starting = true;
    try {
      const running = this.runningWave(policy);
      if (running !== undefined) return this.miss(policy, state, `its previous run ${running.id} is still running`, { waveId: running.id });
      const plan = await planned();
      if (!plan.ok) return this.miss(policy, state, `the rooms could not be selected: ${plan.error}`, { error: plan.error }, "error");
      if (plan.value.rooms.length === 0) return this.miss(policy, state, `it selected no room${leftOutText(plan.value.leftOut)}`);
      const { cutoffTs, rooms, leftOut } = plan.value;
      let wave: WaveRecord;
      try {
        wave = await waves.start({
          kind: "purge",
          requester,
          managementRoomId: this.options.managementRoomId,
          commandEventId,
          selection: waveSelectionOf(policy.selection),
          parameters: { cutoffTs, cutoff: formatUtc(cutoffTs), deleteLocalEvents: policy.local, reason: `retention policy ${policy.name}` },
          policy: policy.name,
          rooms,
          leftOut,
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        return this.miss(policy, state, `the wave could not be started: ${reason}`, { err: error }, "error");
      }
      delete state.lastMiss;
      log.info({ policy: policy.name, waveId: wave.id, rooms: rooms.length, leftOut: leftOut.length, cutoffTs, requester }, "retention run started");
      return ok(wave);
    } finally {
      state.starting = false;
    }
  }

  /**
   * The policy's run still sending, if any: every run's wave carries the policy's name, and the
   * engine lists every wave not finished. A cancelled run, still following its last jobs, does
   * not hold the next one back.
   */
  private runningWave(policy: RetentionPolicy): WaveRecord | undefined {
    return this.options.waves.active().find((wave) => wave.policy === policy.name && wave.status === "running");
  }

  private miss(policy: RetentionPolicy, state: PolicyState, why: string, fields: Record<string, unknown> = {}, level: "info" | "error" = "info"): Result<never, string> {
    state.lastMiss = { at: this.options.clock.now(), why };
    this.options.log[level]({ policy: policy.name, ...fields, why }, "retention run started no wave");
    return err(why);
  }

  /**
   * Stores the row, then keeps it in memory. A failed write is logged and the row kept in memory
   * all the same: holding the old next run would start the same run again at the next tick.
   */
  private async save(state: PolicyState, row: RetentionStateRow, failure: string): Promise<void> {
    try {
      await this.options.store.save(row);
    } catch (error) {
      this.options.log.error({ policy: row.policy, err: error }, failure);
    }
    state.row = row;
  }
}

export function unknownPolicy(name: string, policies: readonly RetentionPolicy[]): string {
  return policies.length === 0
    ? `there is no retention policy ${name}: none is configured (config key retention)`
    : `there is no retention policy ${name}; the policies are ${policies.map((policy) => policy.name).join(", ")}`;
}

function leftOutText(leftOut: readonly LeftOutRoom[]): string {
  return leftOut.length === 0 ? "" : ` (${leftOut.length} left out)`;
}

/** The config has checked every reference's form; one that fails here is dropped rather than guessed at. */
function reference(text: string): RoomReference[] {
  const roomId = asRoomId(text);
  if (roomId !== undefined) return [{ kind: "id", roomId }];
  const alias = asRoomAlias(text);
  return alias === undefined ? [] : [{ kind: "alias", alias }];
}

function selectionRequest(policy: RetentionPolicy): SelectionRequest {
  // A listed room the homeserver does not know has no history to purge: left out and named.
  const common = { unknownRooms: "leave-out", exclude: policy.exclude } as const;
  const selection: RetentionSelection = policy.selection;
  switch (selection.kind) {
    case "all":
      return { ...common, listed: [], all: true };
    case "matching":
      return { ...common, listed: [], matching: selection.words };
    case "rooms":
      return { ...common, listed: selection.rooms.flatMap(reference) };
    case "space": {
      const [space] = reference(selection.space);
      return space === undefined ? { ...common, listed: [] } : { ...common, listed: [], space };
    }
  }
}

/** The policy's selection as a wave records it and the board shows it. */
export function waveSelectionOf(selection: RetentionSelection): WaveSelection {
  switch (selection.kind) {
    case "all":
      return { listed: [], all: true };
    case "matching":
      return { listed: [], matching: selection.words };
    case "rooms":
      return { listed: selection.rooms };
    case "space":
      return { listed: [], space: selection.space };
  }
}
