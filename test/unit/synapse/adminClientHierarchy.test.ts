import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient, type AdminError } from "../../../src/synapse/adminClient.js";
import { listAllRooms, wholeHierarchy } from "../../../src/synapse/paging.js";
import type { Result } from "../../../src/util/result.js";
import { blockRealNetwork, HOMESERVER_URL, resetSynapseNock, SynapseNock } from "../../fakes/synapseNock.js";

const TOKEN = "syt_d2FyZGVu_SecretTokenValue_0xBEEF";
const SPACE = "!sp/ace?#x:é.example" as RoomId;
const SPACE_IN_PATH = "!sp%2Face%3F%23x%3A%C3%A9.example";

function harness() {
  const client = new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: TOKEN, sleep: () => Promise.resolve() });
  return { client, synapse: new SynapseNock() };
}

function failure<T>(result: Result<T, AdminError>): AdminError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function listed(roomId: string, fields: Record<string, unknown> = {}) {
  return { room_id: roomId, name: roomId, canonical_alias: null, joined_members: 2, joined_local_members: 1, public: false, ...fields };
}

function summary(roomId: string, children: readonly string[] = []) {
  return {
    room_id: roomId,
    name: roomId,
    num_joined_members: 2,
    room_type: children.length > 0 ? "m.space" : null,
    join_rule: "invite",
    guest_can_join: false,
    world_readable: false,
    children_state: children.map((child) => ({ type: "m.space.child", state_key: child, content: { via: ["example.org"] }, sender: "@a:example.org", origin_server_ts: 1 })),
  };
}

beforeAll(() => {
  blockRealNetwork();
});

afterEach(() => {
  const unused = SynapseNock.unused();
  resetSynapseNock();
  nock.disableNetConnect();
  expect(unused).toEqual([]);
});

describe("roomHierarchy", () => {
  it("GETs rooms/<encoded room>/hierarchy with from, limit and max_depth, and reads the summaries", async () => {
    const { client, synapse } = harness();
    const page = { rooms: [summary("!a:example.org", ["!b:example.org"]), summary("!b:example.org")], next_batch: "tok/en?" };
    synapse.ok("GET", page);

    const result = await client.roomHierarchy(SPACE, { from: "abc/def", limit: 50, maxDepth: 2 });

    expect(result).toEqual({ ok: true, value: page });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization, request.body])).toEqual([
      ["GET", `/_synapse/admin/v1/rooms/${SPACE_IN_PATH}/hierarchy?from=abc%2Fdef&limit=50&max_depth=2`, `Bearer ${TOKEN}`, undefined],
    ]);
  });

  it("sends no query string by default, and reads an entry without children_state as having none", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [{ room_id: "!a:example.org", num_joined_members: 1 }] });

    const result = await client.roomHierarchy(SPACE);

    expect(result).toEqual({ ok: true, value: { rooms: [{ room_id: "!a:example.org", num_joined_members: 1, children_state: [] }] } });
    expect(synapse.seen.map((request) => request.path)).toEqual([`/_synapse/admin/v1/rooms/${SPACE_IN_PATH}/hierarchy`]);
  });

  it("refuses a malformed answer, naming where", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [{ name: "no id" }, summary("!b:example.org")], next_batch: 7 });

    const error = failure(await client.roomHierarchy(SPACE));

    expect(error.kind).toBe("bad-response");
    expect(error.detail).toBe("unexpected shape at rooms.0.room_id, next_batch");
  });

  it("reports a Synapse without the endpoint (before 1.142) as 404 M_UNRECOGNIZED", async () => {
    const { client, synapse } = harness();
    synapse.answer("GET", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });

    const error = failure(await client.roomHierarchy(SPACE));

    expect([error.kind, error.errcode]).toEqual(["not-found", "M_UNRECOGNIZED"]);
  });
});

describe("listRooms' newer fields", () => {
  it("reads join_rules and room_type of each room", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [listed("!a:example.org", { join_rules: "invite", room_type: "m.space" })], offset: 0, total_rooms: 1 });

    const result = await client.listRooms();

    expect(result.ok && result.value.rooms[0]).toMatchObject({ join_rules: "invite", room_type: "m.space" });
  });
});

describe("listAllRooms", () => {
  it("asks for 500 rooms a page from each next_batch until there is none, and returns them in order", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [listed("!a:x"), listed("!b:x")], offset: 0, total_rooms: 5, next_batch: 500 });
    synapse.ok("GET", { rooms: [listed("!c:x"), listed("!d:x")], offset: 500, total_rooms: 5, next_batch: 1000 });
    synapse.ok("GET", { rooms: [listed("!e:x")], offset: 1000, total_rooms: 5 });

    const result = await listAllRooms(client, { searchTerm: "spam room", orderBy: "name" });

    expect(result.ok && result.value.map((room) => room.room_id)).toEqual(["!a:x", "!b:x", "!c:x", "!d:x", "!e:x"]);
    expect(synapse.seen.map((request) => request.path)).toEqual([
      "/_synapse/admin/v1/rooms?search_term=spam+room&order_by=name&limit=500&from=0",
      "/_synapse/admin/v1/rooms?search_term=spam+room&order_by=name&limit=500&from=500",
      "/_synapse/admin/v1/rooms?search_term=spam+room&order_by=name&limit=500&from=1000",
    ]);
  });

  it("keeps a room once when a shifted page lists it again", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [listed("!a:x"), listed("!b:x")], offset: 0, total_rooms: 3, next_batch: 2 });
    synapse.ok("GET", { rooms: [listed("!b:x"), listed("!c:x")], offset: 2, total_rooms: 3 });

    const result = await listAllRooms(client, {}, 2);

    expect(result.ok && result.value.map((room) => room.room_id)).toEqual(["!a:x", "!b:x", "!c:x"]);
    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/rooms?limit=2&from=0", "/_synapse/admin/v1/rooms?limit=2&from=2"]);
  });

  it("stops at a malformed page with its error, asking for no more", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [listed("!a:x")], offset: 0, total_rooms: 3, next_batch: 1 });
    synapse.ok("GET", { rooms: [{ room_id: "!b:x", joined_members: "two" }], offset: 1, total_rooms: 3, next_batch: 2 });

    const error = failure(await listAllRooms(client, {}, 1));

    expect([error.kind, error.detail]).toEqual(["bad-response", "unexpected shape at rooms.0.joined_members"]);
    expect(synapse.seen).toHaveLength(2);
  });

  it("refuses a next_batch that does not move forward instead of asking forever", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [listed("!a:x")], offset: 0, total_rooms: 3, next_batch: 500 });
    synapse.ok("GET", { rooms: [listed("!b:x")], offset: 500, total_rooms: 3, next_batch: 500 });

    const error = failure(await listAllRooms(client));

    expect([error.kind, error.detail]).toEqual(["bad-response", "the room list's next_batch 500 does not move past 500"]);
  });
});

describe("wholeHierarchy", () => {
  it("follows next_batch, 50 rooms a page, and keeps each room once (Synapse may repeat an entry)", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [summary("!space:x", ["!a:x", "!b:x"]), summary("!a:x")], next_batch: "t/1" });
    synapse.ok("GET", { rooms: [summary("!a:x"), summary("!b:x")] });

    const result = await wholeHierarchy(client, SPACE);

    expect(result.ok && result.value.map((room) => room.room_id)).toEqual(["!space:x", "!a:x", "!b:x"]);
    expect(synapse.seen.map((request) => request.path)).toEqual([
      `/_synapse/admin/v1/rooms/${SPACE_IN_PATH}/hierarchy?limit=50`,
      `/_synapse/admin/v1/rooms/${SPACE_IN_PATH}/hierarchy?from=t%2F1&limit=50`,
    ]);
  });

  it("refuses a repeated next_batch", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [summary("!space:x")], next_batch: "same" });
    synapse.ok("GET", { rooms: [summary("!a:x")], next_batch: "same" });

    const error = failure(await wholeHierarchy(client, SPACE));

    expect([error.kind, error.detail]).toEqual(["bad-response", "the space hierarchy repeated its next_batch same"]);
  });

  it("stops at the first failing page with its error", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [summary("!space:x")], next_batch: "t1" });
    synapse.answer("GET", { status: 400, json: { errcode: "M_INVALID_PARAM", error: "Unknown pagination token" } });

    const error = failure(await wholeHierarchy(client, SPACE));

    expect([error.kind, error.detail]).toEqual(["bad-request", "Unknown pagination token"]);
    expect(synapse.seen).toHaveLength(2);
  });
});
