import type { Logger } from "pino";
import { asRoomAlias, asRoomId } from "../matrix/ids.js";
import {
  mediaRunOf,
  mediaRunParameters,
  scheduledRunId,
  type RetentionHistory,
  type RetentionLastRun,
  type RetentionMediaPlan,
  type RetentionMediaRun,
  type RetentionMiss,
  type RetentionPolicy,
  type RetentionPolicyState,
  type RetentionSelection,
} from "../model/retention.js";
import { countRooms, type LeftOutRoom, type RoomReference, type RoomSelector, type SelectedRoom, type SelectionRequest, type WaveControl, type WaveRecord, type WaveSelection, type WaveView } from "../model/waves.js";
import type { Timers } from "../tasks/alarm.js";
import type { Clock } from "../util/clock.js";
import { formatUtc } from "../util/duration.js";
import { err, ok, type Result } from "../util/result.js";
import { planMedia, runMediaStep, type MediaRetentionAdmin, type MediaStepReport, type MediaStepReporter } from "./media.js";
import { nextAfter, reconcile } from "./schedule.js";
import type { RetentionStateRow, RetentionStateStore } from "./stateStore.js";

/**
 * The scheduler wakes at least this often, whatever the next run: setTimeout cannot wait longer
 * than about 24.8 days, and a wall clock set forward (or back) is noticed within the hour.
 */
const MAX_SLEEP_MS = 3_600_000;

/** What a run would act on now: the rooms, those left out and why, the purge point, and the media cut-offs. */
export interface RetentionPlan {
  readonly policy: RetentionPolicy;
  /** The purge wave's part; undefined for a media-only policy. */
  readonly history?: RetentionHistoryPlan;
  readonly media?: RetentionMediaPlan;
}

export interface RetentionHistoryPlan {
  /** History before this goes (epoch ms): now minus the policy's keep. */
  readonly cutoffTs: number;
  readonly rooms: readonly SelectedRoom[];
  readonly leftOut: readonly LeftOutRoom[];
}

/** What a run started: its wave, its media step, or both; `noWave` says why a policy with rooms started no wave. */
export interface RetentionRun {
  readonly wave?: WaveRecord;
  readonly media?: RetentionMediaRun;
  readonly noWave?: string;
}

/** What the !retention command may do; RetentionScheduler is the one implementation. */
export interface RetentionControl {
  policies(): readonly RetentionPolicy[];
  states(): readonly RetentionPolicyState[];
  /** The rooms a run would act on now, for a preview or a dry run. Err: the selection failed (the reason, for the moderator). */
  plan(name: string): Promise<Result<RetentionPlan, string>>;
  /**
   * Starts a run of `planned` now — the rooms and cut-offs its preview showed — outside the schedule
   * (which it does not move). Err: why nothing was done (no wave, no media step).
   */
  runNow(planned: RetentionPlan, requester: string, commandEventId: string): Promise<Result<RetentionRun, string>>;
  pause(name: string): Promise<Result<RetentionPolicyState, string>>;
  resume(name: string): Promise<Result<RetentionPolicyState, string>>;
}

export interface RetentionSchedulerOptions {
  readonly policies: readonly RetentionPolicy[];
  readonly store: RetentionStateStore;
  readonly selector: RoomSelector;
  readonly waves: WaveControl;
  /** The media step's admin calls, for policies with media. */
  readonly media: MediaRetentionAdmin;
  readonly reporter: MediaStepReporter;
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
  /** The latest media step since Warden started (older ones are read from the last wave). */
  lastMedia?: RetentionMediaRun;
  /** A run of this policy is being selected or started: a second one waits for the next slot. */
  starting: boolean;
}

/**
 * Runs each retention policy of the config on its schedule (see schedule.ts for the rules): at
 * each due slot it deletes the policy's old media, if it has media, then selects the policy's
 * rooms and starts a purge wave through WaveControl, as a moderator's wave would, with the same
 * board, pacing and summary. A slot is skipped, not delayed, while the policy is paused or its
 * previous wave still runs. The next run is stored with each change, so a restart neither skips
 * nor repeats one; a media step is not recorded before it ends, so one a crash cut short is run
 * again with its slot, which is safe (see runMediaStep).
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
      // A media-only policy selects nothing: there is nothing to check before its first run.
      if (policy.history === undefined) continue;
      const plan = await this.plan(policy.name);
      const key = `retention[${index}] (${policy.name})`;
      if (!plan.ok) problems.push(`${key}: the rooms could not be selected: ${plan.error}`);
      else if (plan.value.history?.rooms.length === 0) problems.push(`${key}: selects no room today${leftOutText(plan.value.history.leftOut)}; its runs start no wave until it does`);
    }
    return problems;
  }

  states(): readonly RetentionPolicyState[] {
    return this.options.policies.map((policy) => this.stateOf(policy));
  }

  async plan(name: string): Promise<Result<RetentionPlan, string>> {
    const policy = this.policy(name);
    if (policy === undefined) return err(unknownPolicy(name, this.options.policies));
    const now = this.options.clock.now();
    const media = policy.media === undefined ? {} : { media: planMedia(policy.media, now) };
    if (policy.history === undefined) return ok({ policy, ...media });
    const cutoffTs = now - policy.history.keepMs;
    const selected = await this.options.selector.select(selectionRequest(policy.history));
    if (!selected.ok) return selected;
    return ok({ policy, history: { cutoffTs, rooms: selected.value.rooms, leftOut: selected.value.leftOut }, ...media });
  }

  async runNow(planned: RetentionPlan, requester: string, commandEventId: string): Promise<Result<RetentionRun, string>> {
    const { name } = planned.policy;
    const state = this.policyStates.get(name);
    const policy = this.policy(name);
    if (state === undefined || policy === undefined) return err(unknownPolicy(name, this.options.policies));
    // A moderator's explicit run goes ahead while the policy is paused: pausing stops the schedule only.
    const started = await this.startRun(policy, state, requester, commandEventId, () => Promise.resolve(ok(planned)), false);
    const wave = started.ok ? started.value.wave : undefined;
    if (wave !== undefined) await this.save(state, { ...state.row, lastWaveId: wave.id, lastStartedAt: wave.createdAt }, "could not record a retention run");
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
    // Undefined when there is none, or when the engine no longer knows the wave.
    const lastView = row?.lastWaveId === undefined ? undefined : this.options.waves.view(row.lastWaveId);
    const lastRun = lastView === undefined ? undefined : this.lastRun(lastView, row?.lastStartedAt);
    const lastMedia = state?.lastMedia ?? (lastView === undefined ? undefined : mediaRunOf(lastView.wave.parameters));
    return {
      policy,
      // Stryker disable next-line BooleanLiteral: equivalent — the constructor gives every configured policy a state, so the fallback is for the type checker only
      paused: row?.paused ?? false,
      ...(row?.nextRunAt === undefined ? {} : { nextRunAt: row.nextRunAt }),
      ...(lastRun === undefined ? {} : { lastRun }),
      ...(state?.lastMiss === undefined ? {} : { lastMiss: state.lastMiss }),
      ...(lastMedia === undefined ? {} : { lastMedia }),
    };
  }

  /** The last wave's counts. */
  private lastRun(view: WaveView, startedAt: number | undefined): RetentionLastRun {
    const counts = countRooms(view.rooms, "main", view.now);
    return {
      waveId: view.wave.id,
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
    const started = await this.startRun(policy, state, this.options.selfUserId, scheduledRunId(policy.name, now), () => this.plan(policy.name), true);
    const nextRunAt = nextAfter(policy, slot, this.options.clock.now());
    const wave = started.ok ? started.value.wave : undefined;
    const row: RetentionStateRow = wave !== undefined ? { ...state.row, nextRunAt, lastWaveId: wave.id, lastStartedAt: wave.createdAt } : { ...state.row, nextRunAt };
    await this.save(state, row, "could not store a retention run and the next one; after a restart it may run again");
  }

  /**
   * Starts one run of what `planned` gives (selected now for a scheduled run; what the preview
   * showed for a moderator's): its media step first, if the policy has media, then its wave, if
   * it has rooms. A media step goes ahead when the rooms could not be selected or none was: it
   * does not depend on them. A run that starts no wave is logged and kept as the policy's last
   * miss; a run held back (another run of the policy going on) does nothing at all.
   */
  private async startRun(
    policy: RetentionPolicy,
    state: PolicyState,
    requester: string,
    commandEventId: string,
    planned: () => Promise<Result<RetentionPlan, string>>,
    scheduled: boolean,
  ): Promise<Result<RetentionRun, string>> {
    if (state.starting) return this.miss(policy, state, "a run of this policy is being started already");
    state.starting = true;
    try {
      const running = this.runningWave(policy);
      if (running !== undefined) return this.miss(policy, state, `its previous run ${running.id} is still running`, { waveId: running.id });
      const plan = await planned();
      const mediaPlan = plan.ok ? plan.value.media : policy.media === undefined ? undefined : planMedia(policy.media, this.options.clock.now());
      const media = mediaPlan === undefined ? undefined : await runMediaStep(this.options.media, mediaPlan, this.options.clock, this.options.log, policy.name);
      if (media !== undefined) state.lastMedia = media;
      const wave = policy.history === undefined ? undefined : await this.startWave(policy, state, plan, media, requester, commandEventId);
      const noWave = wave === undefined || wave.ok ? undefined : wave.error;
      if (media !== undefined) await this.report({ policy: policy.name, run: media, requester, ...(noWave === undefined ? {} : { noWave }), announce: scheduled && wave?.ok !== true });
      if (wave?.ok === true) return ok({ wave: wave.value, ...(media === undefined ? {} : { media }) });
      if (media !== undefined) return ok({ media, ...(noWave === undefined ? {} : { noWave }) });
      // Only a policy with rooms and without media gets here, with the reason its wave did not start.
      return err(noWave ?? "the policy has neither rooms nor media");
    } finally {
      state.starting = false;
    }
  }

  /** The run's purge wave, carrying its media step in its parameters. Err: why none started (a miss). */
  private async startWave(
    policy: RetentionPolicy,
    state: PolicyState,
    plan: Result<RetentionPlan, string>,
    media: RetentionMediaRun | undefined,
    requester: string,
    commandEventId: string,
  ): Promise<Result<WaveRecord, string>> {
    const { log, waves } = this.options;
    if (!plan.ok) return this.miss(policy, state, `the rooms could not be selected: ${plan.error}`, { error: plan.error }, "error");
    const history = plan.value.history;
    if (policy.history === undefined || history === undefined) return this.miss(policy, state, "it has no rooms");
    if (history.rooms.length === 0) return this.miss(policy, state, `it selected no room${leftOutText(history.leftOut)}`);
    const { cutoffTs, rooms, leftOut } = history;
    let wave: WaveRecord;
    try {
      wave = await waves.start({
        kind: "purge",
        requester,
        managementRoomId: this.options.managementRoomId,
        commandEventId,
        selection: waveSelectionOf(policy.history.selection),
        parameters: {
          cutoffTs,
          cutoff: formatUtc(cutoffTs),
          deleteLocalEvents: policy.history.local,
          reason: `retention policy ${policy.name}`,
          ...(media === undefined ? {} : mediaRunParameters(media)),
        },
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
  }

  /** A reporter that throws (a bug) must not keep the run from being recorded: its slot would run again at once. */
  private async report(report: MediaStepReport): Promise<void> {
    try {
      await this.options.reporter.mediaStepEnded(report);
    } catch (error) {
      this.options.log.error({ policy: report.policy, err: error }, "a retention run's media step could not be reported");
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

function selectionRequest(history: RetentionHistory): SelectionRequest {
  // A listed room the homeserver does not know has no history to purge: left out and named.
  const common = { unknownRooms: "leave-out", exclude: history.exclude } as const;
  const selection: RetentionSelection = history.selection;
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
