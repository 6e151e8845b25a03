import pLimit from "p-limit";
import type { Logger } from "pino";
import { protectedUserReason, type UserSafetyRules } from "../../access/userSafety.js";
import { serverNameOf, type RoomId, type UserId } from "../../matrix/ids.js";
import type { MediaSize } from "../../model/media.js";
import type { StoredEventReport } from "../../model/reports.js";
import type {
  AccountFacts,
  CreatedRooms,
  DeviceFacts,
  HomeserverReports,
  JoinedRooms,
  Memberships,
  NextCommand,
  Part,
  RecentActivity,
  ReportMention,
  ReportsNamingUser,
  RoomEntry,
  UserMedia,
  UserOutcome,
  UserRooms,
  WardenReports,
} from "../../model/users.js";
import type { ReportDesk } from "../../reports/desk.js";
import type { AdminError, RoomDetailsBody, SynapseAdminClient, UserAccountBody } from "../../synapse/adminClient.js";
import { needsText, supports, unsupportedAnswer, type Feature, type HomeserverVersion } from "../../synapse/features.js";
import type { Clock } from "../../util/clock.js";
import type { Result } from "../../util/result.js";
import { USER_MEDIA_PAGE } from "../media/files.js";
import { SIZE_READS } from "../media/look.js";

/** The admin calls a look makes; every one of them only reads. */
export type UserLookAdmin = Pick<
  SynapseAdminClient,
  | "userAccount"
  | "userDevices"
  | "userJoinedRooms"
  | "userMemberships"
  | "roomDetails"
  | "sentInviteCount"
  | "cumulativeJoinedRoomCount"
  | "userMedia"
  | "eventReports"
  | "userReports"
>;

export interface UserLookDependencies {
  readonly admin: UserLookAdmin;
  readonly homeserverVersion: HomeserverVersion;
  /** This homeserver's name: its users have accounts here, everyone else is remote. */
  readonly serverName: string;
  readonly clock: Clock;
  readonly userSafety: UserSafetyRules;
  /** Warden's own record of the event reports it took (the smallest part of the desk: its list). */
  readonly reportDesk: Pick<ReportDesk, "list">;
  readonly log: Logger;
}

/** Joined rooms listed with their member counts; the rest are counted. */
export const ROOMS_SHOWN = 20;
/**
 * Room details read at most per look: the joined rooms shown, then the rooms of the user's
 * memberships (to find the ones they created). The admin room list has no creator filter, and a
 * user in thousands of rooms must not cost thousands of requests.
 */
export const ROOM_DETAIL_READS = 100;
/** The newest reports of each kind a look names; the rest are counted. */
export const REPORTS_SHOWN = 3;
/** Warden's reports naming the user that are counted at most (from its own database, newest first). */
export const WARDEN_REPORT_READS = 1_000;
const WARDEN_REPORT_PAGE = 200;
/** "Recent" activity: the last day. */
export const RECENT_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Room detail reads at once: each is a small query on the homeserver. */
const DETAIL_READS_PARALLEL = 4;

function read<T>(value: T): Part<T> {
  return { state: "read", value };
}

function failed<T>(error: AdminError): Part<T> {
  return { state: "failed", why: error.userMessage };
}

/**
 * A read on an endpoint newer than some Synapse Warden supports: "needs Synapse X or later" when
 * the known version is older or when the homeserver answers that it has no such endpoint.
 */
async function gated<T, R>(feature: Feature, version: HomeserverVersion, call: () => Promise<Result<T, AdminError>>, shape: (value: T) => R): Promise<Part<R>> {
  const current = version.current();
  if (!supports(current, feature)) return { state: "needs", text: needsText(feature, current) };
  const result = await call();
  if (result.ok) return read(shape(result.value));
  if (unsupportedAnswer(result.error)) return { state: "needs", text: needsText(feature, current) };
  return failed(result.error);
}

/** !user <user>: what the homeserver (and Warden) knows of the user. Reads only. */
export async function lookAtUser(userId: UserId, dependencies: UserLookDependencies, prefix: string): Promise<UserOutcome> {
  const { admin, serverName } = dependencies;
  const server = serverNameOf(userId);
  if (server !== serverName) {
    const [rooms, reports] = await Promise.all([readRooms(userId, dependencies), readReports(userId, dependencies)]);
    const protectedReason = protectedUserReason(userId, dependencies.userSafety, false);
    return {
      kind: "user-look",
      look: {
        kind: "remote",
        userId,
        server,
        ...(protectedReason === undefined ? {} : { protectedReason }),
        rooms,
        reports,
        next: remoteNext(userId, protectedReason, reports, prefix),
      },
    };
  }
  // The account first: without one there is nothing else to read (Synapse keeps every account
  // it ever registered, deactivated or not).
  const account = await admin.userAccount(userId);
  if (!account.ok && account.error.kind === "not-found" && account.error.errcode !== "M_UNRECOGNIZED") return { kind: "user-unknown", userId };
  const accountPart: Part<AccountFacts> = account.ok ? read(accountFacts(account.value)) : failed(account.error);
  const [devices, rooms, activity, media, reports] = await Promise.all([
    readDevices(userId, admin),
    readRooms(userId, dependencies),
    readActivity(userId, dependencies),
    readMedia(userId, admin),
    readReports(userId, dependencies),
  ]);
  const facts = accountPart.state === "read" ? accountPart.value : undefined;
  const protectedReason = protectedUserReason(userId, dependencies.userSafety, facts?.admin === true);
  return {
    kind: "user-look",
    look: {
      kind: "local",
      userId,
      account: accountPart,
      ...(protectedReason === undefined ? {} : { protectedReason }),
      devices,
      rooms,
      activity,
      media,
      reports,
      next: localNext(userId, protectedReason, facts, reports, prefix),
    },
  };
}

/** Synapse's users table keeps the creation time in seconds; a value already in ms is kept as it is. */
function creationMs(value: number): number {
  return value < 100_000_000_000 ? value * 1000 : value;
}

function accountFacts(body: UserAccountBody): AccountFacts {
  return {
    ...(body.displayname === null || body.displayname === undefined || body.displayname === "" ? {} : { displayName: body.displayname }),
    ...flag("admin", body.admin),
    ...flag("deactivated", body.deactivated),
    ...flag("erased", body.erased),
    ...flag("suspended", body.suspended),
    ...flag("locked", body.locked),
    ...flag("shadowBanned", body.shadow_banned),
    ...flag("guest", body.is_guest),
    ...(body.creation_ts === null || body.creation_ts === undefined ? {} : { createdAt: creationMs(body.creation_ts) }),
    ...(body.last_seen_ts === null || body.last_seen_ts === undefined ? {} : { lastSeenAt: body.last_seen_ts }),
    ...(body.user_type === null || body.user_type === undefined ? {} : { userType: body.user_type }),
    ...(body.appservice_id === null || body.appservice_id === undefined ? {} : { appserviceId: body.appservice_id }),
  };
}

function flag<K extends string>(key: K, value: boolean | null | undefined): { [P in K]?: boolean } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: boolean };
}

async function readDevices(userId: UserId, admin: UserLookAdmin): Promise<Part<readonly DeviceFacts[]>> {
  const result = await admin.userDevices(userId);
  if (!result.ok) return failed(result.error);
  const devices = result.value.devices.map(
    (device): DeviceFacts => ({
      deviceId: device.device_id,
      ...(device.display_name === null || device.display_name === undefined || device.display_name === "" ? {} : { displayName: device.display_name }),
      ...(device.last_seen_ts === null || device.last_seen_ts === undefined ? {} : { lastSeenAt: device.last_seen_ts }),
      ...(device.dehydrated === true ? { dehydrated: true } : {}),
    }),
  );
  // Most recently seen first: the device in use is what a moderator looks for.
  return read([...devices].sort((a, b) => (b.lastSeenAt ?? -1) - (a.lastSeenAt ?? -1) || a.deviceId.localeCompare(b.deviceId)));
}

function roomEntry(roomId: string, details: Result<RoomDetailsBody, AdminError> | undefined): RoomEntry {
  if (details === undefined) return { roomId };
  if (!details.ok) return { roomId, unread: details.error.userMessage };
  const room = details.value;
  return {
    roomId,
    ...(room.name === null || room.name === undefined || room.name === "" ? {} : { name: room.name }),
    ...(room.canonical_alias === null || room.canonical_alias === undefined ? {} : { canonicalAlias: room.canonical_alias }),
    joinedMembers: room.joined_members,
    joinedLocalMembers: room.joined_local_members,
  };
}

function groupMemberships(memberships: Record<string, string>): Memberships {
  const rooms: Record<string, string[]> = {};
  for (const [roomId, membership] of Object.entries(memberships)) (rooms[membership] ??= []).push(roomId);
  for (const list of Object.values(rooms)) list.sort();
  return { rooms, total: Object.keys(memberships).length };
}

/**
 * The rooms the user is joined to (the first ones with their member counts), their membership
 * everywhere this server is, and which of those rooms they created. Room details are read for at
 * most ROOM_DETAIL_READS rooms: the ones shown first, then the others of their memberships.
 */
async function readRooms(userId: UserId, dependencies: UserLookDependencies): Promise<UserRooms> {
  const { admin, homeserverVersion } = dependencies;
  const [joinedResult, memberships] = await Promise.all([
    admin.userJoinedRooms(userId),
    gated("userMemberships", homeserverVersion, () => admin.userMemberships(userId), (body) => groupMemberships(body.memberships)),
  ]);
  const joinedIds = joinedResult.ok ? [...joinedResult.value.joined_rooms].sort() : [];
  const candidates = memberships.state === "read" ? Object.values(memberships.value.rooms).flat().sort() : joinedIds;
  const toRead = [...new Set([...joinedIds.slice(0, ROOMS_SHOWN), ...candidates, ...joinedIds])].slice(0, ROOM_DETAIL_READS);
  const limit = pLimit(DETAIL_READS_PARALLEL);
  // The homeserver's own room IDs, as its membership lists gave them.
  const details = new Map(await Promise.all(toRead.map((roomId) => limit(async () => [roomId, await admin.roomDetails(roomId as RoomId)] as const))));

  let joined: Part<JoinedRooms>;
  if (joinedResult.ok) {
    const readJoined = joinedIds.flatMap((roomId) => {
      const entry = details.get(roomId);
      return entry?.ok === true ? [entry.value] : [];
    });
    joined = read({
      total: joinedIds.length,
      shown: joinedIds.slice(0, ROOMS_SHOWN).map((roomId) => roomEntry(roomId, details.get(roomId))),
      withLocalMembers: readJoined.filter((room) => room.joined_local_members > 0).length,
      checked: readJoined.length,
    });
  } else {
    joined = failed(joinedResult.error);
  }

  let created: Part<CreatedRooms>;
  if (memberships.state !== "read" && !joinedResult.ok) {
    created = { state: "failed", why: "neither their memberships nor their joined rooms could be read" };
  } else {
    const checked = candidates.filter((roomId) => details.has(roomId));
    created = read({
      rooms: checked.filter((roomId) => {
        const entry = details.get(roomId);
        return entry?.ok === true && entry.value.creator === userId;
      }).map((roomId) => roomEntry(roomId, details.get(roomId))),
      among: memberships.state === "read" ? "memberships" : "joined rooms",
      candidates: candidates.length,
      checked: checked.length,
      unreadable: checked.filter((roomId) => details.get(roomId)?.ok === false).length,
    });
  }
  return { joined, memberships, created };
}

async function readActivity(userId: UserId, dependencies: UserLookDependencies): Promise<RecentActivity> {
  const { admin, homeserverVersion } = dependencies;
  const since = dependencies.clock.now() - RECENT_WINDOW_MS;
  const [invitesSent, roomsJoined] = await Promise.all([
    gated("userActivityCounts", homeserverVersion, () => admin.sentInviteCount(userId, since), (body) => body.invite_count),
    gated("userActivityCounts", homeserverVersion, () => admin.cumulativeJoinedRoomCount(userId, since), (body) => body.cumulative_joined_room_count),
  ]);
  return { since, invitesSent, roomsJoined };
}

/** How many files the user uploaded, and their size: the newest SIZE_READS at most, as !media adds them up. */
async function readMedia(userId: UserId, admin: UserLookAdmin): Promise<Part<UserMedia>> {
  const first = await admin.userMedia(userId, { from: 0, limit: USER_MEDIA_PAGE });
  if (!first.ok) return failed(first.error);
  const files = first.value.total;
  const sizes = first.value.media.map((item) => item.media_length);
  let next = first.value.next_token;
  let size: MediaSize | undefined;
  while (sizes.length < Math.min(files, SIZE_READS) && next !== undefined && next !== null) {
    const more = await admin.userMedia(userId, { from: next, limit: Math.min(USER_MEDIA_PAGE, SIZE_READS - sizes.length) });
    if (!more.ok) {
      size = { read: false, why: more.error.userMessage };
      break;
    }
    if (more.value.media.length === 0) break;
    sizes.push(...more.value.media.map((item) => item.media_length));
    next = more.value.next_token;
  }
  size ??= {
    read: true,
    bytes: sizes.reduce<number>((sum, bytes) => sum + (bytes ?? 0), 0),
    unknown: sizes.filter((bytes) => bytes === null || bytes === undefined).length,
    ...(files > SIZE_READS ? { boundedAt: SIZE_READS } : {}),
  };
  return read({ files, size });
}

async function readReports(userId: UserId, dependencies: UserLookDependencies): Promise<ReportsNamingUser> {
  const { admin, homeserverVersion } = dependencies;
  const [events, user] = await Promise.all([
    admin.eventReports({ eventSender: userId, limit: REPORTS_SHOWN }),
    gated(
      "userReports",
      homeserverVersion,
      () => admin.userReports({ target: userId, limit: REPORTS_SHOWN }),
      (body): HomeserverReports => ({
        total: body.total,
        newest: body.user_reports.map((report) => mention(report.id, report.received_ts, undefined, report.user_id, report.reason)),
      }),
    ),
  ]);
  return {
    warden: readWardenReports(userId, dependencies),
    events: events.ok
      ? read({ total: events.value.total, newest: events.value.event_reports.map((report) => mention(report.id, report.received_ts, report.room_id, report.user_id, report.reason)) })
      : failed(events.error),
    user,
  };
}

function mention(id: number, receivedTs: number, roomId: string | undefined, reporter: string, reason: string | null | undefined): ReportMention {
  return { id, receivedTs, ...(roomId === undefined ? {} : { roomId }), reporter, ...(reason === null || reason === undefined || reason === "" ? {} : { reason }) };
}

/**
 * Warden's reports whose sender or reporter is the user, newest first, from its own database.
 * A database that cannot be read costs this line only; the log has the error.
 */
function readWardenReports(userId: UserId, dependencies: UserLookDependencies): Part<WardenReports> {
  try {
    const seen: StoredEventReport[] = [];
    let total = 0;
    do {
      // Event reports: the homeserver's reports about the user are their own line (reports.user).
      const page = dependencies.reportDesk.list({ includeResolved: true, kind: "event", user: userId }, seen.length, WARDEN_REPORT_PAGE);
      total = page.total;
      if (page.reports.length === 0) break;
      seen.push(...page.reports.filter((report): report is StoredEventReport => report.kind === "event"));
    } while (seen.length < Math.min(total, WARDEN_REPORT_READS));
    const about = seen.filter((report) => report.sender === userId);
    return read({
      aboutThem: about.length,
      openAboutThem: about.filter((report) => report.state !== "resolved").length,
      byThem: seen.filter((report) => report.reporter === userId).length,
      newest: seen.slice(0, REPORTS_SHOWN).map((report) => ({ ...mention(report.id, report.receivedTs, report.roomId, report.reporter, report.reason), state: report.state })),
      ...(total > seen.length ? { boundedAt: seen.length } : {}),
    });
  } catch (error) {
    dependencies.log.error({ err: error, userId }, "could not read Warden's reports for a user look");
    return { state: "failed", why: "Warden's own database could not be read (the log has the error)" };
  }
}

function wardenAbout(reports: ReportsNamingUser): number {
  return reports.warden.state === "read" ? reports.warden.value.aboutThem + reports.warden.value.byThem : 0;
}

function localNext(userId: UserId, protectedReason: string | undefined, account: AccountFacts | undefined, reports: ReportsNamingUser, prefix: string): NextCommand[] {
  const media: NextCommand = { command: `${prefix}media ${userId}`, what: "their uploads, page by page" };
  const listed: NextCommand[] = wardenAbout(reports) > 0 ? [{ command: `${prefix}reports --all --user ${userId}`, what: "Warden's reports naming them" }] : [];
  // Nothing that restricts or removes is offered for someone Warden never acts on.
  if (protectedReason !== undefined) return [media, ...listed];
  return [
    ...(account?.deactivated === true ? [] : [{ command: `${prefix}suspend ${userId}`, what: "they can still read, but not send, join or invite" }]),
    { command: `${prefix}redact ${userId}`, what: "remove their messages in the rooms they are joined to or banned from" },
    { command: `${prefix}quarantine ${userId}`, what: "stop serving their uploads" },
    { command: `${prefix}takedown ${userId}`, what: "the whole response to an abusive account, step by step, after a preview" },
    media,
    ...listed,
  ];
}

function remoteNext(userId: UserId, protectedReason: string | undefined, reports: ReportsNamingUser, prefix: string): NextCommand[] {
  const listed: NextCommand[] = wardenAbout(reports) > 0 ? [{ command: `${prefix}reports --all --user ${userId}`, what: "Warden's reports naming them" }] : [];
  if (protectedReason !== undefined) return listed;
  return [{ command: `${prefix}redact ${userId}`, what: "remove their messages in this server's rooms they are joined to or banned from" }, ...listed];
}
