import { mkdirSync } from "node:fs";
import type { Logger } from "pino";
import { buildCommandTable } from "../commands/table.js";
import { KnownVersion } from "../synapse/features.js";
import { SqliteTakedownStore } from "../store/takedowns.js";
import { TakedownRunner } from "../tasks/takedowns/runner.js";
import { ChatTakedownNotifier } from "./takedownNotifier.js";
import { CommandDispatcher } from "../commands/dispatcher.js";
import type { Config } from "../config.js";
import { BotClient } from "../matrix/botClient.js";
import { asUserId, serverNameOf } from "../matrix/ids.js";
import { lockDataDirectory } from "../store/lock.js";
import { openWardenState, type WardenState } from "../store/state.js";
import { SynapseAdminClient } from "../synapse/adminClient.js";
import { purgeHandler } from "../tasks/kinds/purge.js";
import { shutdownHandler } from "../tasks/kinds/shutdown.js";
import { redactHandler } from "../tasks/kinds/redact.js";
import { TaskLauncher } from "../tasks/launcher.js";
import { homeserverJobs } from "../tasks/homeserverJobs.js";
import { DEFAULT_TRACKER_OPTIONS, TaskTracker } from "../tasks/tracker.js";
import { systemClock } from "../util/clock.js";
import { err, ok, type Result } from "../util/result.js";
import { wardenVersion } from "../version.js";
import { renderReady } from "../render/ready.js";
import { checkAdminRights, waitForHomeserver } from "./startup.js";
import { ChatTaskNotifier } from "./taskNotifier.js";
import { ManagementRoomGuard } from "./managementRoomGuard.js";
import { ConfirmationBook } from "../commands/confirmation/confirmations.js";
import { ConfirmationFlow } from "../commands/confirmation/confirmationFlow.js";
import type { ManagementRoomSettings } from "../access/roomSafety.js";
import { ProtectedRooms } from "../commands/parsing/protectedRooms.js";
import { WardenMetrics } from "../metrics/metrics.js";
import { HealthState, startAdminProbe } from "../metrics/health.js";
import { instrumentCommand, MeteredTaskNotifier } from "../metrics/instrument.js";
import { startMetricsServer } from "../metrics/server.js";
import { SqliteReportStore } from "../store/reports.js";
import { ReportService } from "../reports/desk.js";
import { ReportPoller } from "../reports/poller.js";
import { cardReactionCommand } from "../reports/reactions.js";
import { AdminRoomSelector } from "../commands/selection/roomSelector.js";
import { WavePlanner } from "../commands/waves/waves.js";
import { DEFAULT_WAVE_OPTIONS, WaveEngine } from "../tasks/waves/engine.js";
import { blockSender, purgeSender, shutdownSender } from "../tasks/waves/senders.js";
import { LeaveSeenGate } from "../tasks/waves/leaveSeen.js";
import { ChatWaveNotifier } from "./waveNotifier.js";
import { WaveAwareTaskNotifier } from "./waveTaskNotifier.js";
import { RetentionScheduler } from "../retention/scheduler.js";
import { SqliteRetentionStore } from "../store/retention.js";
import { ChatMediaStepReporter } from "./retentionReporter.js";
import { REAL_TIMERS } from "../tasks/alarm.js";

/** Commands older than this when they arrive were sent while Warden was down. */
const MAX_COMMAND_AGE_MS = 10 * 60_000;
const COMMAND_CONCURRENCY = 4;

/**
 * How long a shutdown waits for commands in progress before it gives up on them (the next start
 * answers them). Under Docker's default 10 s between SIGTERM and SIGKILL, with room to exit.
 */
export const DRAIN_TIMEOUT_MS = 8_000;

export interface DrainReport {
  /** Commands that were still in progress when the drain began. */
  readonly inProgress: number;
  /** Commands still unfinished when it gave up waiting; the next start answers them. */
  readonly leftForNextStart: number;
}

export interface RunningWarden {
  /**
   * Stops taking commands and syncing, waits up to `timeoutMs` for the commands in progress,
   * stops tracking and flushes the state. Safe to exit afterwards.
   */
  drain(timeoutMs?: number): Promise<DrainReport>;
}

export interface StartOptions {
  /** True once a stop was requested (a signal during start-up): waiting for the homeserver ends. */
  readonly stopRequested?: () => boolean;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Wiring only: builds every part from the config and starts them in order. */
export async function startWarden(config: Config, log: Logger, options: StartOptions = {}): Promise<Result<RunningWarden, string>> {
  for (const warning of config.warnings) log.warn(warning);
  mkdirSync(config.dataDirectory, { recursive: true });
  // First of all, and before any request to the homeserver: two Wardens on one data directory
  // would both answer every command.
  const lock = lockDataDirectory(config.dataDirectory);
  if (!lock.ok) return lock;
  let state: WardenState;
  try {
    state = openWardenState(config.dataDirectory, () => systemClock.now(), log);
  } catch (error) {
    lock.value.release();
    return err(`Warden's database cannot be used: ${error instanceof Error ? error.message : String(error)}`);
  }
  const started = await startWithState(config, log, state, options);
  if (!started.ok) {
    state.database.close();
    lock.value.release();
    return started;
  }
  return ok({
    async drain(timeoutMs) {
      const report = await started.value.drain(timeoutMs);
      lock.value.release();
      return report;
    },
  });
}

async function startWithState(config: Config, log: Logger, state: WardenState, options: StartOptions): Promise<Result<RunningWarden, string>> {
  const clock = systemClock;
  const { tasks, waves: waveStore, handled, sync: syncStorage, audit } = state;
  const damaged = state.warnings;
  for (const note of damaged) log.error(note);
  const hadSyncToken = syncStorage.hadSyncToken();

  // The engine is built once the homeserver answers; the gauge reads 0 until then.
  const waveQueue = { length: (): number => 0 };
  const metrics = new WardenMetrics({ waveQueueLength: () => waveQueue.length() });
  const health = new HealthState(clock);
  const addresses = { client: config.homeserverUrl, admin: config.adminUrl };
  // Every admin request goes to adminUrl (the metrics probe's too); the bot stays on homeserverUrl.
  const admin = new SynapseAdminClient({
    homeserverUrl: config.adminUrl,
    accessToken: config.accessToken,
    onRetry: (event) => {
      log.warn(event, "retrying an admin request");
    },
    onRequest: (event) => {
      metrics.adminRequest(event.group, event.status, event.answered);
      health.adminCallEnded(event.answered);
    },
  });
  // Started before waiting for the homeserver, so /healthz says 503 (not nothing) while it is down.
  const metricsServer = config.metrics === undefined ? undefined : await startMetricsServer(config.metrics.listen, metrics, () => health.verdict(), log);
  const stopProbe = startAdminProbe(health, () => admin.serverVersion(), clock);
  const reachable = await waitForHomeserver(admin, addresses, log, sleep, () => options.stopRequested?.() === true);
  if (reachable === undefined || !reachable.ok) {
    stopProbe();
    metricsServer?.close();
    return reachable ?? err("stopped before the homeserver answered");
  }

  const bot = await BotClient.create({
    homeserverUrl: config.homeserverUrl,
    accessToken: config.accessToken,
    storage: syncStorage,
    dataDirectory: config.dataDirectory,
    log,
    onSync: () => {
      health.syncSucceeded();
    },
  });
  const who = await bot.whoAmI();
  if (!who.ok) return err(`the homeserver at ${config.homeserverUrl} rejected Warden's access token (${who.error}); check accessToken in the config`);
  const selfUserId = asUserId(who.value.userId);
  if (selfUserId === undefined) return err(`the homeserver named Warden's account "${who.value.userId}", which is not a user ID`);
  log.info({ clientApi: addresses.client, request: "whoami", selfUserId }, "the client API answered");
  const adminCheck = await checkAdminRights(admin, selfUserId, addresses);
  if (!adminCheck.ok) return adminCheck;
  log.info({ adminApi: addresses.admin, request: "rooms", selfUserId }, "the admin API confirmed Warden's admin rights");

  const joined = await bot.join(config.managementRoom);
  if (!joined.ok) {
    return err(`could not join the management room ${config.managementRoom}: ${joined.error}. Invite ${selfUserId} to it, or check managementRoom in the config.`);
  }
  const managementRoomId = joined.value;
  const encrypted = await bot.isEncrypted(managementRoomId);
  if (encrypted.ok && encrypted.value) {
    if (!bot.crypto.available) {
      return err(
        `the management room ${config.managementRoom} is encrypted, but the encryption module @matrix-org/matrix-sdk-crypto-nodejs could not be loaded (${bot.crypto.reason}). ` +
          "Install it with its native library (allow its install script, e.g. npm rebuild @matrix-org/matrix-sdk-crypto-nodejs), or use an unencrypted management room.",
      );
    }
    await bot.prepareEncryption([managementRoomId]);
  }
  const protectedRooms = new ProtectedRooms(config.protectedRooms, bot, clock);
  const firstResolution = await protectedRooms.current();
  if (!firstResolution.ok) log.warn({ reason: firstResolution.error }, "a protected room alias could not be resolved; destructive commands are refused until it resolves");
  const guard = new ManagementRoomGuard(managementRoomId, bot, bot, log);
  // Before the first sync: no command may be handled before the room's exposure is known.
  await guard.load();

  const homeserverVersion = new KnownVersion();
  homeserverVersion.set(reachable.value.serverVersion);
  // A wave's jobs report to its board, not one message each (see WaveAwareTaskNotifier).
  const waveAware = new WaveAwareTaskNotifier(new ChatTaskNotifier(bot, clock, log, audit, config.commandPrefix), log);
  const notifier = new MeteredTaskNotifier(waveAware, metrics, clock);
  const confirmations = new ConfirmationFlow(
    new ConfirmationBook(clock, config.confirmWindowMs),
    config.confirmBefore,
    bot,
    managementRoomId,
    config.commandPrefix,
    log,
  );
  const tracker = new TaskTracker(
    tasks,
    { purge: purgeHandler(admin), shutdown: shutdownHandler(admin), redact: redactHandler(admin) },
    homeserverJobs(admin, clock, homeserverVersion),
    notifier,
    clock,
    log,
    { ...DEFAULT_TRACKER_OPTIONS, stuckAfterMs: config.stuckAfterMs },
  );
  const launcher = new TaskLauncher(tasks, tracker, notifier, clock, log);
  const leaveSeen = new LeaveSeenGate(admin, clock, log.child({ component: "leave-seen" }));
  const engine = new WaveEngine(
    waveStore,
    tasks,
    { purge: purgeSender(admin, launcher), shutdown: shutdownSender(admin, launcher, leaveSeen), block: blockSender(admin, true), unblock: blockSender(admin, false) },
    homeserverJobs(admin, clock, homeserverVersion),
    new ChatWaveNotifier(bot, clock, log, selfUserId, audit, config.commandPrefix),
    clock,
    log,
    { ...DEFAULT_WAVE_OPTIONS, maxConcurrentJobs: config.maxConcurrentJobs, retries: config.waveRetries },
    REAL_TIMERS,
    tracker,
  );
  waveQueue.length = () => engine.queueLength();
  waveAware.attach(engine);
  const takedownStore = new SqliteTakedownStore(state.database, clock.now());
  const takedowns = new TakedownRunner(
    takedownStore,
    { admin, launcher, tasks, waves: engine, version: homeserverVersion, shutdownPurgeAfterMs: config.shutdownPurgeAfterMs },
    new ChatTakedownNotifier(bot, clock, log.child({ component: "takedowns" }), audit, config.commandPrefix),
    clock,
    log.child({ component: "takedowns" }),
  );
  waveAware.attach(takedowns);
  const selector = new AdminRoomSelector({ admin, directory: bot, managementRoomId, protectedRooms });
  const retention = new RetentionScheduler({
    policies: config.retention,
    store: new SqliteRetentionStore(state.database),
    selector,
    waves: engine,
    media: admin,
    reporter: new ChatMediaStepReporter(bot, managementRoomId, log.child({ component: "retention" }), audit, config.commandPrefix),
    clock,
    timers: REAL_TIMERS,
    log: log.child({ component: "retention" }),
    managementRoomId,
    selfUserId,
  });
  const reportStore = new SqliteReportStore(state.database);
  const reportDesk = new ReportService(reportStore, admin, bot, managementRoomId, config.commandPrefix, clock, log);
  const reportPoller = new ReportPoller(
    admin,
    reportStore,
    bot,
    clock,
    log,
    {
      pollEveryMs: config.reports.pollEveryMs,
      burst: config.reports.burst,
      windowMs: config.reports.burstWindowMs,
      managementRoomId,
      prefix: config.commandPrefix,
      // Reports about users are read from Synapse 1.152 on; an older one is named once.
      homeserverVersion,
    },
    (count) => {
      metrics.reportsSeen(count);
    },
  );
  const table = buildCommandTable({
    admin,
    takedowns,
    takedownStore,
    homeserverVersion,
    userSafety: { selfUserId, allowlist: config.allowlist, protectedUsers: config.protectedUsers },
    reportDesk,
    // !user --ips posts addresses only while the guard finds the management room private.
    exposure: guard,
    chat: bot,
    launcher,
    store: tasks,
    clock,
    confirmations,
    auditLog: audit,
    targets: { directory: bot, managementRoomId, protectedRooms },
    planner: new WavePlanner(selector, clock),
    waves: engine,
    retention,
    shutdownPurgeAfterMs: config.shutdownPurgeAfterMs,
    serverName: serverNameOf(selfUserId),
    log: log.child({ component: "commands" }),
  }).map((command) => instrumentCommand(command, metrics, clock));
  const dispatcher = new CommandDispatcher({
    table,
    prefix: config.commandPrefix,
    allowlist: config.allowlist,
    managementRoomId,
    selfUserId,
    chat: bot,
    journal: handled,
    // A command that started a task or a wave is answered by its messages: never run it again.
    hasTaskFor: (commandEventId) =>
      tasks.startedBy(commandEventId) || waveStore.startedBy(commandEventId) || takedownStore.startedBy(commandEventId),
    clock,
    log,
    // Without a sync token the first sync returns old messages: none of them may run.
    ...(hadSyncToken ? {} : { ignoreBefore: clock.now() }),
    maxCommandAgeMs: MAX_COMMAND_AGE_MS,
    concurrency: COMMAND_CONCURRENCY,
    refusalReason: () => guard.refusal(),
    cardAction: cardReactionCommand(reportDesk, config.commandPrefix),
    confirmations,
    audit,
  });
  bot.onMessage((event) => void dispatcher.handle(event));
  bot.onReaction((event) => void dispatcher.handleReaction(event));
  bot.onStateEvent((event) => {
    if (event.roomId !== managementRoomId) return;
    const change = settingsChange(event.type, event.content);
    if (change !== undefined) void guard.update(change);
  });

  // The stored sync position moves only once the commands of that sync are recorded (see SyncPositionGate).
  bot.holdSyncPositionUntil(() => dispatcher.whenRecorded());

  const resumed = tasks.unfinished().length;
  // Waves first: a job that ended while Warden was down is settled in its wave before the tracker reports it.
  await engine.resumeAll();
  tracker.resumeAll();
  takedowns.resumeAll();
  // Before the sync starts, so that only what an earlier run left is "received and unanswered".
  const recovered = await dispatcher.recover();
  await bot.start(managementRoomId);
  log.info({ managementRoomId, selfUserId, clientApi: addresses.client, adminApi: addresses.admin, serverVersion: reachable.value.serverVersion, crypto: bot.crypto.available, resumed, recovered }, "Warden is ready");
  const ready = await bot.send(
    managementRoomId,
    renderReady({
      version: wardenVersion(),
      homeserverUrl: config.homeserverUrl,
      adminUrl: config.adminUrl,
      serverVersion: reachable.value.serverVersion,
      prefix: config.commandPrefix,
      resumedTasks: resumed,
      damagedFiles: damaged,
    }),
  );
  if (!ready.ok) log.warn({ error: ready.error }, "could not post the ready message");
  // After the ready message, so a warning about an exposed room is the last thing said.
  await guard.announce();
  if (config.reports.enabled) reportPoller.start();
  // After the engine resumed its waves, so a policy's wave still running is seen as running.
  // It checks the policies (a policy that selects nothing today is named in the log, not fatal)
  // in the background: commands are handled from the sync on, and never wait for that check.
  await retention.start();

  return ok({
    async drain(timeoutMs = DRAIN_TIMEOUT_MS) {
      // Events a /sync still delivers are neither taken nor is their sync position stored: the next start gets them.
      dispatcher.stopTaking();
      stopProbe();
      metricsServer?.close();
      reportPoller.stop();
      bot.stop();
      confirmations.stop();
      const inProgress = dispatcher.inFlight();
      log.info({ inProgress, timeoutMs }, "draining: waiting for commands in progress");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([dispatcher.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      const leftForNextStart = dispatcher.inFlight();
      if (leftForNextStart > 0) log.warn({ leftForNextStart }, "drain timed out; the next start answers the commands left");
      // Jobs are durable: the next start resumes tracking them.
      await retention.stop();
      tracker.stop();
      // Waits for a summary or board edit still being sent and recorded: the database closes next.
      await engine.stop();
      await takedowns.stop();
      // Every write is committed as it happens; closing checkpoints the WAL into the database file.
      state.database.close();
      return { inProgress, leftForNextStart };
    },
  });
}

/** The part of the management room's settings a state event changes, if any. */
function settingsChange(type: string, content: unknown): ManagementRoomSettings | undefined {
  const record = content !== null && typeof content === "object" ? (content as Record<string, unknown>) : {};
  if (type === "m.room.join_rules") return { joinRule: typeof record["join_rule"] === "string" ? record["join_rule"] : "invite" };
  if (type === "m.room.history_visibility") {
    return { historyVisibility: typeof record["history_visibility"] === "string" ? record["history_visibility"] : "shared" };
  }
  return undefined;
}
