import type { LaunchOutcome } from "../../tasks/launcher.js";
import type { TaskRecord } from "../../tasks/types.js";
import type { CommandContext } from "../spec.js";
import type { CommandOutcome } from "../../model/outcomes.js";

/** The part of a task request that says where the command came from. */
export function taskOrigin(context: CommandContext): { requester: string; managementRoomId: string; commandEventId: string } {
  return { requester: context.requester, managementRoomId: context.managementRoomId, commandEventId: context.commandEventId };
}

/**
 * A started task answers for itself (its progress message); a joined one is named in a reply; a
 * job of the same kind that does less than this command asks is running on the target, so
 * nothing was sent: the command is refused with that job named, to be sent again once it ends.
 */
export function launchOutcome(launched: LaunchOutcome, prefix = "!"): CommandOutcome {
  switch (launched.kind) {
    case "joined":
      return { kind: "task-joined", task: launched.task };
    case "started":
      return { kind: "task-started", task: launched.task };
    case "busy":
      return {
        kind: "refused",
        reason: `${launched.task.kind} ${launched.task.id} of ${launched.task.roomLabel} is still running and does less than this command asks (${runningWork(launched.task)}); the homeserver runs one such job per target at a time, so nothing was sent.`,
        hint: `Send the command again once ${launched.task.id} has ended (${prefix}status ${launched.task.id}).`,
      };
  }
}

/** What a running job does, in the words of its flags, so the moderator sees why it is not enough. */
function runningWork(task: TaskRecord): string {
  const p = task.parameters;
  switch (task.kind) {
    case "purge":
      return `it purges before ${typeof p["cutoff"] === "string" ? p["cutoff"] : "an earlier point"}, ${p["deleteLocalEvents"] === true ? "local users' messages too" : "keeping local users' messages"}`;
    case "shutdown":
      return `block: ${p["block"] === true ? "yes" : "no"}, delete from database: ${p["purge"] === false ? "no" : "yes"}${p["forcePurge"] === true ? ", forced" : ""}`;
    case "redact":
      return `${Array.isArray(p["rooms"]) && p["rooms"].length > 0 ? `${p["rooms"].length} room(s) named` : "the rooms the user is joined to or banned from"}, at most ${typeof p["limit"] === "number" ? p["limit"] : 1000} events per room`;
  }
}
