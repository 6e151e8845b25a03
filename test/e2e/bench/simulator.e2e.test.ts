import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "../../../bench/simulator/server.js";
import { MatrixClient } from "../../../scripts/harness/client.js";
import { startSynapse, type RunningSynapse } from "../../../scripts/harness/synapse.js";
import { asEventId, asRoomId, type RoomId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient, type AdminError } from "../../../src/synapse/adminClient.js";
import { listAllRooms } from "../../../src/synapse/paging.js";
import type { Result } from "../../../src/util/result.js";

/*
 * The homeserver simulator (bench/simulator/) against the Synapse it stands in for: the same
 * script of admin calls, made through Warden's own admin client (so every answer passes Warden's
 * schemas), against a real Synapse with a few rooms and against the simulator with rooms of the
 * same names. What Warden relies on must agree: which rooms a search or a page holds and in what
 * order, totals and next_batch, the fields the details carry, 404s where Synapse answers 404, the
 * statuses a purge and a delete go through, and the task queue's entries for them.
 */

const NAMES = ["conform alpha", "conform beta_x", "Conform Gamma", "conform-beta x", "other room"] as const;

interface World {
  readonly admin: SynapseAdminClient;
  /** Room ID by name. */
  readonly rooms: ReadonlyMap<string, RoomId>;
}

let synapse: RunningSynapse;
let simulator: RunningSimulator;
let real: World;
let simulated: World;

function value<T>(result: Result<T, AdminError>): T {
  if (!result.ok) throw new Error(`admin call failed: ${result.error.kind} ${result.error.detail ?? ""}`);
  return result.value;
}

function errorKind(result: Result<unknown, AdminError>): string {
  return result.ok ? "ok" : result.error.kind;
}

function roomOf(world: World, name: string): RoomId {
  const roomId = world.rooms.get(name);
  if (roomId === undefined) throw new Error(`no room named ${name}`);
  return roomId;
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const seen = await read();
    if (done(seen)) return seen;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(seen)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs the same step on both worlds and gives both answers. */
async function both<T>(step: (world: World) => Promise<T>): Promise<{ real: T; simulated: T }> {
  return { real: await step(real), simulated: await step(simulated) };
}

beforeAll(async () => {
  synapse = await startSynapse();
  const adminUser = await synapse.registerUser("conformadmin", { admin: true });
  const owner = new MatrixClient(synapse.baseUrl, await synapse.registerUser("conformowner"));
  const rooms = new Map<string, RoomId>();
  for (const name of NAMES) {
    const roomId = asRoomId(await owner.createRoom({ name, preset: "private_chat" }));
    if (roomId === undefined) throw new Error("Synapse made a room ID Warden cannot read");
    for (let index = 0; index < 3; index++) await owner.sendText(roomId, `message ${String(index)} of ${name}`);
    rooms.set(name, roomId);
  }
  real = { admin: new SynapseAdminClient({ homeserverUrl: synapse.baseUrl, accessToken: adminUser.accessToken }), rooms };

  simulator = await startSimulator({ rooms: NAMES.length, jobMs: 200, names: NAMES, eventsPerRoom: 5, eventSpacingMs: 1_000 });
  const simulatedRooms = new Map<string, RoomId>(NAMES.map((name, index) => [name, simulator.rooms.roomId(index) as RoomId]));
  simulated = { admin: new SynapseAdminClient({ homeserverUrl: simulator.url, accessToken: "simulated" }), rooms: simulatedRooms };
});

afterAll(async () => {
  await simulator.stop();
  await synapse.stop();
});

describe("the homeserver simulator answers as Synapse does", () => {
  it("the room list: the same rooms in the same order, page by page, with the same totals and next_batch", async () => {
    const names = (world: World, ids: readonly string[]) => ids.map((roomId) => [...world.rooms].find(([, id]) => id === roomId)?.[0] ?? "?");
    const pages = await both(async (world) => {
      const first = value(await world.admin.listRooms({ limit: 2 }));
      const last = value(await world.admin.listRooms({ limit: 2, from: 4 }));
      const all = value(await listAllRooms(world.admin, {}, 2));
      return {
        first: { total: first.total_rooms, next: first.next_batch, offset: first.offset, count: first.rooms.length },
        last: { total: last.total_rooms, next: last.next_batch ?? "none", count: last.rooms.length },
        order: names(world, all.map((room) => room.room_id)),
      };
    });
    expect(pages.simulated).toEqual(pages.real);
    expect(pages.real.order).toEqual([...NAMES].sort());
  });

  it("search_term: a substring of the name in any case, _ as a wildcard, or the whole room ID", async () => {
    const search = (term: (world: World) => string) =>
      both(async (world) => {
        const page = value(await world.admin.listRooms({ searchTerm: term(world) }));
        return { total: page.total_rooms, names: page.rooms.map((room) => room.name ?? "").sort() };
      });
    const expected: Readonly<Record<string, number>> = { beta_x: 2, ALPHA: 1, gamma: 1, conform: 4, "nothing like it": 0, "%": 5 };
    for (const [term, count] of Object.entries(expected)) {
      const found = await search(() => term);
      expect(found.simulated, term).toEqual(found.real);
      expect(found.real.total, term).toBe(count);
    }
    const byId = await search((world) => roomOf(world, "other room"));
    expect(byId.simulated).toEqual(byId.real);
    expect(byId.real.names).toEqual(["other room"]);
    const empty = await both(async (world) => errorKind(await world.admin.listRooms({ searchTerm: "" })));
    expect(empty).toEqual({ real: "bad-request", simulated: "bad-request" });
  });

  it("room details carry the fields Warden reads; an unknown room is a 404", async () => {
    const details = await both(async (world) => {
      const room = value(await world.admin.roomDetails(roomOf(world, "conform alpha")));
      const unknown = errorKind(await world.admin.roomDetails("!nosuchroom:localhost" as RoomId));
      const fields = ["room_id", "name", "canonical_alias", "joined_members", "joined_local_members", "public", "join_rules", "state_events", "creator", "version"];
      return { fields: fields.filter((field) => field in room), name: room.name, types: fields.map((field) => typeof (room as Record<string, unknown>)[field]), unknown };
    });
    expect(details.simulated).toEqual(details.real);
  });

  it("timestamp_to_event in both directions, and 404 where a room has no event on that side", async () => {
    const found = await both(async (world) => {
      const roomId = roomOf(world, "conform beta_x");
      const newest = value(await world.admin.timestampToEvent(roomId, Date.now() + 60_000, "b"));
      const oldest = value(await world.admin.timestampToEvent(roomId, 0, "f"));
      return {
        ordered: oldest.origin_server_ts <= newest.origin_server_ts,
        eventIds: asEventId(newest.event_id) !== undefined && asEventId(oldest.event_id) !== undefined,
        before: errorKind(await world.admin.timestampToEvent(roomId, 0, "b")),
        after: errorKind(await world.admin.timestampToEvent(roomId, Date.now() + 60_000, "f")),
      };
    });
    expect(found.simulated).toEqual(found.real);
    expect(found.real).toEqual({ ordered: true, eventIds: true, before: "not-found", after: "not-found" });
  });

  it("a purge: a purge_id, 'active' until it ends 'complete', one task in the queue, the history before the point gone", async () => {
    const purged = await both(async (world) => {
      const roomId = roomOf(world, "conform alpha");
      const newest = value(await world.admin.timestampToEvent(roomId, Date.now() + 60_000, "b"));
      const eventId = asEventId(newest.event_id);
      if (eventId === undefined) throw new Error("no event ID");
      const started = value(await world.admin.startPurge(roomId, { eventId }, true));
      const first = value(await world.admin.purgeStatus(started.purge_id)).status;
      const ended = await until(async () => value(await world.admin.purgeStatus(started.purge_id)).status, (status) => status !== "active", "the purge");
      const tasks = value(await world.admin.scheduledTasks({ actionName: "purge_history", resourceId: roomId })).scheduled_tasks;
      const left = value(await world.admin.timestampToEvent(roomId, 0, "f"));
      return {
        first: ["active", "complete"].includes(first),
        ended,
        tasks: tasks.map((task) => ({ id: task.id === started.purge_id, status: task.status, resource: task.resource_id === roomId, stamped: task.timestamp_ms > 0 })),
        oldestLeftIsThePoint: left.event_id === eventId,
        unknownPurge: errorKind(await world.admin.purgeStatus("nosuchpurge")),
        nothingBefore: errorKind(await world.admin.startPurge(roomId, { timestamp: 1 }, true)),
      };
    });
    expect(purged.simulated).toEqual(purged.real);
    expect(purged.real).toMatchObject({ ended: "complete", oldestLeftIsThePoint: true, unknownPurge: "not-found", nothingBefore: "not-found" });
  });

  it("a delete (v2): a delete_id, its status by id and by room, the shutdown's result, then the room unknown and blocked", async () => {
    const deleted = await both(async (world) => {
      const roomId = roomOf(world, "other room");
      const started = value(await world.admin.startDelete(roomId, { block: true, purge: true, forcePurge: false }));
      const ended = await until(async () => value(await world.admin.deleteStatus(started.delete_id)), (status) => status.status === "complete" || status.status === "failed", "the delete");
      const byRoom = value(await world.admin.deleteStatusesForRoom(roomId)).results;
      const queued = value(await world.admin.scheduledTasks({ resourceId: roomId })).scheduled_tasks;
      return {
        ended: { status: ended.status, id: ended.delete_id === started.delete_id, room: ended.room_id === roomId, result: Object.keys(ended.shutdown_room ?? {}).sort() },
        byRoom: byRoom.map((status) => ({ status: status.status, id: status.delete_id === started.delete_id })),
        queued: queued.map((task) => ({ action: task.action, status: task.status })),
        details: errorKind(await world.admin.roomDetails(roomId)),
        blocked: value(await world.admin.blockStatus(roomId)).block,
        unknownDelete: errorKind(await world.admin.deleteStatus("nosuchdelete")),
        noDeleteForRoom: errorKind(await world.admin.deleteStatusesForRoom(roomOf(world, "Conform Gamma"))),
      };
    });
    expect(deleted.simulated).toEqual(deleted.real);
    expect(deleted.real).toMatchObject({ ended: { status: "complete" }, details: "not-found", blocked: true, unknownDelete: "not-found", noDeleteForRoom: "not-found" });
  });

  it("scheduled_tasks: the statuses filter, several at once, and max_timestamp", async () => {
    const queue = await both(async (world) => {
      const ended = value(await world.admin.scheduledTasks({ statuses: ["complete"] })).scheduled_tasks.filter((task) => task.action === "purge_history" || task.action === "shutdown_and_purge_room");
      const inFlight = value(await world.admin.scheduledTasks({ statuses: ["active", "scheduled"], maxTimestamp: Date.now() + 3_600_000 })).scheduled_tasks.filter((task) => task.action === "purge_history" || task.action === "shutdown_and_purge_room");
      const past = value(await world.admin.scheduledTasks({ statuses: ["complete"], maxTimestamp: 1 })).scheduled_tasks;
      return { ended: ended.map((task) => task.action).sort(), inFlight: inFlight.length, past: past.length, ordered: ended.every((task, index) => index === 0 || (ended[index - 1]?.timestamp_ms ?? 0) <= task.timestamp_ms) };
    });
    expect(queue.simulated).toEqual(queue.real);
    expect(queue.real.ended).toEqual(["purge_history", "shutdown_and_purge_room"]);
  });

  it("server_version and the block toggle", async () => {
    const answers = await both(async (world) => {
      const roomId = roomOf(world, "Conform Gamma");
      const version = value(await world.admin.serverVersion()).server_version;
      const set = value(await world.admin.setBlocked(roomId, true)).block;
      const read = value(await world.admin.blockStatus(roomId));
      const unset = value(await world.admin.setBlocked(roomId, false)).block;
      return { version: /^1\.\d+/.test(version), set, read: { block: read.block, by: typeof read.user_id }, unset };
    });
    expect(answers.simulated).toEqual(answers.real);
  });
});
