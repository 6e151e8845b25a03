import type { LaunchOutcome } from "../../tasks/launcher.js";
import type { CommandContext } from "../spec.js";
import type { CommandOutcome } from "../../model/outcomes.js";

/** The part of a task request that says where the command came from. */
export function taskOrigin(context: CommandContext): { requester: string; managementRoomId: string; commandEventId: string } {
  return { requester: context.requester, managementRoomId: context.managementRoomId, commandEventId: context.commandEventId };
}

/** A started task answers for itself (its progress message); a joined one is named in a reply. */
export function launchOutcome(launched: LaunchOutcome): CommandOutcome {
  return launched.kind === "joined" ? { kind: "task-joined", task: launched.task } : { kind: "task-started", task: launched.task };
}
