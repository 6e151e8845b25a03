import type { OutgoingMessage } from "../../matrix/chat.js";
import type {
  AccountFacts,
  AddressNotice,
  CreatedRooms,
  DeviceFacts,
  HomeserverReports,
  JoinedRooms,
  LocalUserLook,
  Memberships,
  NextCommand,
  Part,
  RecentActivity,
  RemoteUserLook,
  ReportMention,
  ReportsNamingUser,
  RoomEntry,
  SessionAddress,
  UserAddresses,
  UserMedia,
  UserOutcome,
  UserRooms,
  WardenReports,
} from "../../model/users.js";
import { formatDuration, formatUtc } from "../../util/duration.js";
import { firstEntries, inlineList, moreLine, textLine, type Line, type ListLimits } from "../budget.js";
import { code, escapeHtml, truncate } from "../html.js";
import { plural, sizeText } from "../media/media.js";

/** Matrix IDs are at most 255 bytes; a longer one is cut like any untrusted text. */
const MAX_ID = 255;
/** The joined rooms shown: up to 20 lines, each with a name and an alias chosen by strangers. */
const ROOM_LIMITS: ListLimits = { entries: 20, bytes: 8 * 1024 };
const DEVICE_LIMITS: ListLimits = { entries: 10, bytes: 2 * 1024 };
/** A list of rooms inside one line (rooms left, banned from, created). */
const INLINE_ROOMS: ListLimits = { entries: 10, bytes: 1024 };
/** A homeserver's reason for a failed part, as much of it as a line of the look quotes. */
const WHY_LENGTH = 300;
/** The newest reports of one kind, inside its line: a few, each with a reason cut short. */
const MENTION_LIMITS: ListLimits = { entries: 3, bytes: 1536 };
const NEXT_LIMITS: ListLimits = { entries: 8, bytes: 2 * 1024 };
/** --ips's notice is one list and nothing else. */
const ADDRESS_LIMITS: ListLimits = { entries: 50, bytes: 16 * 1024 };
/** Membership words as Synapse stores them, in the order a moderator reads them, with how to say them. */
const MEMBERSHIP_WORDS: readonly (readonly [string, string])[] = [
  ["join", "joined"],
  ["invite", "invited"],
  ["knock", "knocking"],
  ["leave", "left"],
  ["ban", "banned"],
];

/** Names, reasons, device names: chosen by whoever made them; one line, bounded. */
function untrusted(text: string, max = 80): string {
  return truncate(text.replace(/\s+/g, " ").trim(), max);
}

function id(text: string): string {
  return truncate(text, MAX_ID);
}

function heading(text: string): Line {
  return { plain: text, html: `<b>${escapeHtml(text)}</b>` };
}

function labelled(label: string, value: string): Line {
  return { plain: `${label}: ${value}`, html: `${escapeHtml(label)}: ${escapeHtml(value)}` };
}

function item(line: Line): Line {
  return { plain: `- ${line.plain}`, html: `• ${line.html}` };
}

function join(lines: readonly Line[]): { plain: string; html: string } {
  return { plain: lines.map((line) => line.plain).join("\n"), html: lines.map((line) => line.html).join("<br>\n") };
}

/** A part's text: its value, "could not read: …" or "… needs Synapse X or later". */
function partText<T>(part: Part<T>, show: (value: T) => string): string {
  switch (part.state) {
    case "read":
      return show(part.value);
    case "failed":
      return `could not read: ${untrusted(part.why, WHY_LENGTH)}`;
    case "needs":
      return untrusted(part.text, WHY_LENGTH);
  }
}

function when(at: number, now: number): string {
  return `${formatUtc(at)} (${at <= now ? `${formatDuration(now - at)} ago` : "in the future"})`;
}

function yesNo(value: boolean | undefined): string {
  return value === undefined ? "not reported" : value ? "YES" : "no";
}

function roomTitle(room: RoomEntry): string {
  const name = room.name === undefined ? "" : `"${untrusted(room.name)}" `;
  const alias = room.canonicalAlias === undefined ? "" : `${untrusted(room.canonicalAlias, 120)} `;
  return `${name}${alias}${id(room.roomId)}`;
}

function roomLine(room: RoomEntry): Line {
  const counts =
    room.unread !== undefined
      ? `details not read: ${untrusted(room.unread, 200)}`
      : room.joinedMembers === undefined
        ? "details not read"
        : `${room.joinedMembers} joined${room.joinedLocalMembers === undefined ? "" : ` (${room.joinedLocalMembers} local)`}`;
  return item(textLine(`${roomTitle(room)}: ${counts}`));
}

/** Replies for !user: the look, or that a local user has no account. */
export function renderUser(outcome: UserOutcome, now: number): OutgoingMessage {
  if (outcome.kind === "user-unknown") {
    const text = `${id(outcome.userId)}: no such account on this homeserver.`;
    return { plain: text, html: escapeHtml(text), record: { type: "user-look", user: id(outcome.userId), account: "none" } };
  }
  return outcome.look.kind === "local" ? renderLocal(outcome.look, now) : renderRemote(outcome.look, now);
}

function renderLocal(look: LocalUserLook, now: number): OutgoingMessage {
  const title = heading(`User ${id(look.userId)} (an account of this homeserver)`);
  const account = look.account.state === "read" ? look.account.value : undefined;
  const lines: Line[] = [
    title,
    // An account that could not be read is said once, on its own line.
    ...(account === undefined ? [] : [labelled("Display name", account.displayName === undefined ? "none" : untrusted(account.displayName))]),
    labelled("Account", partText(look.account, flagsText)),
    ...(account === undefined ? [] : timesLines(account, now)),
    ...protectedLines(look.protectedReason),
    ...deviceLines(look.devices, look.addresses, now),
    ...roomLines(look.rooms, "local"),
    labelled(`Last ${Math.round((now - look.activity.since) / 3_600_000)} h`, activityText(look.activity)),
    labelled("Media", partText(look.media, mediaText)),
    ...reportLines(look.reports, now),
    ...nextLines(look.next),
  ];
  return {
    ...join(lines),
    short: { ...join([title, textLine(summary(look.rooms, look.reports, look.media))]) },
    record: record(look),
  };
}

function renderRemote(look: RemoteUserLook, now: number): OutgoingMessage {
  const title = heading(`User ${id(look.userId)} (of another server, ${id(look.server)})`);
  const lines: Line[] = [
    title,
    textLine("This homeserver has no account for them. What it holds of them:"),
    ...protectedLines(look.protectedReason),
    labelled("Rooms shared with local users", partText(look.rooms.joined, sharedText)),
    ...roomLines(look.rooms, "remote"),
    labelled("Their events here", eventsHereText(look)),
    ...reportLines(look.reports, now),
    ...(holdsNothing(look) ? [textLine("This server holds nothing of them: no room, no membership, no report.")] : []),
    ...nextLines(look.next),
  ];
  return {
    ...join(lines),
    short: { ...join([title, textLine(summary(look.rooms, look.reports))]) },
    record: record(look),
  };
}

function flagsText(facts: AccountFacts): string {
  const flags = [
    `admin ${yesNo(facts.admin)}`,
    `deactivated ${yesNo(facts.deactivated)}`,
    `erased ${yesNo(facts.erased)}`,
    `suspended ${yesNo(facts.suspended)}`,
    `locked ${yesNo(facts.locked)}`,
    `shadow-banned ${yesNo(facts.shadowBanned)}`,
    ...(facts.guest === true ? ["guest account"] : []),
    ...(facts.userType === undefined ? [] : [`type ${untrusted(facts.userType, 40)}`]),
    ...(facts.appserviceId === undefined ? [] : [`application service ${untrusted(facts.appserviceId, 80)}`]),
  ];
  return flags.join(" · ");
}

function timesLines(account: AccountFacts, now: number): Line[] {
  return [
    labelled("Created", account.createdAt === undefined ? "not reported" : when(account.createdAt, now)),
    labelled("Last seen", account.lastSeenAt === undefined ? "never (no request recorded)" : when(account.lastSeenAt, now)),
  ];
}

function protectedLines(reason: string | undefined): Line[] {
  return reason === undefined ? [] : [textLine(`Protected: ${untrusted(reason, 200)}; Warden never restricts, deactivates or takes them down.`)];
}

function deviceText(device: DeviceFacts, now: number): Line {
  const name = device.displayName === undefined ? "" : ` "${untrusted(device.displayName, 60)}"`;
  const seen = device.lastSeenAt === undefined ? "never seen" : `last seen ${when(device.lastSeenAt, now)}`;
  return item(textLine(`${untrusted(device.deviceId, 100)}${name}: ${seen}${device.dehydrated === true ? " (dehydrated)" : ""}`));
}

function addressText(addresses: AddressNotice | undefined): string {
  if (addresses === undefined) return "not shown here; --ips posts them in a separate notice while this room is private.";
  if (addresses.kind === "sent") return `posted in a separate notice (${plural(addresses.connections, "connection")}); redact it once read.`;
  return `not posted: ${untrusted(addresses.why, WHY_LENGTH)}.`;
}

function deviceLines(devices: Part<readonly DeviceFacts[]>, addresses: AddressNotice | undefined, now: number): Line[] {
  const after = labelled("Addresses", addressText(addresses));
  if (devices.state !== "read") return [labelled("Devices", partText(devices, () => "")), after];
  if (devices.value.length === 0) return [labelled("Devices", "none"), after];
  const { shown, rest } = firstEntries(devices.value, (device) => deviceText(device, now), DEVICE_LIMITS);
  return [textLine(`Devices (${devices.value.length}):`), ...shown, ...(rest > 0 ? [moreLine(rest)] : []), after];
}

function joinedLines(joined: Part<JoinedRooms>): Line[] {
  if (joined.state !== "read") return [labelled("Joined rooms", partText(joined, () => ""))];
  const { total, shown: entries } = joined.value;
  if (total === 0) return [labelled("Joined rooms", "none")];
  const { shown } = firstEntries(entries, roomLine, ROOM_LIMITS);
  const left = total - shown.length;
  return [textLine(`Joined rooms (${total}):`), ...shown, ...(left > 0 ? [moreLine(left)] : [])];
}

function membershipText(memberships: Memberships): string {
  if (memberships.total === 0) return "none in any room this server is in";
  const counts = MEMBERSHIP_WORDS.flatMap(([key, word]) => {
    const rooms = memberships.rooms[key];
    return rooms === undefined ? [] : [`${word} ${rooms.length}`];
  });
  const other = Object.entries(memberships.rooms).filter(([key]) => !MEMBERSHIP_WORDS.some(([known]) => known === key));
  return [...counts, ...other.map(([key, rooms]) => `${untrusted(key, 20)} ${rooms.length}`)].join(" · ");
}

/** The rooms of a membership other than "join" (those are listed with their members): left, banned from, invited to. */
function membershipRoomLines(memberships: Part<Memberships>): Line[] {
  if (memberships.state !== "read") return [];
  const named: readonly (readonly [string, string])[] = [
    ["leave", "Left"],
    ["ban", "Banned from"],
    ["invite", "Invited to"],
    ["knock", "Knocking at"],
  ];
  return named.flatMap(([key, label]) => {
    const rooms = memberships.value.rooms[key];
    return rooms === undefined || rooms.length === 0 ? [] : [item(labelled(label, inlineList(rooms, INLINE_ROOMS)))];
  });
}

function createdText(created: CreatedRooms): string {
  const among = created.among === "memberships" ? "the rooms of their memberships" : "the rooms they are joined to (their memberships could not be read)";
  const checked = created.checked < created.candidates ? `; only ${created.checked} of those ${created.candidates} rooms were checked` : "";
  const unreadable = created.unreadable === 0 ? "" : `; ${plural(created.unreadable, "room")} could not be read`;
  const found = created.rooms.length === 0 ? "none" : `${created.rooms.length}: ${inlineList(created.rooms.map(roomTitle), INLINE_ROOMS)}`;
  return `${found} (among ${among}${checked}${unreadable})`;
}

function roomLines(rooms: UserRooms, whose: "local" | "remote"): Line[] {
  return [
    ...joinedLines(rooms.joined),
    labelled(whose === "local" ? "Memberships (every room this server is in)" : "Memberships here", partText(rooms.memberships, membershipText)),
    ...membershipRoomLines(rooms.memberships),
    labelled("Rooms they created", partText(rooms.created, createdText)),
  ];
}

function activityText(activity: RecentActivity): string {
  const { invitesSent, roomsJoined } = activity;
  // Both counts arrived in the same Synapse release: one sentence when both need it.
  if (invitesSent.state === "needs" && roomsJoined.state === "needs") return partText(invitesSent, String);
  return `invites sent: ${partText(invitesSent, String)} · rooms joined (counting rooms left again): ${partText(roomsJoined, String)}`;
}

function mediaText(media: UserMedia): string {
  if (media.files === 0) return "no uploads";
  // A homeserver's error text has no length limit; the look has a dozen lines that may quote one.
  const size = media.size.read ? sizeText(media.size) : `total size unknown: ${untrusted(media.size.why, WHY_LENGTH)}`;
  return `${plural(media.files, "file")}, ${size}`;
}

function mentionText(report: ReportMention, now: number): string {
  const state = report.state === undefined ? "" : ` (${report.state})`;
  const where = report.roomId === undefined ? "" : ` in ${id(report.roomId)}`;
  const by = report.reporter === undefined ? "" : ` by ${id(report.reporter)}`;
  const reason = report.reason === undefined ? "" : `: "${untrusted(report.reason)}"`;
  // Warden's numbers are what !report takes; the homeserver's are its own and may differ.
  const number = report.state === undefined ? `id ${report.id}` : `report ${report.id}`;
  return `${number}${state} ${when(report.receivedTs, now)}${where}${by}${reason}`;
}

function newestText(newest: readonly ReportMention[], total: number, now: number): string {
  if (newest.length === 0) return "";
  const shown = Math.min(newest.length, MENTION_LIMITS.entries);
  return `; newest${total > shown ? ` ${shown}` : ""}: ${inlineList(newest.map((report) => mentionText(report, now)), MENTION_LIMITS, "; ")}`;
}

function wardenText(reports: WardenReports, now: number): string {
  const counted = reports.aboutThem + reports.byThem;
  const bounded = reports.boundedAt === undefined ? "" : ` (counted in its newest ${reports.boundedAt})`;
  return `${reports.aboutThem} about their events (${reports.openAboutThem} open), ${reports.byThem} made by them${bounded}${newestText(reports.newest, counted, now)}`;
}

function homeserverText(reports: HomeserverReports, now: number): string {
  return `${reports.total}${newestText(reports.newest, reports.total, now)}`;
}

function reportLines(reports: ReportsNamingUser, now: number): Line[] {
  return [
    textLine("Reports naming them:"),
    item(labelled("Warden's", partText(reports.warden, (value) => wardenText(value, now)))),
    item(labelled("The homeserver's event reports about their events", partText(reports.events, (value) => homeserverText(value, now)))),
    item(labelled("The homeserver's reports about the user", partText(reports.user, (value) => homeserverText(value, now)))),
  ];
}

function nextLines(next: readonly NextCommand[]): Line[] {
  if (next.length === 0) return [];
  const { shown, rest } = firstEntries(next, nextLine, NEXT_LIMITS);
  return [textLine("Next:"), ...shown, ...(rest > 0 ? [moreLine(rest)] : [])];
}

function nextLine(entry: NextCommand): Line {
  const command = truncate(entry.command, 300);
  const what = untrusted(entry.what, 120);
  return { plain: `- ${command}: ${what}`, html: `• ${code(command)}: ${escapeHtml(what)}` };
}

function sharedText(joined: JoinedRooms): string {
  const checked = joined.checked < joined.total ? ` (of the ${joined.checked} of their ${joined.total} joined rooms whose details were read)` : ` (of the ${plural(joined.total, "room")} they are joined to here)`;
  return `${joined.withLocalMembers}${checked}`;
}

function eventsHereText(look: RemoteUserLook): string {
  const memberships = partText(look.rooms.memberships, (value) => `a membership event in each of ${plural(value.total, "room")}`);
  const reported = partText(look.reports.events, (value) => `${value.total} of their events reported`);
  return `${memberships}; ${reported}. Their messages are not counted: that would read whole room histories.`;
}

function holdsNothing(look: RemoteUserLook): boolean {
  const { joined, memberships } = look.rooms;
  const zero = (part: Part<{ total: number }>) => part.state === "read" && part.value.total === 0;
  const warden = look.reports.warden;
  return (
    zero(joined) &&
    (memberships.state !== "read" || memberships.value.total === 0) &&
    zero(look.reports.events) &&
    (look.reports.user.state !== "read" || look.reports.user.value.total === 0) &&
    warden.state === "read" &&
    warden.value.aboutThem + warden.value.byThem === 0
  );
}

function count<T>(part: Part<T>, value: (read: T) => number): number | undefined {
  return part.state === "read" ? value(part.value) : undefined;
}

function summary(rooms: UserRooms, reports: ReportsNamingUser, media?: Part<UserMedia>): string {
  const known = (label: string, value: number | undefined) => `${label} ${value === undefined ? "?" : value}`;
  return [
    known("joined rooms", count(rooms.joined, (joined) => joined.total)),
    known("rooms created", count(rooms.created, (created) => created.rooms.length)),
    ...(media === undefined ? [] : [known("uploads", count(media, (value) => value.files))]),
    known("event reports", count(reports.events, (events) => events.total)),
    known("user reports", count(reports.user, (user) => user.total)),
  ].join(" · ");
}

/** The look's counts, for the audit export: never an address. */
function record(look: LocalUserLook | RemoteUserLook): Record<string, unknown> {
  return {
    type: "user-look",
    user: id(look.userId),
    local: look.kind === "local",
    joined_rooms: count(look.rooms.joined, (joined) => joined.total) ?? null,
    memberships: count(look.rooms.memberships, (memberships) => memberships.total) ?? null,
    rooms_created: count(look.rooms.created, (created) => created.rooms.length) ?? null,
    event_reports: count(look.reports.events, (events) => events.total) ?? null,
    user_reports: count(look.reports.user, (user) => user.total) ?? null,
    ...(look.kind === "local"
      ? { uploads: count(look.media, (media) => media.files) ?? null, addresses_posted: look.addresses?.kind === "sent" }
      : {}),
  };
}

function connectionLine(connection: SessionAddress, now: number): Line {
  const seen = connection.lastSeenAt === undefined ? "" : ` · last seen ${when(connection.lastSeenAt, now)}`;
  const agent = connection.userAgent === undefined ? "" : ` · ${untrusted(connection.userAgent, 120)}`;
  // Synapse files a session whose token has no device (an admin-issued token, say) under "".
  const device = connection.deviceId === "" ? "(no device ID)" : untrusted(connection.deviceId, 100);
  return item(textLine(`${device}: ${untrusted(connection.ip ?? "no address recorded", 60)}${seen}${agent}`));
}

/**
 * --ips's notice: the addresses of the user's sessions, for the moderator who asked. Its record
 * counts them and names no address, so an export of the room's records holds none.
 */
export function renderUserAddresses(addresses: UserAddresses, now: number): OutgoingMessage {
  const title = heading(`Addresses of ${id(addresses.userId)}'s sessions, for ${id(addresses.requester)} (this room is private; redact this notice once read):`);
  const { shown, rest } = firstEntries(addresses.connections, (connection) => connectionLine(connection, now), ADDRESS_LIMITS);
  return {
    ...join([title, ...shown, ...(rest > 0 ? [moreLine(rest)] : [])]),
    record: { type: "user-addresses", user: id(addresses.userId), requester: id(addresses.requester), connections: addresses.connections.length },
  };
}
