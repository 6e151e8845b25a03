import type { UserSafetyRules } from "../access/userSafety.js";
import type { HomeserverVersion } from "../synapse/features.js";
import { auditCommand, type AuditDependencies } from "./audit.js";
import { confirmCommand } from "./confirm.js";
import { CONFIRMATION_FLAGS, type ConfirmationFlow } from "./confirmation/confirmationFlow.js";
import { helpCommand } from "./help.js";
import { purgeCommand, type PurgeDependencies } from "./jobs/purge.js";
import { redactCommand, type RedactDependencies } from "./jobs/redact.js";
import { shutdownCommand, type ShutdownDependencies } from "./jobs/shutdown.js";
import type { Command } from "./spec.js";
import { statusCommand, type StatusDependencies } from "./jobs/status.js";
import { blockCommand, type BlockDependencies } from "./homeserver/block.js";
import { makeAdminCommand, type MakeAdminDependencies } from "./homeserver/makeAdmin.js";
import { membersCommand, type MembersDependencies } from "./homeserver/members.js";
import { roomCommand, type RoomDependencies } from "./homeserver/room.js";
import { roomsCommand, type RoomsDependencies } from "./homeserver/rooms.js";
import { tasksCommand, type TasksDependencies } from "./homeserver/tasks.js";
import { unblockCommand, type UnblockDependencies } from "./homeserver/unblock.js";
import { extremitiesCommand, type ExtremitiesDependencies } from "./homeserver/extremities.js";
import { reportsCommand, type ReportsDependencies } from "./reports/reports.js";
import { reportCommand, type ReportDependencies } from "./reports/report.js";
import { cancelCommand, type CancelDependencies } from "./waves/cancel.js";
import { retentionCommand, type RetentionDependencies } from "./retention/retention.js";
import { mediaCommand, type MediaDependencies } from "./media/media.js";
import { quarantineCommand, type QuarantineDependencies } from "./media/quarantine.js";
import { protectCommand, unprotectCommand, type ProtectDependencies } from "./media/protect.js";
import { takedownCommand, type TakedownDependencies } from "./users/takedown.js";
import { restrictCommands, type RestrictDependencies } from "./users/restrict.js";
import { deactivateCommand } from "./users/deactivate.js";
import { userCommand, type UserDependencies } from "./users/user.js";

export type CommandDependencies = PurgeDependencies &
  ShutdownDependencies &
  RedactDependencies &
  StatusDependencies &
  RoomDependencies &
  RoomsDependencies &
  MembersDependencies &
  TasksDependencies &
  BlockDependencies &
  UnblockDependencies &
  MakeAdminDependencies &
  UserDependencies &
  ExtremitiesDependencies &
  ReportsDependencies &
  ReportDependencies &
  CancelDependencies &
  QuarantineDependencies &
  ProtectDependencies &
  Omit<RetentionDependencies, "retention"> &
  MediaDependencies &
  TakedownDependencies &
  RestrictDependencies &
  AuditDependencies & {
    /** The homeserver's version, read at start: commands on recent endpoints say which Synapse they need. */
    readonly homeserverVersion: HomeserverVersion;
    /** Who is never restricted or taken down (src/access/userSafety.ts). */
    readonly userSafety: UserSafetyRules;
    readonly confirmations: Pick<ConfirmationFlow, "confirm">;
    /** Optional until the app wires the retention scheduler; without it there is no !retention. */
    readonly retention?: RetentionDependencies["retention"];
  };

/** Every command Warden knows, in the order help lists them. */
export function buildCommandTable(dependencies: CommandDependencies): readonly Command[] {
  const table: Command[] = [
    purgeCommand(dependencies),
    shutdownCommand(dependencies),
    redactCommand(dependencies),
    statusCommand(dependencies),
    cancelCommand(dependencies),
    roomCommand(dependencies),
    roomsCommand(dependencies),
    membersCommand(dependencies),
    tasksCommand(dependencies),
    blockCommand(dependencies),
    unblockCommand(dependencies),
    makeAdminCommand(dependencies),
    userCommand(dependencies),
    ...restrictCommands(dependencies),
    deactivateCommand(dependencies),
    extremitiesCommand(dependencies),
    reportsCommand(dependencies),
    reportCommand(dependencies),
    mediaCommand(dependencies),
    quarantineCommand(dependencies),
    protectCommand(dependencies),
    unprotectCommand(dependencies),
    takedownCommand(dependencies),
    ...(dependencies.retention === undefined ? [] : [retentionCommand({ ...dependencies, retention: dependencies.retention })]),
    confirmCommand(dependencies.confirmations),
    auditCommand(dependencies),
  ].map(withConfirmationFlags);
  table.push(helpCommand(() => table));
  return table;
}

/** Commands with a preview take --yes and --dry-run (no --yes where nothing may skip it); declared here once for all of them. */
function withConfirmationFlags(command: Command): Command {
  if (command.confirmation === undefined) return command;
  const flags = command.confirmation.unskippable === true ? CONFIRMATION_FLAGS.filter((flag) => flag.name !== "yes") : CONFIRMATION_FLAGS;
  return { ...command, flags: [...command.flags, ...flags] };
}

/** The known command closest to a mistyped one, if any is close enough to be a likely typo. */
export function closestCommand(word: string, table: readonly Command[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const command of table) {
    const distance = editDistance(word.toLowerCase(), command.name);
    if (best === undefined || distance < best.distance) best = { name: command.name, distance };
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(best.name.length / 3)) ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
