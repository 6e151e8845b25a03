import { describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
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
