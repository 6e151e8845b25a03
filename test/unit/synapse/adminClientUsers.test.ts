import { describe, expect, it } from "vitest";
import type { UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const TOKEN = "syt_users_test_token";
// A user ID with every character that would break a path if it were pasted in unencoded.
const USER = "@spam/x?#%é y:example.org" as UserId;
const USER_IN_PATH = "%40spam%2Fx%3F%23%25%C3%A9%20y%3Aexample.org";

function client(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: TOKEN, sleep: () => Promise.resolve() });
}

useSynapseNock();

describe("SynapseAdminClient requests about users", () => {
  it("userDevices: GET v2 users/<encoded user>/devices, each device's last-seen time (null when never seen) and dehydrated flag", async () => {
    const devices = [
      { device_id: "PHONE", last_seen_ts: 1_700_000_000_000, last_seen_ip: "10.0.0.1", display_name: "phone" },
      { device_id: "NEVER", last_seen_ts: null },
      { device_id: "DEHYDRATED", dehydrated: true },
    ];
    const synapse = new SynapseNock().ok("GET", { devices, total: 3 });

    const result = await client().userDevices(USER);

    expect(result).toEqual({ ok: true, value: { devices, total: 3 } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization])).toEqual([["GET", `/_synapse/admin/v2/users/${USER_IN_PATH}/devices`, `Bearer ${TOKEN}`]]);
  });

  it("userDevices: a device without an id, or an answer without devices, is unreadable; 404 Unknown user is not-found", async () => {
    new SynapseNock().ok("GET", { devices: [{ last_seen_ts: 5 }] });
    expect(await client().userDevices(USER)).toMatchObject({ ok: false, error: { kind: "bad-response" } });
    new SynapseNock().ok("GET", { total: 0 });
    expect(await client().userDevices(USER)).toMatchObject({ ok: false, error: { kind: "bad-response" } });
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "Unknown user" } });
    expect(await client().userDevices(USER)).toMatchObject({ ok: false, error: { kind: "not-found", errcode: "M_NOT_FOUND", detail: "Unknown user" } });
  });

  it("userMemberships: GET users/<encoded user>/memberships", async () => {
    const synapse = new SynapseNock().ok("GET", { memberships: { "!a:example.org": "join", "!b:example.org": "ban", "!c:example.org": "leave" } });

    const result = await client().userMemberships(USER);

    expect(result).toEqual({ ok: true, value: { memberships: { "!a:example.org": "join", "!b:example.org": "ban", "!c:example.org": "leave" } } });
    expect(synapse.seen.map((request) => [request.method, request.path, request.authorization, request.body])).toEqual([
      ["GET", `/_synapse/admin/v1/users/${USER_IN_PATH}/memberships`, `Bearer ${TOKEN}`, undefined],
    ]);
  });

  it("userMemberships: an answer without the memberships map is unreadable", async () => {
    new SynapseNock().ok("GET", { joined_rooms: [] });

    const result = await client().userMemberships(USER);

    expect(result).toMatchObject({ ok: false, error: { kind: "bad-response" } });
  });

  it("startRedact with every option: POST user/<encoded user>/redact with rooms, reason and limit", async () => {
    const synapse = new SynapseNock().ok("POST", { redact_id: "abc" });

    const result = await client().startRedact(USER, { rooms: ["!a:example.org"], reason: "spam", limit: 200 });

    expect(result).toEqual({ ok: true, value: { redact_id: "abc" } });
    expect(synapse.seen).toEqual([
      {
        method: "POST",
        path: `/_synapse/admin/v1/user/${USER_IN_PATH}/redact`,
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json",
        body: { rooms: ["!a:example.org"], reason: "spam", limit: 200 },
      },
    ]);
  });

  it("startRedact without rooms: sends rooms: [] (Synapse requires the key) and no optional keys", async () => {
    const synapse = new SynapseNock().ok("POST", { redact_id: "abc" });

    await client().startRedact(USER, { rooms: [] });

    expect(synapse.seen.map((request) => request.body)).toEqual([{ rooms: [] }]);
  });

  it("startRedact refused while a redaction runs: bad-request with Synapse's sentence, not resent", async () => {
    const synapse = new SynapseNock().answer("POST", {
      status: 400,
      json: { errcode: "M_UNKNOWN", error: "Redact already in progress for user @spam:example.org" },
    });

    const result = await client().startRedact(USER, { rooms: [] });

    expect(result).toMatchObject({ ok: false, error: { kind: "bad-request", status: 400, detail: "Redact already in progress for user @spam:example.org" } });
    expect(synapse.seen).toHaveLength(1);
  });

  it("redactStatus: GET user/redact_status/<encoded id>", async () => {
    const synapse = new SynapseNock().ok("GET", { status: "complete", failed_redactions: { "$e:example.org": "nope" } });

    const result = await client().redactStatus("id/1");

    expect(result).toEqual({ ok: true, value: { status: "complete", failed_redactions: { "$e:example.org": "nope" } } });
    expect(synapse.seen.map((request) => request.path)).toEqual(["/_synapse/admin/v1/user/redact_status/id%2F1"]);
  });
});
