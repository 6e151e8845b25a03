import type { RetentionHistory, RetentionPolicy } from "../../src/model/retention.js";
import type { MediaRetentionAdmin, MediaStepReport, MediaStepReporter } from "../../src/retention/media.js";
import type { AdminError, OldMediaQuery } from "../../src/synapse/adminClient.js";
import type { RoomSelector, SelectionRequest, SelectionResult, WaveControl, WaveRecord, WaveRequest, WaveRoom, WaveRoomState, WaveView } from "../../src/model/waves.js";
import type { RetentionStateRow, RetentionStateStore } from "../../src/retention/stateStore.js";
import { err, ok, type Result } from "../../src/util/result.js";

/** The wave engine as commands and the scheduler see it: records each request and cancel, and waves run until a test ends them. */
export class RecordingWaves implements WaveControl {
  readonly requests: WaveRequest[] = [];
  private readonly waves = new Map<string, { wave: WaveRecord; rooms: WaveRoom[] }>();
  /** Set to make the next start fail, as the engine does when it cannot record the wave. */
  failNextStart: Error | undefined;

  start(request: WaveRequest): Promise<WaveRecord> {
    if (this.failNextStart !== undefined) {
      const failure = this.failNextStart;
      this.failNextStart = undefined;
      return Promise.reject(failure);
    }
    this.requests.push(request);
    const wave: WaveRecord = {
      id: `w-${String(this.requests.length).padStart(6, "0")}`,
      kind: request.kind,
      requester: request.requester,
      managementRoomId: request.managementRoomId,
      commandEventId: request.commandEventId,
      selection: request.selection,
      parameters: request.parameters,
      ...(request.policy === undefined ? {} : { policy: request.policy }),
      leftOut: request.leftOut,
      status: "running",
      createdAt: Date.now(),
      finalNotificationSent: false,
    };
    const rooms = request.rooms.map((room): WaveRoom => ({ waveId: wave.id, roomId: room.roomId, phase: "main", label: room.label, state: "queued", attempts: 0 }));
    this.waves.set(wave.id, { wave, rooms });
    return Promise.resolve(wave);
  }

  /** Ends a wave with its rooms in these states, in order. */
  finish(waveId: string, states: readonly WaveRoomState[]): void {
    const entry = this.waves.get(waveId);
    if (entry === undefined) throw new Error(`no wave ${waveId}`);
    entry.wave = { ...entry.wave, status: "finished", finishedAt: Date.now() };
    entry.rooms = entry.rooms.map((room, index) => ({ ...room, state: states[index] ?? "done" }));
  }

  /** A wave started before the test's scheduler existed (by an earlier Warden). */
  adopt(wave: WaveRecord): void {
    this.waves.set(wave.id, { wave, rooms: [] });
  }

  readonly cancelled: { readonly waveId: string; readonly by: string }[] = [];

  cancel(waveId: string, by: string): Promise<Result<WaveView, string>> {
    const entry = this.waves.get(waveId);
    if (entry === undefined) return Promise.resolve(err(`there is no wave ${waveId}.`));
    this.cancelled.push({ waveId, by });
    entry.wave = { ...entry.wave, status: "cancelled", cancelledBy: by };
    return Promise.resolve(ok({ wave: entry.wave, rooms: entry.rooms, now: Date.now() }));
  }

  view(waveId: string): WaveView | undefined {
    const entry = this.waves.get(waveId);
    return entry === undefined ? undefined : { wave: entry.wave, rooms: entry.rooms, now: Date.now() };
  }

  active(): readonly WaveRecord[] {
    return [...this.waves.values()]
      .map((entry) => entry.wave)
      .filter((wave) => wave.status !== "finished")
      .reverse();
  }
}

/** Answers every selection with the same result until told otherwise, and keeps the requests. */
export class ScriptedSelector implements RoomSelector {
  readonly requests: SelectionRequest[] = [];
  answer: Result<SelectionResult, string> = ok({
    rooms: [
      { roomId: "!a:example.org", label: "!a:example.org" },
      { roomId: "!b:example.org", label: "!b:example.org" },
    ],
    leftOut: [{ label: "!dm:example.org", roomId: "!dm:example.org", why: "a direct-message room (exclude.dm)" }],
  });

  select(request: SelectionRequest): Promise<Result<SelectionResult, string>> {
    this.requests.push(request);
    return Promise.resolve(this.answer);
  }
}

/** The keys of a policy and of its history, flat, as tests override them. */
export type PolicyOverrides = Partial<Omit<RetentionPolicy, "history">> & Partial<RetentionHistory> & { readonly history?: RetentionHistory | undefined };

/** A policy with rooms (every room, 180 days kept) unless `history: undefined` makes it media-only. */
export function policy(overrides: PolicyOverrides = {}): RetentionPolicy {
  const { selection, keepMs, keep, local, exclude, history: givenHistory, ...rest } = overrides;
  const history: RetentionHistory = {
    selection: selection ?? { kind: "all" },
    keepMs: keepMs ?? 180 * 86_400_000,
    keep: keep ?? "180d",
    local: local ?? false,
    exclude: exclude ?? { rooms: [], spaces: [], dm: true, members: ["@whatsapp_.*"] },
  };
  const mediaOnly = "history" in overrides && givenHistory === undefined;
  return {
    name: "old-history",
    everyMs: 86_400_000,
    every: "1d",
    ...(mediaOnly ? {} : { history: givenHistory ?? history }),
    ...rest,
  };
}

/** The media admin calls, answered as a test says, each call recorded. */
export class ScriptedMediaAdmin implements MediaRetentionAdmin {
  readonly localCalls: OldMediaQuery[] = [];
  readonly remoteCalls: number[] = [];
  local: () => Promise<Result<{ deleted_media: string[]; total: number }, AdminError>> = () => Promise.resolve(ok({ deleted_media: ["a", "b"], total: 2 }));
  remote: () => Promise<Result<{ deleted: number }, AdminError>> = () => Promise.resolve(ok({ deleted: 5 }));

  deleteOldLocalMedia(query: OldMediaQuery): Promise<Result<{ deleted_media: string[]; total: number }, AdminError>> {
    this.localCalls.push(query);
    return this.local();
  }

  purgeRemoteMediaCache(beforeTs: number): Promise<Result<{ deleted: number }, AdminError>> {
    this.remoteCalls.push(beforeTs);
    return this.remote();
  }
}

/** Every media step's report, in order. */
export class RecordingMediaReporter implements MediaStepReporter {
  readonly reports: MediaStepReport[] = [];

  mediaStepEnded(report: MediaStepReport): Promise<void> {
    this.reports.push(report);
    return Promise.resolve();
  }
}

/** The retention state in memory, for tests that need no database. */
export class MemoryRetentionStore implements RetentionStateStore {
  readonly rows = new Map<string, RetentionStateRow>();
  /** Every row written, in order. */
  readonly saved: RetentionStateRow[] = [];
  /** Set to make every write fail, as a full disk does. */
  failure: Error | undefined;

  all(): readonly RetentionStateRow[] {
    return [...this.rows.values()];
  }

  save(row: RetentionStateRow): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.saved.push(row);
    this.rows.set(row.policy, row);
    return Promise.resolve();
  }
}
