import type { RoomId, UserId } from "../../matrix/ids.js";
import type { Preview } from "../../model/commandSpec.js";
import type { CommandOutcome, Refusal } from "../../model/outcomes.js";
import { NOT_FOR_REMOTE, TAKEDOWN_STEPS } from "../../model/takedowns.js";
import type { LeftOutUser, TakedownOptions, TakedownPreviewData, TakedownRecord, TakedownUser, TakedownUserPlan } from "../../model/takedowns.js";
import { takedownPreviewLines } from "../../render/users/takedown.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { needsText, supports, unsupportedAnswer, type HomeserverVersion } from "../../synapse/features.js";
import type { TakedownStore } from "../../store/takedowns.js";
import { initialSteps, type TakedownRunner } from "../../tasks/takedowns/runner.js";
import type { Clock } from "../../util/clock.js";
import { err, ok, type Result } from "../../util/result.js";
import type { UserSafetyRules } from "../../access/userSafety.js";
import type { TargetRules } from "../parsing/targets.js";
import { textFlag } from "../parsing/words.js";
import { defineCommand, type CommandContext } from "../spec.js";
import { checkUsers, parseUsers, type ActionableUser } from "./targets.js";

/** Room details read per user to find the rooms they created; past it the preview says the search was bounded. */
const OWN_ROOM_READS = 100;
/** The preview counts their events in this many rooms, one page each. */
const COUNTED_ROOMS = 20;
const COUNTED_EVENTS_PER_ROOM = 1_000;
/** Memberships whose rooms may hold the user's events (an invite is the inviter's event). */
const REDACTED_MEMBERSHIPS: ReadonlySet<string> = new Set(["join", "leave", "ban", "knock"]);

interface TakedownArguments {
  readonly users: readonly UserId[];
  readonly options: TakedownOptions;
}

export interface TakedownDependencies {
  readonly admin: Pick<SynapseAdminClient, "userAccount" | "userMemberships" | "userJoinedRooms" | "roomDetails" | "userMedia" | "senderMessages">;
  readonly takedowns: Pick<TakedownRunner, "start">;
  readonly takedownStore: Pick<TakedownStore, "newId">;
  readonly homeserverVersion: HomeserverVersion;
  readonly userSafety: UserSafetyRules;
  readonly serverName: string;
  readonly targets: TargetRules;
  readonly clock: Clock;
}

/** One user's plan as the command makes it: the stored part and what the preview adds. */
interface UserPlan {
  readonly user: TakedownUser;
  readonly preview: TakedownUserPlan;
}

interface Plan {
  readonly users: readonly UserPlan[];
  readonly leftOut: readonly LeftOutUser[];
}

export function takedownCommand(dependencies: TakedownDependencies) {
  return defineCommand<TakedownArguments>({
    name: "takedown",
    summary: "Take down the people behind abuse: suspend them at once, quarantine their media, redact what they sent, and optionally shut down their rooms and deactivate them, as one tracked plan.",
    details: [
      "Each user's steps run in order and are stored, so a restart resumes at the step it was in and never repeats a finished one:",
      "1. restrict: suspended at once (locked where the homeserver has no suspension); 2. media: what they uploaded is quarantined (before the redaction, which strips the file links); 3. redact: their events in every room this server knows them in, rooms they left included; 4. rooms (--rooms): rooms they created where no other local user is joined are shut down as a wave; 5. deactivate (--deactivate, --erase): only after the redaction has ended.",
      "Warden's own account, the moderators of its allowlist, server admins and protectedUsers are never taken down: the preview names them as left out.",
      "For a remote user only what this server holds is acted on: their events here are redacted, the files their events link to are quarantined, and their rooms here shut down.",
      "The board follows every step; the final message mentions you with each user's outcome.",
    ],
    positionals: [{ name: "user", description: "the users to take down, as full user IDs (several at once)", repeatable: true }],
    flags: [
      { name: "deactivate", kind: "boolean", description: "deactivate the accounts once their events are redacted (cannot be undone)" },
      { name: "erase", kind: "boolean", description: "with --deactivate: also erase them (their messages are hidden from users who join later)" },
      { name: "rooms", kind: "boolean", description: "shut down the rooms they created where no other local user is joined" },
      { name: "quarantine-media", kind: "boolean", description: "quarantine their media (the default; stated for clarity)" },
      { name: "no-quarantine-media", kind: "boolean", description: "leave their media alone" },
      { name: "reason", kind: "text", valueName: "TEXT", description: "why, for the record and in each redaction" },
    ],
    examples: ["!takedown @spammer:example.org", "!takedown @a:example.org @b:example.org --rooms --deactivate --erase --reason spam"],
    parse(words) {
      const users = parseUsers(words.positionals);
      if (!users.ok) return users;
      const flag = (name: string) => words.flags.get(name) === true;
      if (flag("erase") && !flag("deactivate")) return err({ argument: "--erase", expected: "--deactivate as well: only a deactivated account is erased" });
      if (flag("quarantine-media") && flag("no-quarantine-media")) {
        return err({ argument: "--no-quarantine-media", expected: "either --quarantine-media or --no-quarantine-media, not both" });
      }
      const reason = textFlag(words, "reason");
      return ok({
        users: users.value,
        options: {
          deactivate: flag("deactivate"),
          erase: flag("erase"),
          rooms: flag("rooms"),
          quarantineMedia: !flag("no-quarantine-media"),
          ...(reason === undefined ? {} : { reason }),
        },
      });
    },
    execute: (args, context) => executeTakedown(args, context, dependencies),
    confirmation: {
      kind: () => "takedown",
      preview: (args) => previewTakedown(args, dependencies),
    },
  });
}

async function previewTakedown(args: TakedownArguments, dependencies: TakedownDependencies): Promise<Result<Preview, Refusal>> {
  const plan = await makePlan(args, dependencies, true);
  if (!plan.ok) return plan;
  const data: TakedownPreviewData = { users: plan.value.users.map((user) => user.preview), leftOut: plan.value.leftOut, options: args.options };
  const count = plan.value.users.length;
  return ok({ title: `take down ${count} user${count === 1 ? "" : "s"}`, lines: takedownPreviewLines(data) });
}

async function executeTakedown(args: TakedownArguments, context: CommandContext, dependencies: TakedownDependencies): Promise<CommandOutcome> {
  const plan = await makePlan(args, dependencies, false);
  if (!plan.ok) return plan.error;
  const record: TakedownRecord = {
    id: dependencies.takedownStore.newId(),
    requester: context.requester,
    managementRoomId: context.managementRoomId,
    commandEventId: context.commandEventId,
    options: args.options,
    users: plan.value.users.map((user) => user.user),
    leftOut: plan.value.leftOut,
    status: "running",
    createdAt: dependencies.clock.now(),
    finalNotificationSent: false,
  };
  const started = await dependencies.takedowns.start(record);
  return { kind: "takedown-started", record: started };
}

/** Checks the users and, for each one left to act on, fixes the rooms of the redaction and the rooms to shut down. */
async function makePlan(args: TakedownArguments, dependencies: TakedownDependencies, forPreview: boolean): Promise<Result<Plan, Refusal>> {
  const checked = await checkUsers(args.users, dependencies);
  if (!checked.ok) return checked;
  if (checked.value.users.length === 0) {
    const why = checked.value.leftOut.map((user) => `${user.userId} is ${user.why}`).join("; ");
    return err({ kind: "refused", reason: `Nobody to take down: ${why}.` });
  }
  const protectedRooms = await dependencies.targets.protectedRooms.current();
  if (!protectedRooms.ok) return err({ kind: "refused", reason: `Warden will not take anyone down while protectedRooms cannot be read: ${protectedRooms.error}` });
  const users: UserPlan[] = [];
  for (const target of checked.value.users) {
    const user = await planUser(target, args.options, dependencies, protectedRooms.value, forPreview);
    if (!user.ok) return user;
    users.push(user.value);
  }
  return ok({ users, leftOut: checked.value.leftOut });
}

async function planUser(
  target: ActionableUser,
  options: TakedownOptions,
  dependencies: TakedownDependencies,
  protectedRooms: ReadonlySet<RoomId>,
  forPreview: boolean,
): Promise<Result<UserPlan, Refusal>> {
  const { userId } = target;
  const version = dependencies.homeserverVersion.current();
  const notRunning: { step: TakedownUserPlan["notRunning"][number]["step"]; why: string }[] = [];
  const memberships = await roomsOf(userId, dependencies);
  if (!memberships.ok) return memberships;
  if (memberships.value.note !== undefined) notRunning.push({ step: "redact", why: memberships.value.note });
  const covered = memberships.value.rooms.filter(([roomId]) => roomId !== dependencies.targets.managementRoomId);
  const rooms = covered.map(([roomId]) => roomId);
  const joined = covered.filter(([, membership]) => membership === "join").length;
  const ownRooms = options.rooms ? await ownRoomsOf(target, memberships.value.rooms, dependencies, protectedRooms) : { rooms: [], bounded: false };
  if (ownRooms.bounded) notRunning.push({ step: "rooms", why: `only the first ${OWN_ROOM_READS} of their rooms were checked for rooms they created` });
  const skips: Parameters<typeof initialSteps>[0] = {};
  if (target.kind === "remote") {
    skips.restrict = NOT_FOR_REMOTE.restrict;
    if (options.deactivate) skips.deactivate = NOT_FOR_REMOTE.deactivate;
  }
  if (!supports(version, "redact")) skips.redact = needsText("redact", version);
  // The preview names every step the plan skips, besides the limits found above.
  for (const step of TAKEDOWN_STEPS) {
    const why = skips[step];
    if (why !== undefined) notRunning.push({ step, why });
  }
  const user: TakedownUser = { userId, local: target.kind === "local", rooms, ownRooms: ownRooms.rooms, steps: initialSteps(skips) };
  const preview: TakedownUserPlan = {
    userId,
    local: target.kind === "local",
    ...(target.kind === "local" && typeof target.account.displayname === "string" ? { displayName: target.account.displayname } : {}),
    rooms,
    joinedRooms: joined,
    leftRooms: rooms.length - joined,
    ownRooms: ownRooms.rooms,
    notRunning,
    restrictBy: target.kind === "remote" ? "none" : supports(version, "suspend") ? "suspend" : "lock",
    ...(forPreview ? await previewCounts(target, rooms, options, dependencies) : {}),
  };
  return ok({ user, preview });
}

/** The rooms this server knows the user in, with their membership; the management room is never among the redaction's rooms. */
async function roomsOf(userId: UserId, dependencies: TakedownDependencies): Promise<Result<{ rooms: [string, string][]; note?: string }, Refusal>> {
  const version = dependencies.homeserverVersion.current();
  if (supports(version, "userMemberships")) {
    const memberships = await dependencies.admin.userMemberships(userId);
    if (memberships.ok) {
      const rooms = Object.entries(memberships.value.memberships)
        .filter(([, membership]) => REDACTED_MEMBERSHIPS.has(membership))
        .sort(([a], [b]) => a.localeCompare(b));
      return ok({ rooms });
    }
    if (!unsupportedAnswer(memberships.error)) return err({ kind: "refused", reason: `could not read the rooms of ${userId}: ${memberships.error.userMessage}` });
  }
  // An older homeserver lists only the rooms they are joined to now.
  const joined = await dependencies.admin.userJoinedRooms(userId);
  if (!joined.ok) return err({ kind: "refused", reason: `could not read the rooms of ${userId}: ${joined.error.userMessage}` });
  return ok({
    rooms: [...joined.value.joined_rooms].sort().map((roomId): [string, string] => [roomId, "join"]),
    note: `rooms they left are not covered: ${needsText("userMemberships", version)}`,
  });
}

/**
 * Rooms the user created where no other local user is joined: the ones a takedown may shut down
 * without taking a room from anyone else here. Never the management room or a protected room.
 */
async function ownRoomsOf(
  target: ActionableUser,
  memberships: readonly [string, string][],
  dependencies: TakedownDependencies,
  protectedRooms: ReadonlySet<RoomId>,
): Promise<{ rooms: string[]; bounded: boolean }> {
  const rooms: string[] = [];
  const candidates = memberships.filter(([roomId]) => roomId !== dependencies.targets.managementRoomId && !protectedRooms.has(roomId as RoomId));
  for (const [roomId, membership] of candidates.slice(0, OWN_ROOM_READS)) {
    const details = await dependencies.admin.roomDetails(roomId as RoomId);
    if (!details.ok || details.value.creator !== target.userId) continue;
    const themselves = target.kind === "local" && membership === "join" ? 1 : 0;
    if (details.value.joined_local_members - themselves === 0) rooms.push(roomId);
  }
  return { rooms, bounded: candidates.length > OWN_ROOM_READS };
}

/** What the preview counts ahead: their events in the first rooms, and their uploads. */
async function previewCounts(
  target: ActionableUser,
  rooms: readonly string[],
  options: TakedownOptions,
  dependencies: TakedownDependencies,
): Promise<Pick<TakedownUserPlan, "events" | "eventsBounded" | "media">> {
  let events = 0;
  let bounded = rooms.length > COUNTED_ROOMS;
  for (const roomId of rooms.slice(0, COUNTED_ROOMS)) {
    const page = await dependencies.admin.senderMessages(roomId as RoomId, target.userId, { limit: COUNTED_EVENTS_PER_ROOM });
    if (!page.ok) continue;
    const theirs = page.value.chunk.filter((event) => event.sender === target.userId).length;
    events += theirs;
    if (theirs >= COUNTED_EVENTS_PER_ROOM) bounded = true;
  }
  let media: number | undefined;
  if (options.quarantineMedia && target.kind === "local") {
    const uploads = await dependencies.admin.userMedia(target.userId, { limit: 1 });
    if (uploads.ok) media = uploads.value.total;
  }
  return { events, eventsBounded: bounded, ...(media === undefined ? {} : { media }) };
}
