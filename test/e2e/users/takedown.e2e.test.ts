import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixClient, MatrixHttpError, type ClientEvent } from "../../../scripts/harness/client.js";
import { HoldingProxy } from "../../../scripts/harness/holdingProxy.js";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import { startFederatedPair, type RunningSynapse } from "../../../scripts/harness/synapse.js";
import { parseMxc, type Mxc, type UserId } from "../../../src/matrix/ids.js";
import { DATABASE_FILE } from "../../../src/store/database.js";
import { DatabaseSync } from "../../../src/store/sqlite.js";
import { SynapseAdminClient, type UserAccountBody } from "../../../src/synapse/adminClient.js";
import { mentions, repliesTo, startScenario, type Scenario } from "../scenario.js";

/**
 * !takedown against a real Synapse, checked through the homeserver: the accounts, the rooms'
 * events, the media records and the task queue as Synapse has them afterwards. One federated pair
 * for the whole file (the remote user's takedown needs the second server), and one Warden behind
 * a proxy that records every request Warden sends (in order, with when) and can hold one, so the
 * kill -9 lands exactly where the test wants it. The config is the default one: a takedown asks
 * first unless --yes.
 */

let scenario: Scenario;
let remote: RunningSynapse;
let proxy: HoldingProxy;
/** Warden's own token straight to the home server, used only to read what the homeserver holds. */
let admin: SynapseAdminClient;

beforeAll(async () => {
  const [home, other] = await startFederatedPair();
  remote = other;
  proxy = await HoldingProxy.start(home.baseUrl);
  scenario = await startScenario({ synapse: home, wardenHomeserverUrl: proxy.url });
  admin = new SynapseAdminClient({ homeserverUrl: home.baseUrl, accessToken: scenario.wardenUser.accessToken });
});

afterAll(async () => {
  await scenario.stop();
  await proxy.stop();
  await remote.stop();
});

// ---- fixtures ---------------------------------------------------------------------------------

interface SpamRoom {
  readonly roomId: string;
  /** The spammer's messages, which the takedown must redact. */
  readonly spam: readonly string[];
  /** Someone else's message, which must stay. */
  readonly bystander: string;
}

interface LocalSpammer {
  readonly client: MatrixClient;
  readonly userId: string;
  /** Rooms of the outsider's that the spammer joined and spammed (and left again, the last one, when asked). */
  readonly rooms: readonly SpamRoom[];
  /** What they uploaded and sent as images. */
  readonly uploads: readonly string[];
}

async function register(localpart: string): Promise<MatrixClient> {
  return new MatrixClient(scenario.synapse.baseUrl, await scenario.synapse.registerUser(localpart));
}

/**
 * A local user with messages in `roomCount` of the outsider's rooms (leaving the last one when
 * `leaveLast`) and `uploadCount` images sent into the first.
 */
async function localSpammer(localpart: string, options: { roomCount: number; uploadCount: number; leaveLast: boolean }): Promise<LocalSpammer> {
  const client = await register(localpart);
  const rooms: SpamRoom[] = [];
  const uploads: string[] = [];
  for (let index = 0; index < options.roomCount; index++) {
    const roomId = await scenario.outsider.createRoom({ name: `${localpart} ${String(index)}`, preset: "public_chat" });
    const join = await client.joinRoom(roomId);
    expect(join).toBe(roomId);
    const spam = [await client.sendText(roomId, `${localpart}: buy now`), await client.sendText(roomId, `${localpart}: cheap pills`)];
    if (index === 0) {
      for (let file = 0; file < options.uploadCount; file++) {
        const uri = await client.uploadMedia(new TextEncoder().encode(`GIF89a ${localpart} upload ${String(file)}`), "image/gif", `spam${String(file)}.gif`);
        uploads.push(uri);
        spam.push(await client.sendEvent(roomId, "m.room.message", { msgtype: "m.image", body: `spam${String(file)}.gif`, url: uri, info: { mimetype: "image/gif", size: 40 } }));
      }
    }
    const bystander = await scenario.outsider.sendText(roomId, `${localpart} ${String(index)}: please stop`);
    rooms.push({ roomId, spam, bystander });
  }
  const last = rooms.at(-1);
  if (options.leaveLast && last !== undefined) await client.leaveRoom(last.roomId);
  return { client, userId: client.userId, rooms, uploads };
}

// ---- reading the homeserver ---------------------------------------------------------------------

async function account(userId: string): Promise<UserAccountBody> {
  const read = await admin.userAccount(userId as UserId);
  if (!read.ok) throw new Error(`account of ${userId}: ${read.error.userMessage}`);
  return read.value;
}

function isRedacted(event: ClientEvent | undefined): boolean {
  const unsigned = event?.["unsigned"];
  const because = unsigned !== null && typeof unsigned === "object" ? (unsigned as Record<string, unknown>)["redacted_because"] : undefined;
  return event !== undefined && because !== undefined && Object.keys(event.content).filter((key) => key !== "membership").length === 0;
}

/** The room read as an admin, forwards from its start. */
async function eventsOf(roomId: string): Promise<Map<string, ClientEvent>> {
  return new Map((await scenario.admin.adminRoomMessages(roomId)).map((event) => [event.event_id, event]));
}

async function expectRedacted(room: SpamRoom): Promise<void> {
  const events = await eventsOf(room.roomId);
  for (const eventId of room.spam) expect(isRedacted(events.get(eventId)), `${eventId} in ${room.roomId} redacted`).toBe(true);
  expect(bodyOf(events.get(room.bystander) ?? ({ content: {} } as ClientEvent))).toContain("please stop");
}

function mxc(uri: string): Mxc {
  const parsed = parseMxc(uri);
  if (parsed === undefined) throw new Error(`not an mxc URI: ${uri}`);
  return parsed;
}

async function quarantinedBy(uri: string): Promise<string | null | undefined> {
  const info = await admin.mediaInfo(mxc(uri));
  if (!info.ok) throw new Error(`media info of ${uri}: ${info.error.userMessage}`);
  return info.value.media_info.quarantined_by;
}

/** The errcode an ordinary user's download of the file meets through the home server, or "served". */
async function download(uri: string): Promise<string> {
  const answer = await scenario.outsider.downloadMedia(uri);
  return answer.status === 200 ? "served" : (answer.errcode ?? `HTTP ${String(answer.status)}`);
}

/** The errcode the homeserver refuses a request with, or "sent" when it accepted it. */
async function refusal(request: Promise<unknown>): Promise<string> {
  try {
    await request;
    return "sent";
  } catch (error) {
    if (error instanceof MatrixHttpError) return error.errcode ?? `HTTP ${String(error.status)}`;
    throw error;
  }
}

/** Synapse's redact jobs for the user, from its own task list. */
async function redactJobs(userId: string): Promise<{ id: string; status: string; timestamp_ms?: unknown }[]> {
  return (await scenario.admin.adminScheduledTasks()).filter((task) => task.action === "redact_all_events" && task.resource_id === userId);
}

/** When the user's one redaction ended: Synapse stamps a job at each status change, its end the last. */
async function redactionEndedAt(userId: string): Promise<number> {
  const jobs = await redactJobs(userId);
  expect(jobs.map((job) => job.status)).toEqual(["complete"]);
  const at = jobs[0]?.timestamp_ms;
  expect(typeof at).toBe("number");
  return Number(at);
}

// ---- Warden's requests, as the proxy saw them -------------------------------------------------

/** The admin requests Warden sent about the user, in order, as "METHOD path" with the path decoded. */
function requestsAbout(userId: string): { readonly line: string; readonly at: number }[] {
  return proxy.seen
    .map((request) => ({ line: `${request.method} ${decodeURIComponent(request.path.split("?")[0] ?? "")}`, at: request.at }))
    .filter((request) => request.line.includes(`/_synapse/admin/`) && request.line.includes(userId));
}

const SUSPEND = (userId: string) => `PUT /_synapse/admin/v1/suspend/${userId}`;
const QUARANTINE = (userId: string) => `POST /_synapse/admin/v1/user/${userId}/media/quarantine`;
const REDACT = (userId: string) => `POST /_synapse/admin/v1/user/${userId}/redact`;
const DEACTIVATE = (userId: string) => `POST /_synapse/admin/v1/deactivate/${userId}`;

function indexOf(requests: readonly { line: string }[], line: string): number {
  return requests.findIndex((request) => request.line === line);
}

function countOf(requests: readonly { line: string }[], line: string): number {
  return requests.filter((request) => request.line === line).length;
}

// ---- Warden's messages and records ------------------------------------------------------------

const TAKEDOWN_ID = /Takedown (t-[0-9a-f]{6}) /;

/** The takedown's board: Warden's first message replying to the command that starts "Takedown t-…". */
function boardOf(eventId: string, mark: number): Promise<ClientEvent> {
  return scenario.recorder.waitFor((event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && /^Takedown t-[0-9a-f]{6} /.test(bodyOf(event)), {
    from: mark,
    timeoutMs: 60_000,
    what: `posting the takedown board for ${eventId}`,
  });
}

/** The takedown's final message: it mentions the requester (a wave's summary answers the same command, so the text tells them apart). */
function finalOf(eventId: string, mark: number, timeoutMs = 90_000): Promise<ClientEvent> {
  return scenario.recorder.waitFor(
    (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0 && /Takedown t-[0-9a-f]{6} of \d+ users? finished/.test(bodyOf(event)),
    { from: mark, timeoutMs, what: `the takedown's final message for ${eventId}` },
  );
}

function takedownId(event: ClientEvent): string {
  const id = TAKEDOWN_ID.exec(bodyOf(event))?.[1];
  if (id === undefined) throw new Error(`no takedown id in: ${bodyOf(event)}`);
  return id;
}

/** The user's lines of a board or final message: from their ID to the next user's or the end. */
function userSection(text: string, userId: string): string {
  const start = text.indexOf(userId);
  expect(start, `${userId} in:\n${text}`).toBeGreaterThanOrEqual(0);
  const lines = text.slice(start).split("\n");
  const section = [lines[0] ?? ""];
  for (const line of lines.slice(1)) {
    if (!line.startsWith("  ")) break;
    section.push(line.trim());
  }
  return section.join("\n");
}

/** Warden's database, read beside the running process (WAL: readers never block its writes). */
function readDatabase<T>(read: (database: DatabaseSync) => T): T {
  const database = new DatabaseSync(join(scenario.warden.dataDirectory, DATABASE_FILE), { readOnly: true });
  try {
    return read(database);
  } finally {
    database.close();
  }
}

interface StoredStep {
  readonly name: string;
  readonly state: string;
  readonly taskId?: string;
  readonly sendId?: string;
}

function storedSteps(id: string, userId: string): StoredStep[] {
  const text = readDatabase((database) => database.prepare("SELECT record FROM takedowns WHERE id = ?").get(id)?.["record"]);
  if (typeof text !== "string") throw new Error(`takedown ${id} is not stored`);
  const record = JSON.parse(text) as { users: { userId: string; steps: StoredStep[] }[] };
  return record.users.find((user) => user.userId === userId)?.steps ?? [];
}

function auditEntries(id: string): { type: string; command: string | null; outcome: string | null; detail: string | null }[] {
  return readDatabase((database) =>
    database
      .prepare("SELECT type, command, outcome, detail FROM audit WHERE task_id = ? ORDER BY id")
      .all(id)
      .map((row) => ({ type: String(row["type"]), command: row["command"] as string | null, outcome: row["outcome"] as string | null, detail: row["detail"] as string | null })),
  );
}

async function ask(command: string): Promise<{ eventId: string; mark: number; text: string }> {
  const { eventId, mark } = await scenario.send(command);
  return { eventId, mark, text: bodyOf(await scenario.replyTo(eventId, mark)) };
}

/** Everything a finished `--deactivate --erase` takedown of a local spammer must have left on the homeserver. */
async function expectTakenDown(spammer: LocalSpammer): Promise<void> {
  // Suspended first: the suspension reached the homeserver before any other request about them.
  const requests = requestsAbout(spammer.userId);
  const suspend = indexOf(requests, SUSPEND(spammer.userId));
  expect(suspend, requests.map((request) => request.line).join("\n")).toBeGreaterThanOrEqual(0);
  const acting = requests.filter((request) => !request.line.startsWith("GET "));
  expect(acting[0]?.line).toBe(SUSPEND(spammer.userId));
  expect(indexOf(requests, QUARANTINE(spammer.userId))).toBeGreaterThan(suspend);
  expect(indexOf(requests, REDACT(spammer.userId))).toBeGreaterThan(indexOf(requests, QUARANTINE(spammer.userId)));
  expect(countOf(requests, SUSPEND(spammer.userId))).toBe(1);
  expect(countOf(requests, REDACT(spammer.userId))).toBe(1);
  expect(countOf(requests, DEACTIVATE(spammer.userId))).toBe(1);

  expect(await account(spammer.userId)).toMatchObject({ suspended: true, deactivated: true, erased: true });
  for (const room of spammer.rooms) await expectRedacted(room);
  for (const uri of spammer.uploads) {
    expect(await quarantinedBy(uri)).toBe(scenario.wardenUser.userId);
    expect(await download(uri)).toBe("M_NOT_FOUND");
  }
  // Deactivated only once the redaction had ended.
  const redactionEnded = await redactionEndedAt(spammer.userId);
  const deactivatedAt = requests.find((request) => request.line === DEACTIVATE(spammer.userId))?.at ?? 0;
  expect(deactivatedAt).toBeGreaterThanOrEqual(redactionEnded);
}

function expectFinalNamesEachStep(final: ClientEvent, spammer: LocalSpammer): void {
  const text = bodyOf(final);
  expect(mentions(final)).toEqual([scenario.moderatorUser.userId]);
  expect(text).toMatch(new RegExp(`^${scenario.moderatorUser.userId}: Takedown t-[0-9a-f]{6} of 1 user finished in .*: 4 steps done, 1 skipped, 0 failed\\.`));
  expect(userSection(text, spammer.userId)).toBe(
    [
      spammer.userId,
      "✓ restrict: suspended",
      `✓ media: ${String(spammer.uploads.length)} files quarantined`,
      `✓ redact: their events redacted in ${String(spammer.rooms.length)} rooms`,
      "– rooms: not asked (--rooms)",
      "✓ deactivate: deactivated and erased",
    ].join("\n"),
  );
}

// ---- the tests ----------------------------------------------------------------------------------

describe("!takedown of a local spammer", () => {
  it("previews the rooms, the files and who is left out; after !confirm suspends, quarantines, redacts in every room (the left one too), deactivates and erases", async () => {
    const spammer = await localSpammer("takedownone", { roomCount: 3, uploadCount: 2, leaveLast: true });
    const others = [scenario.moderatorUser.userId, scenario.wardenUser.userId];

    const preview = await ask(`!takedown ${spammer.userId} ${others.join(" ")} --deactivate --erase --reason "spam wave"`);

    expect(preview.text).toContain("Preview: take down 1 user");
    for (const room of spammer.rooms) expect(preview.text).toContain(room.roomId);
    expect(preview.text).toContain("redacted in 3 rooms (2 joined, 1 left or banned)");
    expect(preview.text).toContain("2 files quarantined");
    expect(preview.text).toContain("deactivated and erased after the redaction");
    expect(preview.text).toContain(`Left out (2): ${scenario.moderatorUser.userId} (a moderator on Warden's allowlist), ${scenario.wardenUser.userId} (Warden's own account)`);
    expect(preview.text).toContain("Reason: spam wave");
    // Nothing happened yet.
    expect(await account(spammer.userId)).toMatchObject({ suspended: false, deactivated: false });
    expect(requestsAbout(spammer.userId).filter((request) => !request.line.startsWith("GET "))).toEqual([]);
    const confirmation = /!confirm (c-[0-9a-f]{6})/.exec(preview.text)?.[1];
    expect(confirmation, preview.text).toBeDefined();

    await scenario.send(`!confirm ${confirmation ?? ""}`);

    const board = await boardOf(preview.eventId, preview.mark);
    const id = takedownId(board);
    expect(bodyOf(board)).toContain(`Left out: ${scenario.moderatorUser.userId} (a moderator on Warden's allowlist), ${scenario.wardenUser.userId} (Warden's own account)`);
    const final = await finalOf(preview.eventId, preview.mark);
    expectFinalNamesEachStep(final, spammer);
    await expectTakenDown(spammer);
    // The moderator and Warden were never touched.
    expect(requestsAbout(scenario.moderatorUser.userId).filter((request) => !request.line.startsWith("GET "))).toEqual([]);
    expect(await account(scenario.moderatorUser.userId)).toMatchObject({ suspended: false, deactivated: false });

    const status = await ask(`!status ${id}`);
    expect(status.text).toMatch(new RegExp(`^Takedown ${id} of 1 user \\(finished\\): 5 of 5 steps ended\\.`));
    expect(userSection(status.text, spammer.userId)).toContain("✓ deactivate: deactivated and erased");
    expect(auditEntries(id).filter((entry) => entry.type === "task-finished")).toEqual([expect.objectContaining({ type: "task-finished", command: "takedown", outcome: "finished" })]);
    expect(auditEntries(id).find((entry) => entry.type === "task-finished")?.detail).toContain(`${spammer.userId}: restrict done (suspended); media done (2 files quarantined)`);
  });

  it("--yes: runs at once, with the same outcome on the homeserver", async () => {
    const spammer = await localSpammer("takedowntwo", { roomCount: 3, uploadCount: 2, leaveLast: true });

    const { eventId, mark } = await scenario.send(`!takedown ${spammer.userId} --deactivate --erase --yes`);

    const board = await boardOf(eventId, mark);
    expect(bodyOf(board)).toContain("Plan, per user: suspend, then quarantine media, then redact, then deactivate and erase.");
    const final = await finalOf(eventId, mark);
    expectFinalNamesEachStep(final, spammer);
    await expectTakenDown(spammer);
    // The old session is gone with the account.
    expect(await refusal(spammer.client.joinedRooms())).toBe("M_UNKNOWN_TOKEN");
  });
});

describe("!takedown and who is never taken down", () => {
  it("refuses a takedown naming only an allowlisted moderator, and sends nothing about them", async () => {
    const before = requestsAbout(scenario.moderatorUser.userId).length;

    const { text } = await ask(`!takedown ${scenario.moderatorUser.userId} --deactivate --yes`);

    expect(text).toContain(`Nobody to take down: ${scenario.moderatorUser.userId} is a moderator on Warden's allowlist.`);
    expect(requestsAbout(scenario.moderatorUser.userId).slice(before).filter((request) => !request.line.startsWith("GET "))).toEqual([]);
    expect(await account(scenario.moderatorUser.userId)).toMatchObject({ suspended: false, locked: false, deactivated: false });
  });

  it("a spammer and a moderator: the spammer is taken down, the moderator left out and named on the board and in the final message", async () => {
    const spammer = await localSpammer("takedownmixed", { roomCount: 1, uploadCount: 0, leaveLast: false });

    const { eventId, mark } = await scenario.send(`!takedown ${spammer.userId} ${scenario.moderatorUser.userId} --yes`);

    const board = bodyOf(await boardOf(eventId, mark));
    expect(board).toMatch(/^Takedown t-[0-9a-f]{6} of 1 user /);
    expect(board).toContain(`Left out: ${scenario.moderatorUser.userId} (a moderator on Warden's allowlist)`);
    const final = bodyOf(await finalOf(eventId, mark));
    expect(final).toContain(`Left out: ${scenario.moderatorUser.userId} (a moderator on Warden's allowlist)`);
    expect(userSection(final, spammer.userId)).toContain("✓ redact: their events redacted in 1 room");
    expect(await account(spammer.userId)).toMatchObject({ suspended: true, deactivated: false });
    await expectRedacted(spammer.rooms[0] ?? { roomId: "", spam: [], bystander: "" });
    expect(await account(scenario.moderatorUser.userId)).toMatchObject({ suspended: false, locked: false });
    expect(await refusal(scenario.moderator.sendText(scenario.managementRoomId, "still here"))).toBe("sent");
  });
});

describe("!takedown across a crash", () => {
  it("kill -9 while the redaction is being sent, and again while the deactivation is: the restarts finish it, and no step is repeated", async () => {
    const spammer = await localSpammer("takedowncrash", { roomCount: 2, uploadCount: 1, leaveLast: false });
    const isRedact = (method: string, path: string) => `${method} ${decodeURIComponent(path.split("?")[0] ?? "")}` === REDACT(spammer.userId);
    const isDeactivate = (method: string, path: string) => `${method} ${decodeURIComponent(path.split("?")[0] ?? "")}` === DEACTIVATE(spammer.userId);
    proxy.hold(isRedact);

    const { eventId, mark } = await scenario.send(`!takedown ${spammer.userId} --deactivate --yes`);
    const id = takedownId(await boardOf(eventId, mark));
    await proxy.waitForHeld(1);

    // Stored: restricted and quarantined, the redaction running with the id its job will carry.
    const stored = storedSteps(id, spammer.userId);
    expect(stored.map((step) => `${step.name} ${step.state}`)).toEqual(["restrict done", "media done", "redact running", "rooms pending", "deactivate pending"]);
    expect(stored[2]?.sendId).toBeDefined();
    await scenario.warden.kill();
    // As if the homeserver had received the request just before the kill.
    proxy.release({ evenIfCallerGone: true });
    // Before the restart: the resumed takedown may reach the deactivation before Warden says it is ready.
    proxy.hold(isDeactivate);
    await scenario.startWarden(scenario.warden.dataDirectory);

    // Second crash: the deactivation reached the homeserver, its answer never reached Warden.
    await proxy.waitForHeld(1, 60_000);
    expect((await redactJobs(spammer.userId)).map((job) => job.status)).toEqual(["complete"]);
    await scenario.warden.kill();
    proxy.release({ evenIfCallerGone: true });
    for (let tries = 0; !(await account(spammer.userId)).deactivated; tries++) {
      expect(tries, "the deactivation the proxy let through took effect").toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await scenario.startWarden(scenario.warden.dataDirectory);

    const final = await finalOf(eventId, mark);
    expect(userSection(bodyOf(final), spammer.userId)).toBe(
      [
        spammer.userId,
        "✓ restrict: suspended",
        "✓ media: 1 file quarantined",
        "✓ redact: their events redacted in 2 rooms",
        "– rooms: not asked (--rooms)",
        "✓ deactivate: deactivated",
      ].join("\n"),
    );
    // Exactly one of everything: the homeserver ran one redaction, Warden followed one, and sent each request once.
    expect((await redactJobs(spammer.userId)).map((job) => job.status)).toEqual(["complete"]);
    const tasks = readDatabase((database) => database.prepare("SELECT id, status, homeserver_task_id FROM tasks WHERE kind = 'redact' AND room_id = ?").all(spammer.userId));
    expect(tasks).toEqual([expect.objectContaining({ status: "complete", homeserver_task_id: (await redactJobs(spammer.userId))[0]?.id })]);
    const requests = requestsAbout(spammer.userId);
    for (const line of [SUSPEND, QUARANTINE, REDACT, DEACTIVATE].map((request) => request(spammer.userId))) expect(countOf(requests, line), line).toBe(1);
    const logs = scenario.allLogs();
    const ended = logs.split("\n").filter((line) => line.includes('"msg":"takedown step ended"') && line.includes(id));
    expect(ended.filter((line) => line.includes('"step":"restrict"'))).toHaveLength(1);
    expect(ended.filter((line) => line.includes('"step":"redact"'))).toHaveLength(1);
    expect(logs).toContain('"msg":"found the interrupted submission on the homeserver"');
    for (const room of spammer.rooms) await expectRedacted(room);
    expect(await account(spammer.userId)).toMatchObject({ suspended: true, deactivated: true, erased: false });
    const redactionEnded = await redactionEndedAt(spammer.userId);
    expect(requests.find((request) => request.line === DEACTIVATE(spammer.userId))?.at ?? 0).toBeGreaterThanOrEqual(redactionEnded);
    // One final message, one audit entry.
    const finals = scenario.recorder.events.filter((event) => event.sender === scenario.wardenUser.userId && repliesTo(event, eventId) && mentions(event).length > 0);
    expect(finals).toHaveLength(1);
    expect(auditEntries(id).filter((entry) => entry.type === "task-finished")).toHaveLength(1);
  });
});

describe("!takedown of a remote user", () => {
  it("quarantines the cached files their events link to and redacts their events where Warden's account may; restrict and deactivate are not possible", async () => {
    const visitor = new MatrixClient(remote.baseUrl, await remote.registerUser("visitor"));
    // Synapse redacts a remote user's events as the admin who asks: here Warden is joined with the power to redact, in the other room it is not.
    const moderated = await scenario.outsider.createRoom({
      name: "moderated",
      room_alias_name: "takedownmoderated",
      preset: "public_chat",
      // The creator's power is theirs by the room version (12), not listed.
      power_level_content_override: { users: { [scenario.wardenUser.userId]: 50 } },
    });
    await scenario.admin.joinRoom(moderated);
    const unwatched = await scenario.outsider.createRoom({ name: "unwatched", room_alias_name: "takedownunwatched", preset: "public_chat" });
    await visitor.joinRoom(`#takedownmoderated:${scenario.synapse.serverName}`);
    await visitor.joinRoom(`#takedownunwatched:${scenario.synapse.serverName}`);
    const cached = await visitor.uploadMedia(new TextEncoder().encode("GIF89a a remote image this server caches"), "image/gif", "cached.gif");
    const uncached = await visitor.uploadMedia(new TextEncoder().encode("GIF89a a remote image this server never fetched"), "image/gif", "uncached.gif");
    const spam = [await visitor.sendText(moderated, "remote spam")];
    for (const [uri, name] of [[cached, "cached.gif"], [uncached, "uncached.gif"]] as const) {
      spam.push(await visitor.sendEvent(moderated, "m.room.message", { msgtype: "m.image", body: name, url: uri, info: { mimetype: "image/gif", size: 40 } }));
    }
    const elsewhere = await visitor.sendText(unwatched, "remote spam elsewhere");
    const last = spam.at(-1) ?? "";
    await scenario.outsider.waitForEvent(moderated, (event) => event.event_id === last, 30_000);
    await scenario.outsider.waitForEvent(unwatched, (event) => event.event_id === elsewhere, 30_000);
    const bystander = await scenario.outsider.sendText(moderated, "moderated: please stop");
    // This server fetches the file once someone here downloads it.
    expect(await download(cached)).toBe("served");

    const preview = await ask(`!takedown ${visitor.userId} --deactivate --dry-run`);
    expect(preview.text).toContain("not restricted (remote)");
    expect(preview.text).toContain("by Warden's account, only where it is joined with the power to redact");
    expect(preview.text).toContain("no restrict: not possible for a remote account");
    expect(preview.text).toContain("no deactivate: not possible for a remote account");

    const { eventId, mark } = await scenario.send(`!takedown ${visitor.userId} --deactivate --yes`);

    const final = await finalOf(eventId, mark);
    const section = userSection(bodyOf(final), visitor.userId).split("\n");
    expect(section.slice(0, 3)).toEqual([
      `${visitor.userId} (remote)`,
      "– restrict: not possible for a remote account (suspension and locking apply to accounts on this server)",
      "✓ media: 1 file linked from their events quarantined; 1 other was never cached here",
    ]);
    // Their join and their message where Warden is not joined stay, and the step says so.
    expect(section[3]).toMatch(
      /^✗ redact: 2 events could not be redacted in 2 rooms \(Synapse redacts a remote user's events as Warden's account, so only in rooms where it is joined with the power to redact\): \$/,
    );
    expect(section.slice(4)).toEqual([
      "– rooms: not asked (--rooms)",
      "– deactivate: not possible for a remote account (deactivation applies to accounts on this server)",
    ]);
    expect(bodyOf(final)).toMatch(/: 1 step done, 3 skipped, 1 failed\./);
    await expectRedacted({ roomId: moderated, spam, bystander });
    expect(isRedacted((await eventsOf(unwatched)).get(elsewhere))).toBe(false);
    expect(await quarantinedBy(cached)).toBe(scenario.wardenUser.userId);
    expect(await download(cached)).toBe("M_NOT_FOUND");
    // Nothing was asked of the remote account itself.
    expect(requestsAbout(visitor.userId).filter((request) => request.line.startsWith("PUT ") || request.line.includes("/deactivate/"))).toEqual([]);
  });
});

describe("!takedown --rooms", () => {
  it("shuts down the room the spammer created alone as a wave, and leaves the room they created where another local user is joined", async () => {
    const spammer = await register("takedownrooms");
    const alone = await spammer.createRoom({ name: "spammer's own", preset: "public_chat" });
    await spammer.sendText(alone, "my own spam room");
    const shared = await spammer.createRoom({ name: "spammer's shared", preset: "public_chat" });
    await scenario.outsider.joinRoom(shared);
    await spammer.sendText(shared, "spam in a shared room");

    const preview = await ask(`!takedown ${spammer.userId} --rooms --dry-run`);
    expect(preview.text).toContain(`1 room of theirs shut down: ${alone}`);
    expect(preview.text).not.toContain(`shut down: ${shared}`);

    const { eventId, mark } = await scenario.send(`!takedown ${spammer.userId} --rooms --yes`);

    const final = await finalOf(eventId, mark);
    expect(userSection(bodyOf(final), spammer.userId)).toMatch(/✓ rooms: 1 of 1 room shut down \(wave w-[0-9a-f]{6}\)/);
    expect((await scenario.admin.adminRoomBlockStatus(alone)).block).toBe(true);
    expect(await scenario.admin.adminRoomMembers(alone)).toEqual([]);
    expect((await scenario.admin.adminRoomBlockStatus(shared)).block).toBe(false);
    expect((await scenario.admin.adminRoomMembers(shared)).sort()).toEqual([scenario.outsider.userId, spammer.userId].sort());
    expect(await refusal(scenario.outsider.sendText(shared, "the shared room lives on"))).toBe("sent");
  });
});
