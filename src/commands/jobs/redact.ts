import type { RoomId, UserId } from "../../matrix/ids.js";
import { launchOutcome, taskOrigin } from "./launching.js";
import type { AdminError, SynapseAdminClient } from "../../synapse/adminClient.js";
import type { TaskLauncher } from "../../tasks/launcher.js";
import { err, ok, type Result } from "../../util/result.js";
import { parseRoomArgument, parseUserArgument, ROOM_EXPECTED, type RoomArgument } from "../parsing/arguments.js";
import { defineCommand, type CommandContext } from "../spec.js";
import { type ArgumentProblem, type Preview, type PreviewLine } from "../../model/commandSpec.js";
import { type CommandOutcome, type Refusal } from "../../model/outcomes.js";
import { resolveRoom, type Target, type TargetRules } from "../parsing/targets.js";
import { textFlag, textFlags } from "../parsing/words.js";

/** Synapse redacts at most this many of the user's events per room unless told otherwise. */
export const SYNAPSE_DEFAULT_LIMIT = 1_000;
export const MAX_LIMIT = 10_000;
/** Rooms listed one by one in a preview; the rest are counted. */
const LISTED_ROOMS = 20;

const DEFAULT_ROOMS_NOTE = "the rooms the user is joined to or banned from (not rooms they left)";

interface RedactArguments {
  readonly user: UserId;
  /** Empty: Synapse's default set of rooms. */
  readonly rooms: readonly RoomArgument[];
  readonly reason?: string;
  readonly limit?: number;
}

export interface RedactDependencies {
  readonly admin: Pick<SynapseAdminClient, "roomDetails" | "startRedact" | "userMemberships">;
  readonly launcher: Pick<TaskLauncher, "launch">;
  readonly targets: TargetRules;
}

interface NamedRoom extends Target {
  /** The room's name, if it has one: shown in the preview only. */
  readonly name: string;
}

/** Which rooms a redact covers: the ones named, or Synapse's default as it stands now. */
type RoomPlan =
  | { readonly kind: "named"; readonly rooms: readonly NamedRoom[] }
  | { readonly kind: "default"; readonly joined: readonly string[]; readonly banned: readonly string[]; readonly left: number };

export function redactCommand(dependencies: RedactDependencies) {
  return defineCommand<RedactArguments>({
    name: "redact",
    summary: "Remove a user's messages with Synapse's user-redact API, in the rooms named or in all the rooms they are joined to or banned from.",
    details: [
      "Without --room, Synapse covers the rooms the user is joined to or banned from when the job starts, not rooms they left: name those with --room.",
      "Only messages (m.room.message, m.room.encrypted) and join events are redacted; other state stays.",
      `Synapse redacts at most ${SYNAPSE_DEFAULT_LIMIT} of the user's events per room unless --limit says otherwise.`,
      "A second redaction of the same user is refused by Synapse while one runs.",
    ],
    positionals: [{ name: "user", description: "the user whose messages go, as a full user ID such as @spammer:example.org" }],
    flags: [
      { name: "room", kind: "text", valueName: "ROOM", repeatable: true, description: `a room to cover (repeat for several): ${ROOM_EXPECTED}` },
      { name: "reason", kind: "text", valueName: "TEXT", description: "why, for the record and in each redaction" },
      { name: "limit", kind: "text", valueName: "N", description: `at most N of the user's events per room, 1 to ${MAX_LIMIT} (Synapse's default: ${SYNAPSE_DEFAULT_LIMIT})` },
    ],
    examples: ["!redact @spammer:example.org --reason spam", "!redact @spammer:example.org --room #lobby:example.org --room !abc:example.org --limit 200"],
    parse(words) {
      const user = parseUserArgument("<user>", words.positionals[0] ?? "");
      if (!user.ok) return user;
      const rooms: RoomArgument[] = [];
      for (const word of textFlags(words, "room")) {
        const room = parseRoomArgument("--room", word);
        if (!room.ok) return room;
        rooms.push(room.value);
      }
      const limitText = textFlag(words, "limit");
      const limit = limitText === undefined ? undefined : parseLimit(limitText);
      if (limit !== undefined && !limit.ok) return limit;
      const reason = textFlag(words, "reason");
      return ok({
        user: user.value,
        rooms,
        ...(reason === undefined ? {} : { reason }),
        ...(limit === undefined ? {} : { limit: limit.value }),
      });
    },
    execute: (args, context) => executeRedact(args, context, dependencies),
    confirmation: {
      kind: () => "redact",
      preview: (args) => previewRedact(args, dependencies),
    },
  });
}

function parseLimit(text: string): Result<number, ArgumentProblem> {
  const expected = `a whole number of events per room from 1 to ${MAX_LIMIT}`;
  if (!/^\d{1,6}$/.test(text)) return err({ argument: "--limit", given: text, expected });
  const limit = Number(text);
  return limit >= 1 && limit <= MAX_LIMIT ? ok(limit) : err({ argument: "--limit", given: text, expected });
}

/**
 * Resolves the rooms named, or reads which rooms Synapse's default covers. Refused either way
 * when the management room is among them: its history is Warden's audit trail.
 */
async function planRooms(args: RedactArguments, dependencies: RedactDependencies): Promise<Result<RoomPlan, Refusal>> {
  const { managementRoomId } = dependencies.targets;
  if (args.rooms.length > 0) {
    const rooms: NamedRoom[] = [];
    for (const argument of args.rooms) {
      const resolved = await resolveRoom(argument, dependencies.targets.directory);
      if (!resolved.ok) return resolved;
      if (resolved.value.roomId === managementRoomId) {
        return err({ kind: "refused", reason: `${resolved.value.label} is Warden's own management room; its history is Warden's audit trail and is never redacted.` });
      }
      if (rooms.some((room) => room.roomId === resolved.value.roomId)) continue;
      // Synapse fails the whole job at a room it does not know, after redacting in the rooms before it.
      const details = await dependencies.admin.roomDetails(resolved.value.roomId);
      if (!details.ok) {
        return err({
          kind: "refused",
          reason:
            details.error.kind === "not-found"
              ? `${resolved.value.label} is not a room this homeserver knows, so it holds no messages to redact.`
              : `could not look up ${resolved.value.label}: ${details.error.userMessage}`,
        });
      }
      rooms.push({ ...resolved.value, name: details.value.name ?? "" });
    }
    return ok({ kind: "named", rooms });
  }
  const memberships = await dependencies.admin.userMemberships(args.user);
  if (!memberships.ok) return err({ kind: "refused", reason: `could not look up the rooms of ${args.user}: ${memberships.error.userMessage}` });
  const entries = Object.entries(memberships.value.memberships);
  const inRoom = (membership: string) => entries.filter(([, m]) => m === membership).map(([roomId]) => roomId).sort();
  const plan: RoomPlan = { kind: "default", joined: inRoom("join"), banned: inRoom("ban"), left: inRoom("leave").length };
  if ([...plan.joined, ...plan.banned].includes(managementRoomId)) {
    return err({
      kind: "refused",
      reason: `${args.user} is joined to or banned from Warden's management room, whose history is Warden's audit trail: a redaction of all their rooms would reach it.`,
      hint: "Name the rooms to cover with --room.",
    });
  }
  if (plan.joined.length === 0 && plan.banned.length === 0) {
    return err({
      kind: "refused",
      reason: `${args.user} is joined to no room and banned from none on this homeserver, so a redaction without --room would do nothing.`,
      hint: "Rooms they left are not covered by default: name them with --room.",
    });
  }
  return ok(plan);
}

async function previewRedact(args: RedactArguments, dependencies: RedactDependencies): Promise<Result<Preview, Refusal>> {
  const plan = await planRooms(args, dependencies);
  if (!plan.ok) return plan;
  const lines: PreviewLine[] = [{ label: "User", value: args.user }];
  if (plan.value.kind === "named") {
    lines.push({ label: `Rooms (${plan.value.rooms.length}, named with --room)`, value: listed(plan.value.rooms.map(namedLabel)) });
  } else {
    const { joined, banned, left } = plan.value;
    lines.push(
      { label: "Rooms", value: `${DEFAULT_ROOMS_NOTE}, as Synapse reads them when the job starts` },
      { label: `Joined now (${joined.length})`, value: joined.length === 0 ? "none" : listed(joined) },
      { label: `Banned from now (${banned.length})`, value: banned.length === 0 ? "none" : listed(banned) },
      { label: "Not covered", value: `rooms the user left (${left} now); name such rooms with --room` },
    );
  }
  lines.push(
    { label: "Redacts", value: "the user's messages (m.room.message, m.room.encrypted) and join events" },
    { label: "Limit", value: limitText(args.limit) },
    ...(args.reason === undefined ? [] : [{ label: "Reason", value: args.reason }]),
  );
  return ok({ title: `redact the messages of ${args.user}`, lines });
}

async function executeRedact(args: RedactArguments, context: CommandContext, dependencies: RedactDependencies): Promise<CommandOutcome> {
  const plan = await planRooms(args, dependencies);
  if (!plan.ok) return plan.error;
  const rooms: readonly RoomId[] = plan.value.kind === "named" ? plan.value.rooms.map((room) => room.roomId) : [];
  const launched = await dependencies.launcher.launch({
    kind: "redact",
    roomId: args.user,
    roomLabel: args.user,
    ...taskOrigin(context),
    parameters: {
      rooms: [...rooms],
      ...(plan.value.kind === "named"
        ? { roomLabels: plan.value.rooms.map((room) => room.label) }
        : { joinedRooms: plan.value.joined.length, bannedRooms: plan.value.banned.length }),
      ...(args.limit === undefined ? {} : { limit: args.limit }),
      ...(args.reason === undefined ? {} : { reason: args.reason }),
    },
    submit: async () => {
      const started = await dependencies.admin.startRedact(args.user, {
        rooms,
        ...(args.reason === undefined ? {} : { reason: args.reason }),
        ...(args.limit === undefined ? {} : { limit: args.limit }),
      });
      if (started.ok) return ok(started.value.redact_id);
      return err(explainRefusal(started.error));
    },
  });
  return launchOutcome(launched, context.prefix);
}

/** Synapse refuses a second redaction of a user while one is active, with a 400 of its own words. */
function explainRefusal(error: AdminError): AdminError {
  if (error.kind === "bad-request" && /redact already in progress/i.test(error.detail ?? "")) {
    return { ...error, userMessage: "a redaction of this user is already running on the homeserver" };
  }
  return error;
}

function limitText(limit: number | undefined): string {
  return limit === undefined ? `at most ${SYNAPSE_DEFAULT_LIMIT} of the user's events per room (Synapse's default)` : `at most ${limit} of the user's events per room`;
}

function namedLabel(room: NamedRoom): string {
  return room.name === "" ? room.label : `"${room.name.length > 80 ? `${room.name.slice(0, 79)}…` : room.name}" ${room.label}`;
}

function listed(items: readonly string[]): string {
  const shown = items.slice(0, LISTED_ROOMS).join(", ");
  return items.length > LISTED_ROOMS ? `${shown}, and ${items.length - LISTED_ROOMS} more` : shown;
}
