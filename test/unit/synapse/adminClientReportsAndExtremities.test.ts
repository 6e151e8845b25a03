import { describe, expect, it } from "vitest";
import type { EventId, RoomId, UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { queryOf, SynapseNock, useSynapseNock, waitRecordingClient } from "../../fakes/synapseNock.js";

const ROOM = "!room/with?odd#chars:example.org" as RoomId;
const ENCODED_ROOM = encodeURIComponent(ROOM);
const EVENT = "$event/1" as EventId;
const BROKEN = { status: 502, json: { errcode: "M_UNKNOWN", error: "Bad gateway" } } as const;

function client(): { admin: SynapseAdminClient; waits: number[] } {
  return waitRecordingClient("syt_reports_token");
}

const query = queryOf;

useSynapseNock();

const REPORTS = { event_reports: [], total: 0 };

describe("SynapseAdminClient.eventReports", () => {
  it("asks GET /_synapse/admin/v1/event_reports with every filter under Synapse's parameter names", async () => {
    const synapse = new SynapseNock().ok("GET", REPORTS);

    const result = await client().admin.eventReports({
      from: 40,
      limit: 20,
      direction: "f",
      eventSender: "@spam:example.org" as UserId,
      roomId: "!room:example.org" as RoomId,
    });

    expect(result).toEqual({ ok: true, value: { ...REPORTS, unreadable: [] } });
    expect(synapse.seen).toHaveLength(1);
    expect(synapse.seen[0]?.method).toBe("GET");
    expect(synapse.seen[0]?.path.split("?")[0]).toBe("/_synapse/admin/v1/event_reports");
    expect(query(synapse.seen[0]?.path ?? "")).toEqual({
      from: "40",
      limit: "20",
      dir: "f",
      event_sender_user_id: "@spam:example.org",
      room_id: "!room:example.org",
    });
  });

  it("sends no filter it was not given", async () => {
    const synapse = new SynapseNock().ok("GET", REPORTS);

    await client().admin.eventReports();

    expect(synapse.seen[0]?.path).toBe("/_synapse/admin/v1/event_reports");
  });

  it("asks again after a 5xx: reading reports is harmless to repeat", async () => {
    const synapse = new SynapseNock().answer("GET", BROKEN, { status: 200, json: REPORTS });
    const { admin, waits } = client();

    const result = await admin.eventReports();

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
    expect(waits).toHaveLength(1);
  });
});

describe("SynapseAdminClient.eventReports: each entry read on its own", () => {
  const entry = (id: number, more: Record<string, unknown> = {}) => ({ id, received_ts: 1000 + id, room_id: "!r:x", event_id: `$e${id}`, user_id: "@rep:x", reason: "spam", sender: "@s:x", ...more });

  it("keeps a score only when it is a safe integer: text (MSC4277), fractions and numbers beyond 2^53 leave the report readable without it", async () => {
    new SynapseNock().ok("GET", {
      event_reports: [entry(1, { score: -100 }), entry(2, { score: "high" }), entry(3, { score: 0.5 }), entry(4, { score: 1e20 }), entry(5, { score: { level: 3 } }), entry(6, { score: null }), entry(7)],
      total: 7,
    });

    const result = await client().admin.eventReports();

    expect(result.ok && result.value.event_reports.map((report) => [report.id, report.score])).toEqual([
      [1, -100],
      [2, undefined],
      [3, undefined],
      [4, undefined],
      [5, undefined],
      [6, undefined],
      [7, undefined],
    ]);
    expect(result.ok && result.value.unreadable).toEqual([]);
  });

  it("sets aside an entry it cannot read, with its place, its id if any and what was wrong, and reads the rest", async () => {
    new SynapseNock().ok("GET", {
      event_reports: [entry(1), entry(2, { event_id: 42 }), "not an object", entry(4), { received_ts: "soon", reason: 7 }],
      total: 40,
      next_token: 5,
    });

    const result = await client().admin.eventReports();

    expect(result).toEqual({
      ok: true,
      value: {
        event_reports: [entry(1), entry(4)],
        total: 40,
        next_token: 5,
        unreadable: [
          { position: 1, id: 2, problem: "event_id: Invalid input: expected string, received number", fields: '[2,1002,42,"@rep:x"]' },
          { position: 2, problem: "the entry: Invalid input: expected object, received string", fields: "[null,null,null,null]" },
          {
            position: 4,
            problem:
              "id: Invalid input: expected number, received undefined; received_ts: Invalid input: expected number, received string; room_id: Invalid input: expected string, received undefined; event_id: Invalid input: expected string, received undefined; user_id: Invalid input: expected string, received undefined; reason: Invalid input: expected string, received number",
            fields: '[null,"soon",null,null]',
          },
        ],
      },
    });
  });

  it("still refuses a page whose own shape is wrong", async () => {
    new SynapseNock().ok("GET", { event_reports: {}, total: "many" });

    const result = await client().admin.eventReports();

    expect(result).toMatchObject({ ok: false, error: { kind: "bad-response", detail: expect.stringContaining("event_reports, total") as unknown } });
  });
});

describe("SynapseAdminClient.eventReport", () => {
  it("asks GET /_synapse/admin/v1/event_reports/<id> and reads the report beside the event's JSON", async () => {
    const synapse = new SynapseNock().ok("GET", { id: 17, received_ts: 5, room_id: "!r:x", event_id: "$e", user_id: "@rep:x", score: "high", sender: null, event_json: { type: "m.room.message" } });

    const result = await client().admin.eventReport(17);

    expect(result).toMatchObject({ ok: true, value: { id: 17, received_ts: 5, event_id: "$e", user_id: "@rep:x", sender: null } });
    expect(result.ok && result.value.score).toBeUndefined();
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([["GET", "/_synapse/admin/v1/event_reports/17"]]);
  });

  it("asks again after a 5xx: reading a report is harmless to repeat", async () => {
    const synapse = new SynapseNock().answer("GET", BROKEN, { status: 200, json: { id: 17, received_ts: 5, room_id: "!r:x", event_id: "$e", user_id: "@rep:x" } });
    const { admin, waits } = client();

    expect((await admin.eventReport(17)).ok).toBe(true);
    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/event_reports/17", "/_synapse/admin/v1/event_reports/17"]);
    expect(waits).toHaveLength(1);
  });

  it("answers not-found for a 404 (no such report, or its event purged)", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "Event report not found" } });

    expect(await client().admin.eventReport(17)).toMatchObject({ ok: false, error: { kind: "not-found" } });
  });
});

describe("SynapseAdminClient.deleteEventReport", () => {
  it("sends DELETE /_synapse/admin/v1/event_reports/<id>", async () => {
    const synapse = new SynapseNock().ok("DELETE", {});

    const result = await client().admin.deleteEventReport(17);

    expect(result).toEqual({ ok: true, value: {} });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([["DELETE", "/_synapse/admin/v1/event_reports/17"]]);
  });

  it("sends it again after a 5xx: deleting a report twice deletes it once", async () => {
    const synapse = new SynapseNock().answer("DELETE", BROKEN, { status: 200, json: {} });

    const result = await client().admin.deleteEventReport(17);

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
  });
});

describe("SynapseAdminClient.eventContext", () => {
  const EVENT_JSON = { event_id: EVENT, type: "m.room.message", sender: "@spam:example.org", origin_server_ts: 5, content: { body: "hi" } };

  it("asks GET .../rooms/<room>/context/<event> with the limit and a lazy-loading filter, both ids encoded", async () => {
    const synapse = new SynapseNock().ok("GET", { event: EVENT_JSON, events_before: [], events_after: [] });

    const result = await client().admin.eventContext(ROOM, EVENT, 6);

    expect(result).toEqual({ ok: true, value: { event: EVENT_JSON, events_before: [], events_after: [] } });
    const path = synapse.seen[0]?.path ?? "";
    expect(path.split("?")[0]).toBe(`/_synapse/admin/v1/rooms/${ENCODED_ROOM}/context/${encodeURIComponent(EVENT)}`);
    expect(query(path)).toEqual({ limit: "6", filter: JSON.stringify({ lazy_load_members: true }) });
  });

  it("asks again after a 5xx", async () => {
    const synapse = new SynapseNock().answer("GET", BROKEN, { status: 200, json: { event: EVENT_JSON } });

    const result = await client().admin.eventContext(ROOM, EVENT, 6);

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
  });
});

describe("SynapseAdminClient forward extremities", () => {
  it("reads them with GET .../rooms/<room>/forward_extremities", async () => {
    const body = { count: 1, results: [{ event_id: "$x", state_group: 3, depth: 9, received_ts: 12 }] };
    const synapse = new SynapseNock().ok("GET", body);

    const result = await client().admin.forwardExtremities(ROOM);

    expect(result).toEqual({ ok: true, value: body });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([
      ["GET", `/_synapse/admin/v1/rooms/${ENCODED_ROOM}/forward_extremities`],
    ]);
  });

  it("asks again for them after a 5xx", async () => {
    const synapse = new SynapseNock().answer("GET", BROKEN, { status: 200, json: { count: 0, results: [] } });

    const result = await client().admin.forwardExtremities(ROOM);

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
  });

  it("deletes them with DELETE on the same path and answers how many went", async () => {
    const synapse = new SynapseNock().ok("DELETE", { deleted: 4 });

    const result = await client().admin.deleteForwardExtremities(ROOM);

    expect(result).toEqual({ ok: true, value: { deleted: 4 } });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([
      ["DELETE", `/_synapse/admin/v1/rooms/${ENCODED_ROOM}/forward_extremities`],
    ]);
  });

  it("sends the delete again after a 5xx: Synapse keeps the extremities it needs, so a second delete removes nothing more", async () => {
    const synapse = new SynapseNock().answer("DELETE", BROKEN, { status: 200, json: { deleted: 0 } });

    const result = await client().admin.deleteForwardExtremities(ROOM);

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
  });
});

describe("SynapseAdminClient.roomHierarchy", () => {
  it("asks again for a page after a 5xx: reading a space's tree is harmless to repeat", async () => {
    const page = { rooms: [{ room_id: "!a:example.org", num_joined_members: 1 }] };
    const synapse = new SynapseNock().answer("GET", BROKEN, { status: 200, json: page });

    const result = await client().admin.roomHierarchy(ROOM);

    expect(result.ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
  });
});
