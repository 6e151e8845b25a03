import type { RoomId, UserId } from "../../src/matrix/ids.js";
import { KnownVersion } from "../../src/synapse/features.js";
import { MemoryTakedownStore, RecordingTakedowns } from "./takedowns.js";
import { buildCommandTable, type CommandDependencies } from "../../src/commands/table.js";
import type { Command } from "../../src/commands/spec.js";
import type { RoomExposure } from "../../src/commands/users/user.js";
import type { TargetRules } from "../../src/commands/parsing/targets.js";
import { ProtectedRooms } from "../../src/commands/parsing/protectedRooms.js";
import type { TaskStore } from "../../src/store/tasks.js";
import { isFinal, type TaskRecord } from "../../src/tasks/types.js";
import { FakeDirectory } from "./fakeDirectory.js";
import { MemoryReportStore } from "./memoryReportStore.js";
import { ReportService } from "../../src/reports/desk.js";
import { RecordingChat } from "./recordingChat.js";
import { MemoryLogger } from "./memoryLogger.js";
import { FixedClock } from "./fixedClock.js";
import { RecordingLauncher } from "./recordingLauncher.js";
import { WavePlanner } from "../../src/commands/waves/waves.js";
import { RetentionScheduler } from "../../src/retention/scheduler.js";
import type { RetentionPolicy } from "../../src/model/retention.js";
import { MemoryRetentionStore, RecordingMediaReporter, RecordingWaves, ScriptedMediaAdmin, ScriptedSelector } from "./retention.js";
import { FakeMediaAdmin, SERVER_NAME } from "./media/fakeMediaAdmin.js";

export const MANAGEMENT_ROOM = "!mgmt:example.org" as RoomId;
export const PROTECTED_ROOM = "!protected:example.org" as RoomId;

/** The management room's exposure as the guard reports it: private unless a test says why not. */
export class SettableExposure implements RoomExposure {
  why: string | undefined;
  /** Answers given first, one per check, before `why` (the room changing during a command). */
  readonly script: (string | undefined)[] = [];
  checks = 0;

  refusal(): string | undefined {
    this.checks += 1;
    return this.script.length > 0 ? this.script.shift() : this.why;
  }
}

/** The task store as !status reads it: a list in memory. */
export class MemoryTaskList implements Pick<TaskStore, "all" | "get" | "running" | "endedOnTheirOwn" | "ofHomeserverJob"> {
  readonly tasks: TaskRecord[] = [];

  all(): TaskRecord[] {
    return [...this.tasks].sort((a, b) => a.createdAt - b.createdAt);
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.find((task) => task.id === id);
  }

  running(): TaskRecord[] {
    return this.all().filter((task) => !isFinal(task.status));
  }

  /** As the store's index reads them (test/unit/store checks the two agree). */
  endedOnTheirOwn(since: number): TaskRecord[] {
    return this.all().filter(
      (task) =>
        typeof task.parameters["waveId"] !== "string" && typeof task.parameters["takedownId"] !== "string" && isFinal(task.status) && (task.finishedAt ?? task.createdAt) >= since,
    );
  }

  ofHomeserverJob(jobId: string): string[] {
    return this.all()
      .filter((task) => task.homeserverTaskId === jobId)
      .map((task) => task.id);
  }
}

export interface CommandFakes {
  readonly clock: FixedClock;
  /** The homeserver's admin API, media included (!media, !quarantine, !protect). */
  readonly admin: FakeMediaAdmin;
  readonly launcher: RecordingLauncher;
  readonly directory: FakeDirectory;
  readonly store: MemoryTaskList;
  readonly targets: TargetRules;
  readonly reports: MemoryReportStore;
  readonly chat: RecordingChat;
  readonly selector: ScriptedSelector;
  readonly waves: RecordingWaves;
  /** The retention scheduler's own fakes: it starts waves through them. */
  readonly retentionWaves: RecordingWaves;
  readonly retentionSelector: ScriptedSelector;
  readonly retentionMedia: ScriptedMediaAdmin;
  readonly retentionReports: RecordingMediaReporter;
  readonly retention: RetentionScheduler;
  /** What the commands that log (the media commands) wrote. */
  readonly logger: MemoryLogger;
  readonly dependencies: CommandDependencies;
  readonly takedowns: RecordingTakedowns;
  readonly takedownStore: MemoryTakedownStore;
  /** The homeserver version the commands see (1.163.2 unless a test sets another). */
  readonly homeserverVersion: KnownVersion;
  /** Whether the management room is private, for !user --ips. */
  readonly exposure: SettableExposure;
  readonly table: readonly Command[];
}

/** Every dependency of the command table as a fake, and the table built from them; `policies` for !retention. */
export function commandFakes(policies: readonly RetentionPolicy[] = []): CommandFakes {
  const clock = new FixedClock();
  const admin = new FakeMediaAdmin();
  const launcher = new RecordingLauncher(clock);
  const directory = new FakeDirectory();
  const store = new MemoryTaskList();
  const targets: TargetRules = { directory, managementRoomId: MANAGEMENT_ROOM, protectedRooms: new ProtectedRooms([PROTECTED_ROOM], directory, clock) };
  const confirmations = { confirm: () => Promise.resolve({ kind: "refused" as const, reason: "the fake table confirms nothing" }) };
  const auditLog = { query: () => [] };
  const reports = new MemoryReportStore();
  const chat = new RecordingChat();
  const reportDesk = new ReportService(reports, admin, chat, MANAGEMENT_ROOM, "!", clock, new MemoryLogger().log);
  const selector = new ScriptedSelector();
  const waves = new RecordingWaves();
  const planner = new WavePlanner(selector, clock);
  const retentionWaves = new RecordingWaves();
  const retentionSelector = new ScriptedSelector();
  const retentionMedia = new ScriptedMediaAdmin();
  const retentionReports = new RecordingMediaReporter();
  // Never started: the commands read and change its state; runs happen only when asked for.
  const retention = new RetentionScheduler({
    policies,
    store: new MemoryRetentionStore(),
    selector: retentionSelector,
    waves: retentionWaves,
    media: retentionMedia,
    reporter: retentionReports,
    clock,
    timers: { setTimeout: () => undefined, clearTimeout: () => undefined },
    log: new MemoryLogger().log,
    managementRoomId: MANAGEMENT_ROOM,
    selfUserId: "@warden:example.org",
  });
  const logger = new MemoryLogger();
  const exposure = new SettableExposure();
  const homeserverVersion = new KnownVersion();
  homeserverVersion.set("1.163.2");
  const takedowns = new RecordingTakedowns();
  const takedownStore = new MemoryTakedownStore();
  const dependencies: CommandDependencies = {
    admin,
    launcher,
    targets,
    clock,
    store,
    confirmations,
    auditLog,
    reportDesk,
    planner,
    waves,
    retention,
    serverName: SERVER_NAME,
    log: logger.log,
    homeserverVersion,
    takedowns,
    takedownStore,
    exposure,
    chat,
    userSafety: { selfUserId: "@warden:example.org" as UserId, allowlist: [{ kind: "user", userId: "@mod:example.org" as UserId }], protectedUsers: [] },
  };
  return {
    clock,
    admin,
    launcher,
    directory,
    store,
    targets,
    reports,
    chat,
    selector,
    waves,
    retentionWaves,
    retentionSelector,
    retentionMedia,
    retentionReports,
    retention,
    logger,
    dependencies,
    homeserverVersion,
    takedowns,
    takedownStore,
    exposure,
    table: buildCommandTable(dependencies),
  };
}
