import { describe, expect, it } from "vitest";
import type { Command } from "../../../../src/commands/spec.js";
import { userCommand } from "../../../../src/commands/users/user.js";
import { RECENT_WINDOW_MS, ROOM_DETAIL_READS, ROOMS_SHOWN } from "../../../../src/commands/users/userLook.js";
import { SIZE_READS } from "../../../../src/commands/media/look.js";
import { answerTransactionId } from "../../../../src/matrix/chat.js";
import type { UserId } from "../../../../src/matrix/ids.js";
import type { StoredEventReport } from "../../../../src/model/reports.js";
import type { CommandOutcome } from "../../../../src/model/outcomes.js";
import type { LocalUserLook, RemoteUserLook } from "../../../../src/model/users.js";
import { renderOutcome } from "../../../../src/render/replies.js";
import { commandFakes, MANAGEMENT_ROOM, type CommandFakes } from "../../../fakes/commandDependencies.js";
import { adminError } from "../../../fakes/fakeAdmin.js";
import { FIXED_NOW } from "../../../fakes/fixedClock.js";
import { MemoryLogger } from "../../../fakes/memoryLogger.js";
import { CONTEXT, parseProblem, REQUESTER, runCommand } from "../../../fakes/runCommand.js";

const SPAMMER = "@spammer:example.org";
const REMOTE = "@raider:elsewhere.example";
const ADDRESS = "203.0.113.77";

function setup(): { fakes: CommandFakes; user: Command; logger: MemoryLogger } {
  const fakes = commandFakes();
  const logger = new MemoryLogger();
  return { fakes, user: userCommand({ ...fakes.dependencies, log: logger.log }), logger };
}

function reply(outcome: CommandOutcome): string {
  return renderOutcome(outcome, "!", FIXED_NOW)?.plain ?? "";
}

function html(outcome: CommandOutcome): string {
  return renderOutcome(outcome, "!", FIXED_NOW)?.html ?? "";
}

function local(outcome: CommandOutcome): LocalUserLook {
  if (outcome.kind !== "user-look" || outcome.look.kind !== "local") throw new Error(`not a local look: ${JSON.stringify(outcome)}`);
  return outcome.look;
}

function remote(outcome: CommandOutcome): RemoteUserLook {
  if (outcome.kind !== "user-look" || outcome.look.kind !== "remote") throw new Error(`not a remote look: ${JSON.stringify(outcome)}`);
  return outcome.look;
}

function stored(id: number, overrides: Partial<StoredEventReport>): StoredEventReport {
  return {
    kind: "event",
    id,
    homeserverId: id,
    receivedTs: FIXED_NOW - (4 - id) * 60_000,
    roomId: "!spam:example.org",
    eventId: `$event${id}`,
    reporter: "@reporter:example.org",
    sender: SPAMMER,
    reason: "spam",
    state: "open",
    changedAt: FIXED_NOW,
    deletedOnHomeserver: false,
    ...overrides,
  };
}

/** A spammer with an account, two devices, rooms joined, left and banned from, one room created, uploads and reports. */
function spammerWithHistory(fakes: CommandFakes): void {
  const { admin } = fakes;
  admin.addAccount(SPAMMER, { displayname: "Cheap Pills", creation_ts: Math.floor((FIXED_NOW - 3 * 86_400_000) / 1000), last_seen_ts: FIXED_NOW - 120_000, shadow_banned: true });
  admin.devices.set(SPAMMER, [
    { device_id: "OLDPHONE", last_seen_ts: FIXED_NOW - 86_400_000, display_name: "Phone" },
    { device_id: "NEVER", last_seen_ts: null },
    { device_id: "LAPTOP", last_seen_ts: FIXED_NOW - 120_000, display_name: "Element Desktop", last_seen_ip: ADDRESS },
  ]);
  admin.sessions.set(SPAMMER, { LAPTOP: { sessions: [{ connections: [{ ip: ADDRESS, last_seen: FIXED_NOW - 120_000, user_agent: "Mozilla/5.0" }] }] } });
  admin.addRoom("!spam:example.org", "Cheap pills", 40, 2);
  admin.rooms.set("!spam:example.org", { ...(admin.rooms.get("!spam:example.org") ?? { room_id: "", joined_members: 0, joined_local_members: 0 }), creator: SPAMMER, canonical_alias: "#pills:example.org" });
  admin.addRoom("!lobby:example.org", "Lobby", 300, 120);
  admin.addRoom("!left:example.org", "Left behind", 5, 5);
  admin.addRoom("!banned:example.org", "Strict", 9, 9);
  admin.memberships.set(SPAMMER, { "!spam:example.org": "join", "!lobby:example.org": "join", "!left:example.org": "leave", "!banned:example.org": "ban" });
  admin.activity.set(SPAMMER, { invites: 42, joins: 7 });
  admin.upload(SPAMMER, { bytes: 1000 });
  admin.upload(SPAMMER, { bytes: 3000 });
  admin.addReport({ room_id: "!spam:example.org", event_id: "$pills", received_ts: FIXED_NOW - 3_600_000, sender: SPAMMER, user_id: "@alice:example.org", reason: "pills again" });
  admin.addReport({ room_id: "!lobby:example.org", event_id: "$other", received_ts: FIXED_NOW - 7_200_000, sender: "@someone:example.org" });
  admin.userReportList.push({ id: 9, received_ts: FIXED_NOW - 600_000, target_user_id: SPAMMER, user_id: "@bob:example.org", reason: "harassment" });
  fakes.reports.seed([
    stored(1, { state: "resolved", resolution: "done" }),
    stored(2, {}),
    stored(3, { sender: "@victim:example.org", reporter: SPAMMER, reason: "retaliation" }),
  ]);
}

describe("!user <local user>", () => {
  it("gathers the account, devices, rooms, memberships, created rooms, 24-hour counts, media and reports into one look", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);

    const look = local(await runCommand(user, SPAMMER));

    expect(look.account).toMatchObject({
      state: "read",
      value: { displayName: "Cheap Pills", admin: false, shadowBanned: true, createdAt: Math.floor((FIXED_NOW - 3 * 86_400_000) / 1000) * 1000, lastSeenAt: FIXED_NOW - 120_000 },
    });
    // Most recently seen first; a device never seen last.
    expect(look.devices.state === "read" && look.devices.value.map((device) => device.deviceId)).toEqual(["LAPTOP", "OLDPHONE", "NEVER"]);
    expect(look.rooms.joined).toEqual({
      state: "read",
      value: {
        total: 2,
        shown: [
          { roomId: "!lobby:example.org", name: "Lobby", joinedMembers: 300, joinedLocalMembers: 120 },
          { roomId: "!spam:example.org", name: "Cheap pills", canonicalAlias: "#pills:example.org", joinedMembers: 40, joinedLocalMembers: 2 },
        ],
        withLocalMembers: 2,
        checked: 2,
      },
    });
    expect(look.rooms.memberships).toEqual({
      state: "read",
      value: { rooms: { join: ["!lobby:example.org", "!spam:example.org"], leave: ["!left:example.org"], ban: ["!banned:example.org"] }, total: 4 },
    });
    expect(look.rooms.created).toMatchObject({ state: "read", value: { rooms: [{ roomId: "!spam:example.org" }], among: "memberships", candidates: 4, checked: 4, unreadable: 0 } });
    expect(look.activity).toEqual({ since: FIXED_NOW - RECENT_WINDOW_MS, invitesSent: { state: "read", value: 42 }, roomsJoined: { state: "read", value: 7 } });
    expect(fakes.admin.userCalls.filter((call) => call.method === "sentInviteCount" || call.method === "cumulativeJoinedRoomCount")).toEqual([
      { method: "sentInviteCount", userId: SPAMMER, fromTs: FIXED_NOW - RECENT_WINDOW_MS },
      { method: "cumulativeJoinedRoomCount", userId: SPAMMER, fromTs: FIXED_NOW - RECENT_WINDOW_MS },
    ]);
    expect(look.media).toEqual({ state: "read", value: { files: 2, size: { read: true, bytes: 4000, unknown: 0 } } });
    expect(look.reports.warden).toMatchObject({ state: "read", value: { aboutThem: 2, openAboutThem: 1, byThem: 1 } });
    expect(look.reports.events).toMatchObject({ state: "read", value: { total: 1, newest: [{ roomId: "!spam:example.org", reporter: "@alice:example.org", reason: "pills again" }] } });
    expect(look.reports.user).toMatchObject({ state: "read", value: { total: 1, newest: [{ id: 9, reporter: "@bob:example.org", reason: "harassment" }] } });
    // Nothing was changed and no session address was asked for.
    expect(fakes.admin.userCalls.map((call) => call.method)).not.toContain("whois");
    expect(fakes.admin.userCalls.map((call) => call.method)).not.toContain("startRedact");
  });

  it("renders it in one message with the ready commands, and never an address", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);

    const outcome = await runCommand(user, SPAMMER);
    const text = reply(outcome);

    expect(text).toContain(`User ${SPAMMER} (an account of this homeserver)`);
    expect(text).toContain("Display name: Cheap Pills");
    expect(text).toContain("Account: admin no · deactivated no · erased no · suspended no · locked no · shadow-banned YES");
    expect(text).toContain("Created: 2025-01-12 12:00:00 UTC (3 d ago)");
    expect(text).toContain("Last seen: 2025-01-15 11:58:00 UTC (2 min ago)");
    expect(text).toContain('- LAPTOP "Element Desktop": last seen 2025-01-15 11:58:00 UTC (2 min ago)');
    expect(text).toContain("- NEVER: never seen");
    expect(text).toContain("Addresses: not shown here; --ips posts them in a separate notice while this room is private.");
    expect(text).toContain('- "Cheap pills" #pills:example.org !spam:example.org: 40 joined (2 local)');
    expect(text).toContain("Memberships (every room this server is in): joined 2 · left 1 · banned 1");
    expect(text).toContain("- Left: !left:example.org");
    expect(text).toContain("- Banned from: !banned:example.org");
    expect(text).toContain('Rooms they created: 1: "Cheap pills" #pills:example.org !spam:example.org (among the rooms of their memberships)');
    expect(text).toContain("Last 24 h: invites sent: 42 · rooms joined (counting rooms left again): 7");
    expect(text).toContain("Media: 2 files, 3.9 KiB");
    expect(text).toContain(
      '- Warden\'s: 2 about their events (1 open), 1 made by them; newest: report 3 (open) 2025-01-15 11:59:00 UTC (1 min ago) in !spam:example.org by @spammer:example.org: "retaliation"; report 2 (open) ',
    );
    expect(text).toContain('- The homeserver\'s event reports about their events: 1; newest: id 1 2025-01-15 11:00:00 UTC (1 h ago) in !spam:example.org by @alice:example.org: "pills again"');
    expect(text).toContain('- The homeserver\'s reports about the user: 1; newest: id 9 2025-01-15 11:50:00 UTC (10 min ago) by @bob:example.org: "harassment"');
    expect(text).toContain(
      [
        "Next:",
        `- !suspend ${SPAMMER}: they can still read, but not send, join or invite`,
        `- !redact ${SPAMMER}: remove their messages in the rooms they are joined to or banned from`,
        `- !quarantine ${SPAMMER}: stop serving their uploads`,
        `- !takedown ${SPAMMER}: the whole response to an abusive account, step by step, after a preview`,
        `- !media ${SPAMMER}: their uploads, page by page`,
        `- !reports --all --user ${SPAMMER}: Warden's reports naming them`,
      ].join("\n"),
    );
    expect(html(outcome)).toContain(`<code>!takedown ${SPAMMER}</code>`);
    const message = renderOutcome(outcome, "!", FIXED_NOW);
    expect(JSON.stringify(message)).not.toContain(ADDRESS);
    expect(message?.record).toMatchObject({ type: "user-look", user: SPAMMER, local: true, joined_rooms: 2, memberships: 4, rooms_created: 1, uploads: 2, event_reports: 1, user_reports: 1 });
  });

  it("escapes what strangers chose (display name, room and device names, report reasons) in the HTML, on one line each", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.admin.addAccount(SPAMMER, { displayname: "<img src=x>\nAdmin notice" });
    fakes.admin.addRoom("!lobby:example.org", "<b>Lobby</b>", 300, 120);

    const outcome = await runCommand(user, SPAMMER);

    expect(html(outcome)).not.toMatch(/<img|<b>Lobby/);
    expect(html(outcome)).toContain("&lt;b&gt;Lobby&lt;/b&gt;");
    expect(reply(outcome)).toContain("Display name: <img src=x> Admin notice\n");
  });

  it("answers a local user without an account with 'no such account on this homeserver', reading nothing else", async () => {
    const { fakes, user } = setup();

    const outcome = await runCommand(user, "@nobody:example.org");

    expect(outcome).toEqual({ kind: "user-unknown", userId: "@nobody:example.org" });
    expect(reply(outcome)).toBe("@nobody:example.org: no such account on this homeserver.");
    expect(fakes.admin.userCalls.map((call) => call.method)).toEqual(["userAccount"]);
  });

  it("keeps each failed read on its own line: devices, joined rooms and the report list fail, the rest still shows", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.admin.userFailures.set("userDevices", adminError("server-error", 500, "database is locked"));
    fakes.admin.userFailures.set("userJoinedRooms", adminError("timeout"));
    fakes.admin.reportFailures.set("eventReports", adminError("forbidden", 403));

    const outcome = await runCommand(user, SPAMMER);
    const text = reply(outcome);

    expect(text).toContain("Devices: could not read: the homeserver failed with HTTP 500: database is locked");
    expect(text).toContain("Joined rooms: could not read: the homeserver did not answer in time");
    expect(text).toContain("- The homeserver's event reports about their events: could not read: the homeserver refused: Warden's account is not allowed to do this");
    // Created rooms still come from the memberships, and everything else is there.
    expect(text).toContain('Rooms they created: 1: "Cheap pills"');
    expect(text).toContain("Display name: Cheap Pills");
    expect(text).toContain("Media: 2 files");
    expect(text).toContain(`- !takedown ${SPAMMER}`);
  });

  it("says 'could not read' on the account line when the account read fails for another reason than 404, and goes on", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.admin.userFailures.set("userAccount", adminError("server-error", 502));

    const text = reply(await runCommand(user, SPAMMER));

    expect(text).toContain(`User ${SPAMMER} (an account of this homeserver)\nAccount: could not read: the homeserver failed with HTTP 502\n`);
    expect(text).not.toContain("Display name:");
    expect(text).not.toContain("Created:");
    expect(text).toContain("Joined rooms (2):");
  });

  it("a Warden database that cannot be read costs the Warden line only, and is logged", async () => {
    const { fakes, logger } = setup();
    spammerWithHistory(fakes);
    const user = userCommand({
      ...fakes.dependencies,
      log: logger.log,
      reportDesk: {
        list: () => {
          throw new Error("SQLITE_BUSY");
        },
      },
    });

    const text = reply(await runCommand(user, SPAMMER));

    expect(text).toContain("- Warden's: could not read: Warden's own database could not be read (the log has the error)");
    expect(text).toContain("- The homeserver's event reports about their events: 1");
    expect(logger.withMessage("could not read Warden's reports for a user look")).toHaveLength(1);
  });

  it("on an older Synapse, names the Synapse each newer part needs and does not call those endpoints", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.homeserverVersion.set("1.110.0");

    const outcome = await runCommand(user, SPAMMER);
    const text = reply(outcome);

    expect(text).toContain("Memberships (every room this server is in): the membership history of a user needs Synapse 1.145 or later (this homeserver runs 1.110.0)");
    expect(text).toContain("Last 24 h: invite and join counts needs Synapse 1.122 or later (this homeserver runs 1.110.0)");
    expect(text).toContain("- The homeserver's reports about the user: reports about users needs Synapse 1.152 or later (this homeserver runs 1.110.0)");
    // Created rooms fall back to the joined rooms, and say so.
    expect(text).toContain('Rooms they created: 1: "Cheap pills" #pills:example.org !spam:example.org (among the rooms they are joined to (their memberships could not be read))');
    const called = fakes.admin.userCalls.map((call) => call.method);
    for (const method of ["userMemberships", "sentInviteCount", "cumulativeJoinedRoomCount", "userReports"]) expect(called).not.toContain(method);
  });

  it("reads an M_UNRECOGNIZED answer as 'needs Synapse X' too, when the version did not tell", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    const unrecognized = { ...adminError("not-found", 404, "Unrecognized request"), errcode: "M_UNRECOGNIZED" };
    fakes.admin.userFailures.set("userMemberships", unrecognized);
    fakes.admin.userFailures.set("userReports", unrecognized);

    const look = local(await runCommand(user, SPAMMER));

    expect(look.rooms.memberships).toEqual({ state: "needs", text: "the membership history of a user needs Synapse 1.145 or later (this homeserver runs 1.163.2)" });
    expect(look.reports.user).toEqual({ state: "needs", text: "reports about users needs Synapse 1.152 or later (this homeserver runs 1.163.2)" });
  });

  it(`lists the first ${ROOMS_SHOWN} joined rooms and counts the rest; reads at most ${ROOM_DETAIL_READS} rooms' details to find the rooms created, and says so`, async () => {
    const { fakes, user } = setup();
    fakes.admin.addAccount(SPAMMER);
    const memberships: Record<string, string> = {};
    for (let index = 0; index < 150; index++) {
      const roomId = `!room${String(index).padStart(3, "0")}:example.org`;
      fakes.admin.addRoom(roomId, `Room ${index}`, 10, 1);
      memberships[roomId] = index < 30 ? "join" : "leave";
    }
    // The one room they created lies beyond the rooms read: it is not found, and the reply says why.
    const last = fakes.admin.rooms.get("!room149:example.org");
    if (last !== undefined) fakes.admin.rooms.set("!room149:example.org", { ...last, creator: SPAMMER });
    fakes.admin.memberships.set(SPAMMER, memberships);

    const outcome = await runCommand(user, SPAMMER);
    const look = local(outcome);

    expect(fakes.admin.calls.filter((call) => call.method === "roomDetails")).toHaveLength(ROOM_DETAIL_READS);
    expect(look.rooms.joined.state === "read" && look.rooms.joined.value.shown).toHaveLength(ROOMS_SHOWN);
    expect(look.rooms.created).toMatchObject({ state: "read", value: { rooms: [], candidates: 150, checked: ROOM_DETAIL_READS } });
    const text = reply(outcome);
    expect(text).toContain("Joined rooms (30):");
    expect(text).toContain("... and 10 more");
    expect(text).toContain(`Rooms they created: none (among the rooms of their memberships; only ${ROOM_DETAIL_READS} of those 150 rooms were checked)`);
  });

  it(`adds up the sizes of the newest ${SIZE_READS} uploads at most, as !media does, and says so`, async () => {
    const { fakes, user } = setup();
    fakes.admin.addAccount(SPAMMER);
    for (let index = 0; index < SIZE_READS + 5; index++) fakes.admin.upload(SPAMMER, { bytes: 2 });

    const outcome = await runCommand(user, SPAMMER);

    expect(local(outcome).media).toEqual({ state: "read", value: { files: SIZE_READS + 5, size: { read: true, bytes: 2 * SIZE_READS, unknown: 0, boundedAt: SIZE_READS } } });
    expect(reply(outcome)).toContain(`Media: ${SIZE_READS + 5} files, 1000 B in the first ${SIZE_READS}`);
  });

  it("for someone Warden never acts on (a server admin), says so and offers only what looks", async () => {
    const { fakes, user } = setup();
    fakes.admin.addAccount("@root:example.org", { admin: true });

    const outcome = await runCommand(user, "@root:example.org");
    const text = reply(outcome);

    expect(local(outcome).protectedReason).toBe("a server admin");
    expect(text).toContain("Protected: a server admin; Warden never restricts, deactivates or takes them down.");
    expect(text).toContain("Next:\n- !media @root:example.org: their uploads, page by page");
    expect(text).not.toContain("!suspend");
    expect(text).not.toContain("!takedown");
  });

  it("offers no !suspend for a deactivated account", async () => {
    const { fakes, user } = setup();
    fakes.admin.addAccount(SPAMMER, { deactivated: true, erased: true });

    const text = reply(await runCommand(user, SPAMMER));

    expect(text).toContain("deactivated YES · erased YES");
    expect(text).not.toContain("!suspend");
    expect(text).toContain(`- !redact ${SPAMMER}`);
  });
});

describe("!user <remote user>", () => {
  it("on a server this one never heard of: no account read, and says this server holds nothing of them", async () => {
    const { fakes, user } = setup();

    const outcome = await runCommand(user, "@ghost:unknown.example");
    const text = reply(outcome);

    expect(remote(outcome)).toMatchObject({ userId: "@ghost:unknown.example", server: "unknown.example" });
    expect(text).toContain("User @ghost:unknown.example (of another server, unknown.example)");
    expect(text).toContain("This homeserver has no account for them. What it holds of them:");
    expect(text).toContain("Rooms shared with local users: 0 (of the 0 rooms they are joined to here)");
    expect(text).toContain("Memberships here: none in any room this server is in");
    expect(text).toContain("This server holds nothing of them: no room, no membership, no report.");
    expect(text).toContain("Next:\n- !redact @ghost:unknown.example");
    const called = fakes.admin.userCalls.map((call) => call.method);
    for (const method of ["userAccount", "userDevices", "whois"]) expect(called).not.toContain(method);
    expect(fakes.admin.mediaCallsOf("userMedia")).toEqual([]);
  });

  it("names the rooms they share with local users, their memberships and rooms created here, and the reports about their events", async () => {
    const { fakes, user } = setup();
    fakes.admin.addRoom("!shared:example.org", "Shared", 50, 10);
    fakes.admin.addRoom("!theirs:example.org", "Their room", 3, 1);
    fakes.admin.rooms.set("!theirs:example.org", { ...(fakes.admin.rooms.get("!theirs:example.org") ?? { room_id: "", joined_members: 0, joined_local_members: 0 }), creator: REMOTE });
    fakes.admin.addRoom("!gone:example.org", "Gone", 4, 0);
    fakes.admin.memberships.set(REMOTE, { "!shared:example.org": "join", "!theirs:example.org": "join", "!gone:example.org": "leave" });
    fakes.admin.addReport({ room_id: "!shared:example.org", event_id: "$raid", received_ts: FIXED_NOW - 60_000, sender: REMOTE });

    const outcome = await runCommand(user, REMOTE);
    const text = reply(outcome);

    expect(text).toContain("Rooms shared with local users: 2 (of the 2 rooms they are joined to here)");
    expect(text).toContain('- "Shared" !shared:example.org: 50 joined (10 local)');
    expect(text).toContain("Memberships here: joined 2 · left 1");
    expect(text).toContain('Rooms they created: 1: "Their room" !theirs:example.org');
    expect(text).toContain("Their events here: a membership event in each of 3 rooms; 1 of their events reported. Their messages are not counted: that would read whole room histories.");
    expect(text).toContain("- The homeserver's event reports about their events: 1; newest: id 1");
    expect(text).not.toContain("holds nothing");
  });

  it("refuses --ips for a remote user before reading anything: the homeserver keeps no addresses for them", () => {
    const { user } = setup();
    expect(parseProblem(user, `${REMOTE} --ips`)).toEqual({ argument: "--ips", expected: "a user of this homeserver (example.org) before it: it keeps session addresses only for its own users" });
  });

  it("refuses what is not a user ID", () => {
    const { user } = setup();
    expect(parseProblem(user, "spammer")).toEqual({ argument: "<user>", given: "spammer", expected: "a full user ID such as @abuse:example.org" });
    expect(parseProblem(user, "")).toMatchObject({ argument: "<user>" });
  });
});

describe("!user --ips", () => {
  it("posts the addresses in a notice of their own that replies to the command, and the look only says it did", async () => {
    const { fakes, user, logger } = setup();
    spammerWithHistory(fakes);

    const outcome = await runCommand(user, `${SPAMMER} --ips`);

    expect(local(outcome).addresses).toEqual({ kind: "sent", connections: 1 });
    expect(fakes.chat.sent).toHaveLength(1);
    const [notice] = fakes.chat.sent;
    expect(notice?.roomId).toBe(MANAGEMENT_ROOM);
    expect(notice?.options).toEqual({ replyTo: CONTEXT.commandEventId, transactionId: answerTransactionId(`${CONTEXT.commandEventId} addresses`) });
    expect(notice?.message.plain).toBe(
      [
        `Addresses of ${SPAMMER}'s sessions, for ${REQUESTER} (this room is private; redact this notice once read):`,
        `- LAPTOP: ${ADDRESS} · last seen 2025-01-15 11:58:00 UTC (2 min ago) · Mozilla/5.0`,
      ].join("\n"),
    );
    // The notice's record counts; it repeats no address.
    expect(JSON.stringify(notice?.message.record)).not.toContain(ADDRESS);
    const text = reply(outcome);
    expect(text).toContain("Addresses: posted in a separate notice (1 connection); redact it once read.");
    expect(JSON.stringify(renderOutcome(outcome, "!", FIXED_NOW))).not.toContain(ADDRESS);
    expect(logger.lines.join("\n")).not.toContain(ADDRESS);
    expect(logger.withMessage("posted a user's session addresses")).toEqual([expect.objectContaining({ userId: SPAMMER, requester: REQUESTER, connections: 1 })]);
  });

  it("refuses, naming why, when the management room is not private; nothing is read or sent", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.exposure.why = "the join rule is public: anyone can join and read the addresses";

    const outcome = await runCommand(user, `${SPAMMER} --ips`);

    expect(outcome).toEqual({
      kind: "refused",
      reason: "--ips posts addresses in the management room, which is not private now: the join rule is public: anyone can join and read the addresses.",
      hint: `Nothing was looked up. !user ${SPAMMER} without --ips shows the rest.`,
    });
    expect(fakes.admin.userCalls).toEqual([]);
    expect(fakes.chat.sent).toEqual([]);
  });

  it("sends nothing when the room stopped being private during the look, and the look says why", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.exposure.script.push(undefined);
    fakes.exposure.why = "its history is world-readable";

    const outcome = await runCommand(user, `${SPAMMER} --ips`);

    expect(fakes.exposure.checks).toBe(2);
    expect(fakes.chat.sent).toEqual([]);
    expect(reply(outcome)).toContain("Addresses: not posted: the management room stopped being private during the look: its history is world-readable.");
  });

  it("names a session filed without a device (an admin-issued token) as such", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.admin.sessions.set(SPAMMER, { "": { sessions: [{ connections: [{ ip: "198.51.100.4", last_seen: null, user_agent: null }] }] } });

    await runCommand(user, `${SPAMMER} --ips`);

    expect(fakes.chat.sent[0]?.message.plain.split("\n")[1]).toBe("- (no device ID): 198.51.100.4");
  });

  it("sends no notice for a user without recorded sessions, and one that failed to send is said", async () => {
    const { fakes, user } = setup();
    fakes.admin.addAccount(SPAMMER);

    expect(reply(await runCommand(user, `${SPAMMER} --ips`))).toContain("Addresses: not posted: the homeserver holds no session addresses for them.");
    expect(fakes.chat.sent).toEqual([]);

    spammerWithHistory(fakes);
    fakes.chat.failWith = "M_FORBIDDEN";
    expect(reply(await runCommand(user, `${SPAMMER} --ips`))).toContain("Addresses: not posted: the notice could not be sent: M_FORBIDDEN.");
  });

  it("a whois that fails is said on the addresses line; the rest of the look stands", async () => {
    const { fakes, user } = setup();
    spammerWithHistory(fakes);
    fakes.admin.userFailures.set("whois", adminError("server-error", 500));

    const text = reply(await runCommand(user, `${SPAMMER} --ips`));

    expect(text).toContain("Addresses: not posted: the sessions could not be read: the homeserver failed with HTTP 500.");
    expect(text).toContain("Display name: Cheap Pills");
  });

  it("a local user without an account gets no notice", async () => {
    const { fakes, user } = setup();
    expect(await runCommand(user, "@nobody:example.org --ips")).toEqual({ kind: "user-unknown", userId: "@nobody:example.org" as UserId });
    expect(fakes.chat.sent).toEqual([]);
  });
});
