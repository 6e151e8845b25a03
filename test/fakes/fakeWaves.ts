import type { RoomSelector, SelectionRequest, SelectionResult, WaveControl, WaveRecord, WaveRequest, WaveView } from "../../src/model/waves.js";
import { err, ok, type Result } from "../../src/util/result.js";

/** A selector that answers what the test set, and records every request. */
export class FakeSelector implements RoomSelector {
  readonly requests: SelectionRequest[] = [];
  result: Result<SelectionResult, string> = ok({ rooms: [], leftOut: [] });

  select(request: SelectionRequest): Promise<Result<SelectionResult, string>> {
    this.requests.push(request);
    return Promise.resolve(this.result);
  }
}

/** Records the waves commands start and cancel; keeps them as views for !status. */
export class RecordingWaves implements WaveControl {
  readonly started: WaveRequest[] = [];
  readonly cancelled: { waveId: string; by: string }[] = [];
  private readonly waves = new Map<string, WaveRecord>();

  start(request: WaveRequest): Promise<WaveRecord> {
    this.started.push(request);
    const wave: WaveRecord = {
      id: `w-${String(this.started.length).padStart(6, "0")}`,
      kind: request.kind,
      requester: request.requester,
      managementRoomId: request.managementRoomId,
      commandEventId: request.commandEventId,
      selection: request.selection,
      parameters: request.parameters,
      leftOut: request.leftOut,
      status: "running",
      createdAt: 0,
      finalNotificationSent: false,
    };
    this.waves.set(wave.id, wave);
    return Promise.resolve(wave);
  }

  cancel(waveId: string, by: string): Promise<Result<WaveView, string>> {
    const wave = this.waves.get(waveId);
    if (wave === undefined) return Promise.resolve(err(`there is no wave ${waveId}.`));
    this.cancelled.push({ waveId, by });
    const cancelled: WaveRecord = { ...wave, status: "cancelled", cancelledBy: by };
    this.waves.set(waveId, cancelled);
    return Promise.resolve(ok({ wave: cancelled, rooms: [], now: 0 }));
  }

  view(waveId: string): WaveView | undefined {
    const wave = this.waves.get(waveId);
    return wave === undefined ? undefined : { wave, rooms: [], now: 0 };
  }

  active(): readonly WaveRecord[] {
    return [...this.waves.values()].filter((wave) => wave.status !== "finished");
  }
}
