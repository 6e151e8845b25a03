import type { Preview } from "../../model/commandSpec.js";
import type { Refusal } from "../../model/outcomes.js";
import type { RoomSelector, SelectionRequest, SelectionResult, WaveControl, WaveKind, WaveParameterValue } from "../../model/waves.js";
import { wavePreview } from "../../render/waves.js";
import type { Clock } from "../../util/clock.js";
import { err, ok, type Result } from "../../util/result.js";
import type { CommandContext } from "../spec.js";
import type { CommandOutcome } from "../../model/outcomes.js";
import { KeptPlans } from "../confirmation/keptPlans.js";
import { EMPTY_ROOMS_HAVE_NO_NAME, MAX_WAVE_ROOMS, selectionOf, type RoomTargets } from "./selection.js";

/**
 * Selects a wave's rooms once per command: the rooms a preview showed are the rooms that run
 * when it is confirmed, even if the homeserver's room list changed in between.
 */
export class WavePlanner {
  private readonly plans: KeptPlans<SelectionResult>;

  constructor(
    private readonly selector: RoomSelector,
    clock: Clock,
  ) {
    this.plans = new KeptPlans(clock);
  }

  /** The rooms a preview shows; kept for the command's run. */
  plan(commandEventId: string, targets: RoomTargets, unknownRooms: SelectionRequest["unknownRooms"]): Promise<Result<SelectionResult, Refusal>> {
    return this.plans.plan(commandEventId, () => this.select(targets, unknownRooms));
  }

  /** The rooms a run acts on: those its preview showed, or (with --yes) selected now. */
  take(commandEventId: string, targets: RoomTargets, unknownRooms: SelectionRequest["unknownRooms"]): Promise<Result<SelectionResult, Refusal>> {
    return this.plans.take(commandEventId, () => this.select(targets, unknownRooms));
  }

  private async select(targets: RoomTargets, unknownRooms: SelectionRequest["unknownRooms"]): Promise<Result<SelectionResult, Refusal>> {
    const selected = await this.selector.select({
      listed: targets.listed,
      ...(targets.matching === undefined ? {} : { matching: targets.matching }),
      ...(targets.space === undefined ? {} : { space: targets.space }),
      ...(targets.empty ? { empty: true } : {}),
      ...(targets.all ? { all: true } : {}),
      unknownRooms,
    });
    if (!selected.ok) return err({ kind: "refused", reason: `could not select the rooms: ${selected.error}` });
    const count = selected.value.rooms.length;
    if (count > MAX_WAVE_ROOMS) {
      return err({
        kind: "refused",
        reason: `the selection found ${count} rooms, and one wave takes at most ${MAX_WAVE_ROOMS}; nothing was done.`,
        hint: "Narrow it (--matching, --space, --empty) or list the rooms in several commands.",
      });
    }
    return ok(selected.value);
  }
}

export interface WaveCommandDependencies {
  readonly planner: Pick<WavePlanner, "plan" | "take">;
  readonly waves: Pick<WaveControl, "start">;
}

/** One wave as a command asks for it: the action, its rooms, and the same parameters for every room. */
export interface WaveOrder {
  readonly kind: WaveKind;
  readonly targets: RoomTargets;
  readonly parameters: Readonly<Record<string, WaveParameterValue>>;
  /** A listed room the homeserver does not know: kept (a block works on it) or left out. */
  readonly unknownRooms: SelectionRequest["unknownRooms"];
}

function nothingSelected(selection: SelectionResult, targets: RoomTargets): Refusal {
  const leftOut = selection.leftOut.slice(0, 5).map((room) => `${room.label} (${room.why})`);
  return {
    kind: "refused",
    reason: `no room was selected, so nothing was done.${leftOut.length === 0 ? "" : ` Left out: ${leftOut.join("; ")}${selection.leftOut.length > 5 ? `, and ${selection.leftOut.length - 5} more` : ""}.`}`,
    // The likeliest reason this combination finds nothing, and nothing else says it.
    ...(targets.matching !== undefined && targets.empty ? { hint: `${EMPTY_ROOMS_HAVE_NO_NAME}. Use --empty alone or with --space, or list the rooms.` } : {}),
  };
}

export async function previewWave(order: WaveOrder, context: CommandContext, dependencies: WaveCommandDependencies): Promise<Result<Preview, Refusal>> {
  const planned = await dependencies.planner.plan(context.commandEventId, order.targets, order.unknownRooms);
  if (!planned.ok) return planned;
  if (planned.value.rooms.length === 0) return err(nothingSelected(planned.value, order.targets));
  return ok(
    wavePreview({
      kind: order.kind,
      rooms: planned.value.rooms,
      leftOut: planned.value.leftOut,
      parameters: order.parameters,
      selection: selectionOf(order.targets),
    }),
  );
}

export async function startWave(order: WaveOrder, context: CommandContext, dependencies: WaveCommandDependencies): Promise<CommandOutcome> {
  const planned = await dependencies.planner.take(context.commandEventId, order.targets, order.unknownRooms);
  if (!planned.ok) return planned.error;
  if (planned.value.rooms.length === 0) return nothingSelected(planned.value, order.targets);
  const wave = await dependencies.waves.start({
    kind: order.kind,
    requester: context.requester,
    managementRoomId: context.managementRoomId,
    commandEventId: context.commandEventId,
    selection: selectionOf(order.targets),
    parameters: order.parameters,
    rooms: planned.value.rooms,
    leftOut: planned.value.leftOut,
  });
  return { kind: "wave-started", wave };
}
