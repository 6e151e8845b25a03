import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EventId, RoomId, UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient, type AdminError } from "../../../src/synapse/adminClient.js";
import type { HttpOptions } from "../../../src/synapse/http.js";
import type { Result } from "../../../src/util/result.js";
import { blockRealNetwork, HOMESERVER_URL, resetSynapseNock, SynapseNock } from "../../fakes/synapseNock.js";

const TOKEN = "syt_d2FyZGVu_SecretTokenValue_0xBEEF";

// IDs with every character that would break a path if it were pasted in unencoded.
const ROOM = "!we/ird?room#x%y z:é.example" as RoomId;
const ROOM_IN_PATH = "!we%2Fird%3Froom%23x%25y%20z%3A%C3%A9.example";
const EVENT = "$ev/ent?#%é x" as EventId;
const EVENT_IN_PATH = "%24ev%2Fent%3F%23%25%C3%A9%20x";
const USER = "@mod/x?#%é y:example.org" as UserId;

interface Harness {
  readonly client: SynapseAdminClient;
  readonly synapse: SynapseNock;
  /** Every wait the client asked for, instead of really waiting. */
  readonly waits: number[];
}

function harness(overrides: Partial<HttpOptions> = {}): Harness {
  const waits: number[] = [];
  const client = new SynapseAdminClient({
    homeserverUrl: HOMESERVER_URL,
    accessToken: TOKEN,
    sleep: (milliseconds) => {
      waits.push(milliseconds);
      return Promise.resolve();
    },
    ...overrides,
  });
  return { client, synapse: new SynapseNock(), waits };
}

function failure<T>(result: Result<T, AdminError>): AdminError {
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result.value)}`);
  return result.error;
}

function expectNoToken(error: AdminError): void {
  expect(JSON.stringify(error)).not.toContain(TOKEN);
  expect(JSON.stringify(error)).not.toContain("SecretTokenValue");
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

describe("SynapseAdminClient requests", () => {
  it("serverVersion: GET server_version with the bearer token and no body", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { server_version: "1.163.0" });

    const result = await client.serverVersion();

    expect(result).toEqual({ ok: true, value: { server_version: "1.163.0" } });
    expect(synapse.seen).toEqual([
      { method: "GET", path: "/_synapse/admin/v1/server_version", authorization: `Bearer ${TOKEN}`, contentType: null, body: undefined },
    ]);
  });

  it("roomDetails: GET rooms/<encoded room>", async () => {
    const { client, synapse } = harness();
    const details = { room_id: ROOM, name: "Spam", joined_members: 4, joined_local_members: 1, a_field_from_a_newer_synapse: 7 };
    synapse.ok("GET", details);

    const result = await client.roomDetails(ROOM);

    expect(result).toEqual({ ok: true, value: details });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization, request.body])).toEqual([
      ["GET", `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}`, `Bearer ${TOKEN}`, undefined],
    ]);
  });

  it("fetchEvent: GET fetch_event/<encoded event>", async () => {
    const { client, synapse } = harness();
    const event = { room_id: "!r:example.org", sender: "@s:example.org", type: "m.room.message", origin_server_ts: 1_700_000_000_000 };
    synapse.ok("GET", { event });

    const result = await client.fetchEvent(EVENT);

    expect(result).toEqual({ ok: true, value: { event } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization])).toEqual([
      ["GET", `/_synapse/admin/v1/fetch_event/${EVENT_IN_PATH}`, `Bearer ${TOKEN}`],
    ]);
  });

  it("startPurge up to an event: POST purge_history/<encoded room> with the event id in the body", async () => {
    const { client, synapse } = harness();
    synapse.ok("POST", { purge_id: "purge-1" });

    const result = await client.startPurge(ROOM, { eventId: EVENT }, false);

    expect(result).toEqual({ ok: true, value: { purge_id: "purge-1" } });
    expect(synapse.seen).toEqual([
      {
        method: "POST",
        path: `/_synapse/admin/v1/purge_history/${ROOM_IN_PATH}`,
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json",
        body: { delete_local_events: false, purge_up_to_event_id: EVENT },
      },
    ]);
  });

  it("startPurge up to a time: POST purge_history with purge_up_to_ts", async () => {
    const { client, synapse } = harness();
    synapse.ok("POST", { purge_id: "purge-2" });

    await client.startPurge(ROOM, { timestamp: 1_700_000_000_123 }, true);

    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["POST", `/_synapse/admin/v1/purge_history/${ROOM_IN_PATH}`, { delete_local_events: true, purge_up_to_ts: 1_700_000_000_123 }],
    ]);
  });

  it("purgeStatus: GET purge_history_status/<encoded id>", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { status: "failed", error: "disk full" });

    const result = await client.purgeStatus("id/with?odd#chars");

    expect(result).toEqual({ ok: true, value: { status: "failed", error: "disk full" } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization])).toEqual([
      ["GET", "/_synapse/admin/v1/purge_history_status/id%2Fwith%3Fodd%23chars", `Bearer ${TOKEN}`],
    ]);
  });

  it("startDelete with only the required options: DELETE v2 rooms/<encoded room> with no optional keys", async () => {
    const { client, synapse } = harness();
    synapse.ok("DELETE", { delete_id: "delete-1" });

    const result = await client.startDelete(ROOM, { block: true, purge: true, forcePurge: false });

    expect(result).toEqual({ ok: true, value: { delete_id: "delete-1" } });
    expect(synapse.seen).toEqual([
      {
        method: "DELETE",
        path: `/_synapse/admin/v2/rooms/${ROOM_IN_PATH}`,
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json",
        body: { block: true, purge: true, force_purge: false },
      },
    ]);
  });

  it("startDelete with every option: the body names them as Synapse spells them", async () => {
    const { client, synapse } = harness();
    synapse.ok("DELETE", { delete_id: "delete-2" });

    await client.startDelete(ROOM, {
      block: false,
      purge: false,
      forcePurge: true,
      newRoomUserId: "@warden:example.org" as UserId,
      roomName: "Closed",
      message: "This room was shut down.",
    });

    expect(synapse.seen.map((request) => request.body)).toEqual([
      {
        block: false,
        purge: false,
        force_purge: true,
        new_room_user_id: "@warden:example.org",
        room_name: "Closed",
        message: "This room was shut down.",
      },
    ]);
  });

  it("deleteStatus: GET v2 rooms/delete_status/<encoded id>", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { status: "complete", shutdown_room: { kicked_users: ["@a:example.org"] } });

    const result = await client.deleteStatus("del/1?#");

    expect(result).toEqual({
      ok: true,
      value: { status: "complete", shutdown_room: { kicked_users: ["@a:example.org"], failed_to_kick_users: [], local_aliases: [] } },
    });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization])).toEqual([
      ["GET", "/_synapse/admin/v2/rooms/delete_status/del%2F1%3F%23", `Bearer ${TOKEN}`],
    ]);
  });

  it("blockStatus: GET rooms/<encoded room>/block", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { block: true, user_id: "@mod:example.org" });

    const result = await client.blockStatus(ROOM);

    expect(result).toEqual({ ok: true, value: { block: true, user_id: "@mod:example.org" } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization, request.body])).toEqual([
      ["GET", `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/block`, `Bearer ${TOKEN}`, undefined],
    ]);
  });

  it("setBlocked: PUT rooms/<encoded room>/block with {block}", async () => {
    const { client, synapse } = harness();
    synapse.ok("PUT", { block: true });

    const result = await client.setBlocked(ROOM, true);

    expect(result).toEqual({ ok: true, value: { block: true } });
    expect(synapse.seen).toEqual([
      {
        method: "PUT",
        path: `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/block`,
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json",
        body: { block: true },
      },
    ]);
  });

  it("scheduledTasks with a filter: GET scheduled_tasks with the filter encoded in the query", async () => {
    const { client, synapse } = harness();
    const job = { id: "job1", action: "purge_history", status: "active", timestamp_ms: 5, resource_id: ROOM };
    synapse.ok("GET", { scheduled_tasks: [job] });

    const result = await client.scheduledTasks({ actionName: "purge_history", resourceId: ROOM, statuses: ["active"] });

    expect(result).toEqual({ ok: true, value: { scheduled_tasks: [job] } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization])).toEqual([
      [
        "GET",
        "/_synapse/admin/v1/scheduled_tasks?action_name=purge_history&resource_id=%21we%2Fird%3Froom%23x%25y+z%3A%C3%A9.example&job_status=active",
        `Bearer ${TOKEN}`,
      ],
    ]);
  });

  it("scheduledTasks with several statuses: job_status repeated, once per status, in order", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { scheduled_tasks: [] });

    await client.scheduledTasks({ statuses: ["active", "scheduled"] });

    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/scheduled_tasks?job_status=active&job_status=scheduled"]);
  });

  it("scheduledTasks with an empty status list: no status filter", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { scheduled_tasks: [] });

    await client.scheduledTasks({ statuses: [] });

    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/scheduled_tasks"]);
  });

  it("scheduledTasks up to a time: max_timestamp, after the statuses", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { scheduled_tasks: [] });

    await client.scheduledTasks({ statuses: ["active", "scheduled"], maxTimestamp: 1_795_651_200_000 });

    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/scheduled_tasks?job_status=active&job_status=scheduled&max_timestamp=1795651200000"]);
  });

  it("scheduledTasks without a filter: no query string at all", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { scheduled_tasks: [] });

    await client.scheduledTasks();

    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/scheduled_tasks"]);
  });
});

describe("SynapseAdminClient requests of the room and homeserver commands", () => {
  it("listRooms with every option: search term, order, limit and offset encoded in the query", async () => {
    const { client, synapse } = harness();
    const page = {
      rooms: [{ room_id: "!a:example.org", name: "Spam & eggs", canonical_alias: null, joined_members: 3, joined_local_members: 1, public: false }],
      offset: 20,
      total_rooms: 41,
      next_batch: 30,
    };
    synapse.ok("GET", page);

    const result = await client.listRooms({ searchTerm: "spam & é/?#", orderBy: "joined_local_members", limit: 10, from: 20 });

    expect(result).toEqual({ ok: true, value: page });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization, request.body])).toEqual([
      [
        "GET",
        "/_synapse/admin/v1/rooms?search_term=spam+%26+%C3%A9%2F%3F%23&order_by=joined_local_members&limit=10&from=20",
        `Bearer ${TOKEN}`,
        undefined,
      ],
    ]);
  });

  it("listRooms without options: no query string, and a last page without next_batch", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { rooms: [], offset: 0, total_rooms: 0 });

    const result = await client.listRooms();

    expect(result).toEqual({ ok: true, value: { rooms: [], offset: 0, total_rooms: 0 } });
    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/rooms"]);
  });

  it("roomMembers: GET rooms/<encoded room>/members", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { members: ["@a:example.org", "@b:remote.example"], total: 2 });

    const result = await client.roomMembers(ROOM);

    expect(result).toEqual({ ok: true, value: { members: ["@a:example.org", "@b:remote.example"], total: 2 } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization, request.body])).toEqual([
      ["GET", `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/members`, `Bearer ${TOKEN}`, undefined],
    ]);
  });

  it("makeRoomAdmin with a user: POST rooms/<encoded room>/make_room_admin with {user_id}", async () => {
    const { client, synapse } = harness();
    synapse.ok("POST", {});

    const result = await client.makeRoomAdmin(ROOM, USER);

    expect(result).toEqual({ ok: true, value: {} });
    expect(synapse.seen).toEqual([
      {
        method: "POST",
        path: `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/make_room_admin`,
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json",
        body: { user_id: USER },
      },
    ]);
  });

  it("makeRoomAdmin without a user: an empty JSON object, so Synapse picks the caller", async () => {
    const { client, synapse } = harness();
    synapse.ok("POST", {});

    await client.makeRoomAdmin(ROOM);

    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["POST", `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/make_room_admin`, {}],
    ]);
  });

  it("makeRoomAdmin's 400 keeps Synapse's sentence for the command to explain", async () => {
    const { client, synapse } = harness();
    synapse.answer("POST", { status: 400, json: { errcode: "M_UNKNOWN", error: "No local admin user in room" } });

    const error = failure(await client.makeRoomAdmin(ROOM));

    expect(error).toMatchObject({ kind: "bad-request", status: 400, detail: "No local admin user in room" });
    expect(synapse.seen).toHaveLength(1);
  });

  it("setBlocked(false): PUT rooms/<encoded room>/block with {block: false}", async () => {
    const { client, synapse } = harness();
    synapse.ok("PUT", { block: false });

    const result = await client.setBlocked(ROOM, false);

    expect(result).toEqual({ ok: true, value: { block: false } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["PUT", `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/block`, { block: false }],
    ]);
  });
});

describe("SynapseAdminClient errors", () => {
  it("400: bad-request carrying Synapse's own error text", async () => {
    const { client, synapse, waits } = harness();
    synapse.answer("POST", { status: 400, json: { errcode: "M_BAD_JSON", error: "purge_up_to_ts must be an int" } });

    const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

    expect(error).toMatchObject({ kind: "bad-request", status: 400, errcode: "M_BAD_JSON", detail: "purge_up_to_ts must be an int" });
    expect(error.userMessage).toContain("purge_up_to_ts must be an int");
    expect(waits).toEqual([]);
    expectNoToken(error);
  });

  it("401: unauthorized, not retried", async () => {
    const { client, synapse, waits } = harness();
    synapse.answer("GET", { status: 401, json: { errcode: "M_UNKNOWN_TOKEN", error: "Invalid access token passed." } });

    const error = failure(await client.roomDetails(ROOM));

    expect(error).toMatchObject({ kind: "unauthorized", status: 401, errcode: "M_UNKNOWN_TOKEN" });
    expect(synapse.seen).toHaveLength(1);
    expect(waits).toEqual([]);
    expectNoToken(error);
  });

  it("403: forbidden, with Synapse's reason", async () => {
    const { client, synapse } = harness();
    synapse.answer("GET", { status: 403, json: { errcode: "M_FORBIDDEN", error: "You are not a server admin" } });

    const error = failure(await client.listRooms({ limit: 1 }));

    expect(error).toMatchObject({ kind: "forbidden", status: 403, errcode: "M_FORBIDDEN", detail: "You are not a server admin" });
    expect(error.userMessage).toContain("You are not a server admin");
    expectNoToken(error);
  });

  it("404 from purge_history keeps Synapse's 'There is no event to be purged'", async () => {
    const { client, synapse } = harness();
    synapse.answer("POST", { status: 404, json: { errcode: "M_NOT_FOUND", error: "There is no event to be purged" } });

    const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

    expect(error).toMatchObject({ kind: "not-found", status: 404, detail: "There is no event to be purged" });
    expect(error.userMessage).toContain("There is no event to be purged");
    expect(synapse.seen).toHaveLength(1);
    expectNoToken(error);
  });

  it("429 with retry_after_ms: waits that long, then retries and succeeds", async () => {
    const { client, synapse, waits } = harness();
    synapse.answer(
      "POST",
      { status: 429, json: { errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests", retry_after_ms: 2_500 } },
      { status: 200, json: { purge_id: "purge-after-wait" } },
    );

    const result = await client.startPurge(ROOM, { timestamp: 1 }, false);

    expect(result).toEqual({ ok: true, value: { purge_id: "purge-after-wait" } });
    expect(waits).toEqual([2_500]);
    expect(synapse.seen.map((request) => request.method)).toEqual(["POST", "POST"]);
  });

  it("429 with only a Retry-After header (seconds): waits that many seconds", async () => {
    const { client, synapse, waits } = harness();
    synapse.answer("GET", { status: 429, text: "slow down", headers: { "retry-after": "3" } }, { status: 200, json: { block: false } });

    const result = await client.blockStatus(ROOM);

    expect(result).toEqual({ ok: true, value: { block: false } });
    expect(waits).toEqual([3_000]);
  });

  it("429 on every attempt: gives up after a bounded number of waits and reports rate-limited", async () => {
    const { client, synapse, waits } = harness();
    const limited = { status: 429, json: { errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 500_000 } } as const;
    synapse.answer("GET", limited, limited, limited, limited, limited, limited);

    const error = failure(await client.blockStatus(ROOM));

    expect(error.kind).toBe("rate-limited");
    expect(synapse.seen).toHaveLength(6);
    // A huge retry_after_ms is capped so one answer cannot stall Warden for minutes.
    expect(waits).toEqual([120_000, 120_000, 120_000, 120_000, 120_000]);
    expectNoToken(error);
  });

  it("5xx on a GET: retried with growing waits, then succeeds", async () => {
    const { client, synapse, waits } = harness();
    synapse.answer("GET", { status: 500, json: { errcode: "M_UNKNOWN", error: "Internal server error" } }, { status: 503, text: "" }, {
      status: 200,
      json: { status: "active" },
    });

    const result = await client.purgeStatus("purge-1");

    expect(result).toEqual({ ok: true, value: { status: "active" } });
    expect(waits).toEqual([500, 1_000]);
    expect(synapse.seen).toHaveLength(3);
  });

  it("5xx on every GET attempt: bounded retries, then server-error", async () => {
    const { client, synapse, waits } = harness();
    const broken = { status: 500, json: { errcode: "M_UNKNOWN", error: "Internal server error" } } as const;
    synapse.answer("GET", broken, broken, broken, broken);

    const error = failure(await client.deleteStatus("delete-1"));

    expect(error).toMatchObject({ kind: "server-error", status: 500, detail: "Internal server error" });
    expect(synapse.seen).toHaveLength(4);
    expect(waits).toEqual([500, 1_000, 2_000]);
    expectNoToken(error);
  });

  it("5xx on POST purge_history: not resent (the purge may have started)", async () => {
    const { client, synapse, waits } = harness();
    synapse.answer("POST", { status: 500, json: { errcode: "M_UNKNOWN", error: "Internal server error" } });

    const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

    expect(error).toMatchObject({ kind: "server-error", status: 500 });
    expect(synapse.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("5xx on DELETE room: not resent", async () => {
    const { client, synapse, waits } = harness();
    synapse.answer("DELETE", { status: 503, json: { errcode: "M_UNKNOWN", error: "try later" } });

    const error = failure(await client.startDelete(ROOM, { block: true, purge: true, forcePurge: false }));

    expect(error).toMatchObject({ kind: "server-error", status: 503 });
    expect(synapse.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("a proxy's HTML 502 page: a clear server-error, no crash", async () => {
    const { client, synapse } = harness();
    synapse.answer("POST", {
      status: 502,
      text: "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>",
      headers: { "content-type": "text/html" },
    });

    const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

    expect(error.kind).toBe("server-error");
    expect(error.status).toBe(502);
    expect(error.userMessage).toContain("502");
    expect(error.userMessage).not.toContain("<html>");
    expectNoToken(error);
  });

  it("a 200 HTML page (a login portal in front of Synapse): bad-response naming what came back", async () => {
    const { client, synapse } = harness();
    synapse.answer("GET", { status: 200, text: "<html>Please log in</html>", headers: { "content-type": "text/html" } });

    const error = failure(await client.serverVersion());

    expect(error.kind).toBe("bad-response");
    expect(error.detail).toContain("text/html");
    expect(error.userMessage).not.toContain("Please log in");
  });

  it("a 200 with the wrong shape: bad-response naming the fields", async () => {
    const { client, synapse } = harness();
    synapse.ok("GET", { room_id: ROOM, joined_members: "many" });

    const error = failure(await client.roomDetails(ROOM));

    expect(error.kind).toBe("bad-response");
    expect(error.status).toBe(200);
    expect(error.detail).toContain("joined_members");
    expect(error.detail).toContain("joined_local_members");
    expect(synapse.seen).toHaveLength(1);
  });

  it("a 200 whose purge_id is empty: bad-response naming purge_id", async () => {
    const { client, synapse } = harness();
    synapse.ok("POST", { purge_id: "" });

    const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

    expect(error.kind).toBe("bad-response");
    expect(error.detail).toContain("purge_id");
  });

  it("a server that echoes the token in its error text: the token stays out of the AdminError", async () => {
    const { client, synapse } = harness();
    synapse.answer("GET", {
      status: 400,
      json: { errcode: "M_UNKNOWN", error: `Rejected header 'Authorization: Bearer ${TOKEN}'` },
    });

    const error = failure(await client.roomDetails(ROOM));

    expect(error.kind).toBe("bad-request");
    expectNoToken(error);
  });
});

describe("SynapseAdminClient transport failures", () => {
  async function closedPort(): Promise<number> {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  }

  it("unreachable POST: one attempt, kind unreachable with the socket error code", async () => {
    nock.enableNetConnect("127.0.0.1");
    const { client, waits } = harness({ homeserverUrl: `http://127.0.0.1:${await closedPort()}` });

    const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

    expect(error).toMatchObject({ kind: "unreachable", detail: "ECONNREFUSED" });
    expect(waits).toEqual([]);
    expectNoToken(error);
  });

  it("unreachable GET: retried a bounded number of times", async () => {
    nock.enableNetConnect("127.0.0.1");
    const { client, waits } = harness({ homeserverUrl: `http://127.0.0.1:${await closedPort()}` });

    const error = failure(await client.serverVersion());

    expect(error.kind).toBe("unreachable");
    expect(waits).toEqual([500, 1_000, 2_000]);
  });

  it("no answer before requestTimeoutMs on POST: timeout, not resent", async () => {
    const { client, synapse, waits } = harness({ requestTimeoutMs: 50 });
    synapse.answer("POST", { hang: true });

    const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

    expect(error.kind).toBe("timeout");
    expect(synapse.seen).toHaveLength(1);
    expect(waits).toEqual([]);
    expectNoToken(error);
  });

  it("no answer before requestTimeoutMs on GET: retried boundedly, then timeout", async () => {
    const { client, synapse, waits } = harness({ requestTimeoutMs: 50 });
    synapse.answer("GET", { hang: true }, { hang: true }, { hang: true }, { hang: true });

    const error = failure(await client.purgeStatus("purge-1"));

    expect(error.kind).toBe("timeout");
    expect(synapse.seen).toHaveLength(4);
    expect(waits).toEqual([500, 1_000, 2_000]);
  });

  describe("a server that sends headers and then stalls the body", () => {
    let server: Server | undefined;

    afterEach(async () => {
      const running = server;
      server = undefined;
      if (running === undefined) return;
      running.closeAllConnections();
      await new Promise<void>((resolve) => running.close(() => { resolve(); }));
    });

    it("is reported as a timeout, not as an unreadable answer", async () => {
      nock.enableNetConnect("127.0.0.1");
      const stalling = createHttpServer((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.write('{"purge_id": "purge-');
      });
      server = stalling;
      await new Promise<void>((resolve) => stalling.listen(0, "127.0.0.1", resolve));
      const address = stalling.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      const { client } = harness({ homeserverUrl: `http://127.0.0.1:${address.port}`, requestTimeoutMs: 100 });

      const error = failure(await client.startPurge(ROOM, { timestamp: 1 }, false));

      expect(error.kind).toBe("timeout");
    });
  });
});
