import { describe, expect, it } from "vitest";
import type { EventId, RoomId, UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import type { HttpMethod } from "../../../src/synapse/http.js";
import type { Result } from "../../../src/util/result.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const ROOM = "!room:example.org" as RoomId;
const USER = "@spam:example.org" as UserId;
const EVENT = "$event" as EventId;
const BROKEN = { status: 502, json: { errcode: "M_UNKNOWN", error: "Bad gateway" } } as const;

interface Call {
  readonly method: HttpMethod;
  readonly answer: unknown;
  readonly call: (client: SynapseAdminClient) => Promise<Result<unknown, unknown>>;
}

function harness(): { client: SynapseAdminClient; waits: number[] } {
  const waits: number[] = [];
  const client = new SynapseAdminClient({
    homeserverUrl: HOMESERVER_URL,
    accessToken: "syt_retry_policy_token",
    sleep: (milliseconds) => {
      waits.push(milliseconds);
      return Promise.resolve();
    },
  });
  return { client, waits };
}

useSynapseNock();

// Reads, and writes that are harmless to repeat (a block, a power-level grant), are sent again
// after a 5xx: a tracker's poll or a command's lookup survives a homeserver restart.
const REPEATABLE: Record<string, Call> = {
  serverVersion: { method: "GET", answer: { server_version: "1.163.2" }, call: (c) => c.serverVersion() },
  roomDetails: { method: "GET", answer: { room_id: ROOM, joined_members: 1, joined_local_members: 1 }, call: (c) => c.roomDetails(ROOM) },
  fetchEvent: {
    method: "GET",
    answer: { event: { room_id: ROOM, sender: USER, type: "m.room.message", origin_server_ts: 1 } },
    call: (c) => c.fetchEvent(EVENT),
  },
  purgeStatus: { method: "GET", answer: { status: "active" }, call: (c) => c.purgeStatus("purge-1") },
  deleteStatus: { method: "GET", answer: { status: "active" }, call: (c) => c.deleteStatus("delete-1") },
  deleteStatusesForRoom: { method: "GET", answer: { results: [] }, call: (c) => c.deleteStatusesForRoom(ROOM) },
  blockStatus: { method: "GET", answer: { block: false }, call: (c) => c.blockStatus(ROOM) },
  setBlocked: { method: "PUT", answer: { block: true }, call: (c) => c.setBlocked(ROOM, true) },
  listRooms: { method: "GET", answer: { rooms: [], total_rooms: 0 }, call: (c) => c.listRooms() },
  roomMembers: { method: "GET", answer: { members: [] }, call: (c) => c.roomMembers(ROOM) },
  roomMessages: { method: "GET", answer: { chunk: [] }, call: (c) => c.roomMessages(ROOM, { direction: "f", limit: 10 }) },
  timestampToEvent: { method: "GET", answer: { event_id: "$e", origin_server_ts: 1 }, call: (c) => c.timestampToEvent(ROOM, 1, "b") },
  makeRoomAdmin: { method: "POST", answer: {}, call: (c) => c.makeRoomAdmin(ROOM) },
  userMemberships: { method: "GET", answer: { memberships: {} }, call: (c) => c.userMemberships(USER) },
  userDevices: { method: "GET", answer: { devices: [] }, call: (c) => c.userDevices(USER) },
  redactStatus: { method: "GET", answer: { status: "active" }, call: (c) => c.redactStatus("redact-1") },
  scheduledTasks: { method: "GET", answer: { scheduled_tasks: [] }, call: (c) => c.scheduledTasks() },
};

// Requests that start a job: a lost answer may mean the job started, so they are never resent
// (the launcher looks the job up in the homeserver's task list instead).
const STARTS: Record<string, Call> = {
  startPurge: { method: "POST", answer: { purge_id: "p" }, call: (c) => c.startPurge(ROOM, { timestamp: 1 }, false) },
  startDelete: { method: "DELETE", answer: { delete_id: "d" }, call: (c) => c.startDelete(ROOM, { block: false, purge: true, forcePurge: false }) },
  startRedact: { method: "POST", answer: { redact_id: "r" }, call: (c) => c.startRedact(USER, { rooms: [] }) },
};

describe("SynapseAdminClient retry policy, method by method", () => {
  it.each(Object.entries(REPEATABLE))("%s is sent again after a 5xx and then succeeds", async (_name, { method, answer, call }) => {
    const synapse = new SynapseNock().answer(method, BROKEN, { status: 200, json: answer });
    const { client, waits } = harness();

    const result = await call(client);

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
    expect(waits).toEqual([500]);
  });

  it.each(Object.entries(STARTS))("%s is sent once: a 5xx is reported, not resent", async (_name, { method, call }) => {
    const synapse = new SynapseNock().answer(method, BROKEN);
    const { client, waits } = harness();

    const result = await call(client);

    expect(result).toMatchObject({ ok: false, error: { kind: "server-error", status: 502 } });
    expect(synapse.seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it.each(Object.entries(STARTS))("%s still waits out a 429 and sends again (Synapse refused it, nothing started)", async (_name, { method, answer, call }) => {
    const synapse = new SynapseNock().answer(method, { status: 429, json: { errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 750 } }, { status: 200, json: answer });
    const { client, waits } = harness();

    const result = await call(client);

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
    expect(waits).toEqual([750]);
  });
});
