import { mkdirSync } from "node:fs";
import type { Logger } from "pino";
import { buildCommandTable } from "../commands/table.js";
import { CommandDispatcher } from "../commands/dispatcher.js";
import type { Config } from "../config.js";
import { BotClient } from "../matrix/botClient.js";
import { asUserId } from "../matrix/ids.js";
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

/** Commands older than this when they arrive were sent while Warden was down. */
const MAX_COMMAND_AGE_MS = 10 * 60_000;
const COMMAND_CONCURRENCY = 4;

export interface RunningWarden {
  stop(): void;
}

const sleep = (milliseconds: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Wiring only: builds every part from the config and starts them in order. */
export async function startWarden(config: Config, log: Logger): Promise<Result<RunningWarden, string>> {
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
  const started = await startWithState(config, log, state);
  if (!started.ok) {
    state.database.close();
    lock.value.release();
    return started;
  }
  return ok({
    stop() {
      started.value.stop();
      lock.value.release();
    },
  });
}

async function startWithState(config: Config, log: Logger, state: WardenState): Promise<Result<RunningWarden, string>> {
  const clock = systemClock;
  const { tasks, handled, sync: syncStorage, audit } = state;
  const damaged = state.warnings;
  for (const note of damaged) log.error(note);
  const hadSyncToken = syncStorage.hadSyncToken();

  const admin = new SynapseAdminClient({
    homeserverUrl: config.homeserverUrl,
    accessToken: config.accessToken,
    onRetry: (event) => {
      log.warn(event, "retrying an admin request");
    },
  });
  const reachable = await waitForHomeserver(admin, log, sleep);
  if (reachable === undefined) return err("stopped before the homeserver answered");

  const bot = await BotClient.create({
    homeserverUrl: config.homeserverUrl,
    accessToken: config.accessToken,
    storage: syncStorage,
    dataDirectory: config.dataDirectory,
    log,
  });
  const who = await bot.whoAmI();
  if (!who.ok) return err(`the homeserver rejected Warden's access token (${who.error}); check accessToken in the config`);
  const selfUserId = asUserId(who.value.userId);
  if (selfUserId === undefined) return err(`the homeserver named Warden's account "${who.value.userId}", which is not a user ID`);
  const adminCheck = await checkAdminRights(admin, selfUserId);
  if (!adminCheck.ok) return adminCheck;

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

  const notifier = new ChatTaskNotifier(bot, clock, log, audit);
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
    homeserverJobs(admin),
    notifier,
    clock,
    log,
    { ...DEFAULT_TRACKER_OPTIONS, stuckAfterMs: config.stuckAfterMs },
  );
  const launcher = new TaskLauncher(tasks, tracker, notifier, clock, log);
  const table = buildCommandTable({
    admin,
    launcher,
    store: tasks,
    clock,
    confirmations,
    auditLog: audit,
    targets: { directory: bot, managementRoomId, protectedRooms },
  });
  const dispatcher = new CommandDispatcher({
    table,
    prefix: config.commandPrefix,
    allowlist: config.allowlist,
    managementRoomId,
    selfUserId,
    chat: bot,
    handled,
    clock,
    log,
    // Without a sync token the first sync returns old messages: none of them may run.
    ...(hadSyncToken ? {} : { ignoreBefore: clock.now() }),
    maxCommandAgeMs: MAX_COMMAND_AGE_MS,
    concurrency: COMMAND_CONCURRENCY,
    refusalReason: () => guard.refusal(),
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

  const resumed = tasks.unfinished().length;
  tracker.resumeAll();
  await bot.start(managementRoomId);
  log.info({ managementRoomId, selfUserId, serverVersion: reachable.serverVersion, crypto: bot.crypto.available, resumed }, "Warden is ready");
  const ready = await bot.send(
    managementRoomId,
    renderReady({
      version: wardenVersion(),
      homeserverUrl: config.homeserverUrl,
      serverVersion: reachable.serverVersion,
      prefix: config.commandPrefix,
      resumedTasks: resumed,
      damagedFiles: damaged,
    }),
  );
  if (!ready.ok) log.warn({ error: ready.error }, "could not post the ready message");
  // After the ready message, so a warning about an exposed room is the last thing said.
  await guard.announce();

  return ok({
    stop() {
      tracker.stop();
      confirmations.stop();
      bot.stop();
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
