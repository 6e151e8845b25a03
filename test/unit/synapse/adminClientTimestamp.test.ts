import { describe, expect, it } from "vitest";
import type { RoomId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const ROOM = "!a/b?c#d:example.org" as RoomId;

function client(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: "syt_timestamp_token", sleep: () => Promise.resolve() });
}

useSynapseNock();

describe("SynapseAdminClient.timestampToEvent", () => {
  it("GET rooms/<encoded room>/timestamp_to_event?ts=&dir=", async () => {
    const synapse = new SynapseNock().ok("GET", { event_id: "$e", origin_server_ts: 1_700_000_000_000 });
    const result = await client().timestampToEvent(ROOM, 1_700_000_000_123, "b");
    expect(result).toEqual({ ok: true, value: { event_id: "$e", origin_server_ts: 1_700_000_000_000 } });
    expect(synapse.seen.map((request) => request.path)).toEqual([
      "/_synapse/admin/v1/rooms/!a%2Fb%3Fc%23d%3Aexample.org/timestamp_to_event?ts=1700000000123&dir=b",
    ]);
  });

  it("a room with nothing on that side is a not-found value", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "Unable to find event from 1 in direction b" } });
    const result = await client().timestampToEvent(ROOM, 1, "b");
    expect(!result.ok && result.error.kind).toBe("not-found");
  });
});
