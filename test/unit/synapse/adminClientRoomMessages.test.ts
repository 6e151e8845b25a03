import { describe, expect, it } from "vitest";
import type { RoomId, UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const TOKEN = "syt_room_messages_token";
const ROOM = "!a/b?c#d:example.org" as RoomId;
const ROOM_IN_PATH = "!a%2Fb%3Fc%23d%3Aexample.org";
const PAGE = {
  chunk: [{ event_id: "$m1", type: "m.room.message", sender: "@spam:example.org", origin_server_ts: 1_700_000_000_000 }],
  start: "t1-2",
  end: "t3-4",
};

function client(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: TOKEN, sleep: () => Promise.resolve() });
}

useSynapseNock();

describe("SynapseAdminClient.roomMessages", () => {
  it("GET rooms/<encoded room>/messages with the direction, the page size and where to continue from", async () => {
    const synapse = new SynapseNock().ok("GET", PAGE);

    const result = await client().roomMessages(ROOM, { from: "t1 2/3", direction: "b", limit: 50 });

    expect(result).toEqual({ ok: true, value: PAGE });
    expect(synapse.seen).toEqual([
      {
        method: "GET",
        path: `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/messages?dir=b&limit=50&from=t1+2%2F3`,
        authorization: `Bearer ${TOKEN}`,
        contentType: null,
        body: undefined,
      },
    ]);
  });

  it("the first page: no from in the query, so Synapse starts at the room's edge", async () => {
    const synapse = new SynapseNock().ok("GET", { chunk: [] });

    const result = await client().roomMessages(ROOM, { direction: "f", limit: 1 });

    expect(result).toEqual({ ok: true, value: { chunk: [] } });
    expect(synapse.seen.map((request) => request.path)).toEqual([`/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/messages?dir=f&limit=1`]);
  });

  it("a page whose events lack their ids is an answer Warden cannot read", async () => {
    new SynapseNock().ok("GET", { chunk: [{ type: "m.room.message", sender: "@spam:example.org", origin_server_ts: 1 }] });

    const result = await client().roomMessages(ROOM, { direction: "f", limit: 1 });

    expect(result).toMatchObject({ ok: false, error: { kind: "bad-response" } });
  });
});

describe("SynapseAdminClient.senderMessages", () => {
  const SENDER = "@spam:example.org" as UserId;

  it("GET rooms/<encoded room>/messages backwards, filtered to the one sender, from where it left off", async () => {
    const page = { chunk: [{ event_id: "$m1", type: "m.room.message", sender: SENDER, content: { url: "mxc://x/y" } }], end: "t5-6" };
    const synapse = new SynapseNock().ok("GET", page);

    const result = await client().senderMessages(ROOM, SENDER, { from: "t3-4", limit: 1000 });

    expect(result).toEqual({ ok: true, value: page });
    expect(synapse.seen).toEqual([
      {
        method: "GET",
        path: `/_synapse/admin/v1/rooms/${ROOM_IN_PATH}/messages?dir=b&limit=1000&from=t3-4&filter=${encodeURIComponent(JSON.stringify({ senders: [SENDER] })).replace(/%20/g, "+")}`,
        authorization: `Bearer ${TOKEN}`,
        contentType: null,
        body: undefined,
      },
    ]);
  });

  it("starts at the newest event without a from, and reads a page again after a 5xx (a read is safe to repeat)", async () => {
    const synapse = new SynapseNock().answer("GET", { status: 502, json: { errcode: "M_UNKNOWN", error: "Bad gateway" } }, { status: 200, json: { chunk: [], end: null } });

    const result = await client().senderMessages(ROOM, SENDER, { limit: 5 });

    expect(result).toEqual({ ok: true, value: { chunk: [], end: null } });
    const query = new URL(synapse.seen[0]?.path ?? "", HOMESERVER_URL).searchParams;
    expect([...query.keys()]).toEqual(["dir", "limit", "filter"]);
    expect(JSON.parse(query.get("filter") ?? "")).toEqual({ senders: [SENDER] });
    expect(synapse.seen).toHaveLength(2);
  });

  it("refuses a page that is not one", async () => {
    new SynapseNock().ok("GET", { chunk: [{ event_id: 7 }] });

    const result = await client().senderMessages(ROOM, SENDER, { limit: 5 });

    expect(result.ok).toBe(false);
    expect(!result.ok && result.error.kind).toBe("bad-response");
  });
});
