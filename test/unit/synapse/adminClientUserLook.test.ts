import { describe, expect, it } from "vitest";
import type { UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

/** The admin client's reads behind !user, against Synapse's answers as they come over the wire. */

const TOKEN = "syt_user_look_token";
// A user ID with every character that would break a path if it were pasted in unencoded.
const USER = "@spam/x?#%é y:example.org" as UserId;
const USER_IN_PATH = "%40spam%2Fx%3F%23%25%C3%A9%20y%3Aexample.org";

function client(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: TOKEN, sleep: () => Promise.resolve() });
}

function requests(synapse: SynapseNock): [string, string, string | null][] {
  return synapse.seen.map((request) => [request.method, request.path, request.authorization]);
}

useSynapseNock();

describe("SynapseAdminClient reads about one user", () => {
  it("userAccount: GET v2 users/<encoded user>; every flag and the profile as Synapse 1.163 sends them", async () => {
    const body = {
      name: "@spam/x?#%é y:example.org",
      admin: false,
      deactivated: false,
      locked: false,
      shadow_banned: true,
      creation_ts: 1_700_000_000,
      appservice_id: null,
      consent_server_notice_sent: null,
      consent_version: null,
      consent_ts: null,
      user_type: null,
      is_guest: false,
      suspended: false,
      displayname: "Cheap Pills",
      avatar_url: null,
      threepids: [],
      external_ids: [],
      erased: false,
      last_seen_ts: 1_700_000_100_000,
    };
    const synapse = new SynapseNock().ok("GET", body);

    const result = await client().userAccount(USER);

    expect(result).toEqual({ ok: true, value: body });
    expect(requests(synapse)).toEqual([["GET", `/_synapse/admin/v2/users/${USER_IN_PATH}`, `Bearer ${TOKEN}`]]);
  });

  it("userAccount: SQLite's 0/1 flags read as booleans; an older Synapse without suspended or locked is still readable", async () => {
    new SynapseNock().ok("GET", { name: "@a:example.org", admin: 1, deactivated: 0, shadow_banned: 0, erased: true, is_guest: 0, creation_ts: 5 });

    const result = await client().userAccount(USER);

    expect(result).toEqual({ ok: true, value: { name: "@a:example.org", admin: true, deactivated: false, shadow_banned: false, erased: true, is_guest: false, creation_ts: 5 } });
  });

  it("userAccount: 404 User not found is not-found; a remote user is Synapse's 400; an answer without a name is unreadable", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "User not found" } });
    expect(await client().userAccount(USER)).toMatchObject({ ok: false, error: { kind: "not-found", errcode: "M_NOT_FOUND", detail: "User not found" } });
    new SynapseNock().answer("GET", { status: 400, json: { errcode: "M_UNKNOWN", error: "Can only look up local users" } });
    expect(await client().userAccount(USER)).toMatchObject({ ok: false, error: { kind: "bad-request", detail: "Can only look up local users" } });
    new SynapseNock().ok("GET", { admin: false });
    expect(await client().userAccount(USER)).toMatchObject({ ok: false, error: { kind: "bad-response" } });
  });

  it("whois: GET v1 whois/<encoded user>; each device's sessions and connections, addresses included", async () => {
    const body = {
      user_id: "@spam/x?#%é y:example.org",
      devices: {
        LAPTOP: { sessions: [{ connections: [{ ip: "203.0.113.7", last_seen: 1_700_000_000_000, user_agent: "Mozilla/5.0" }] }] },
        "": { sessions: [{ connections: [] }] },
      },
    };
    const synapse = new SynapseNock().ok("GET", body);

    const result = await client().whois(USER);

    expect(result).toEqual({ ok: true, value: body });
    expect(requests(synapse)).toEqual([["GET", `/_synapse/admin/v1/whois/${USER_IN_PATH}`, `Bearer ${TOKEN}`]]);
  });

  it("whois: a device without sessions is unreadable; a remote user is Synapse's 400", async () => {
    new SynapseNock().ok("GET", { user_id: "@a:example.org", devices: { X: {} } });
    expect(await client().whois(USER)).toMatchObject({ ok: false, error: { kind: "bad-response" } });
    new SynapseNock().answer("GET", { status: 400, json: { errcode: "M_UNKNOWN", error: "Can only whois a local user" } });
    expect(await client().whois(USER)).toMatchObject({ ok: false, error: { kind: "bad-request", detail: "Can only whois a local user" } });
  });

  it("userJoinedRooms: GET v1 users/<encoded user>/joined_rooms, for any user", async () => {
    const synapse = new SynapseNock().ok("GET", { joined_rooms: ["!a:example.org", "!b:example.org"], total: 2 });

    const result = await client().userJoinedRooms(USER);

    expect(result).toEqual({ ok: true, value: { joined_rooms: ["!a:example.org", "!b:example.org"], total: 2 } });
    expect(requests(synapse)).toEqual([["GET", `/_synapse/admin/v1/users/${USER_IN_PATH}/joined_rooms`, `Bearer ${TOKEN}`]]);
  });

  it("userJoinedRooms: an answer without the list is unreadable", async () => {
    new SynapseNock().ok("GET", { total: 0 });
    expect(await client().userJoinedRooms(USER)).toMatchObject({ ok: false, error: { kind: "bad-response" } });
  });

  it("sentInviteCount and cumulativeJoinedRoomCount: GET with from_ts in ms; their counts", async () => {
    const synapse = new SynapseNock().ok("GET", { invite_count: 42 }).ok("GET", { cumulative_joined_room_count: 7 });

    expect(await client().sentInviteCount(USER, 1_700_000_000_123)).toEqual({ ok: true, value: { invite_count: 42 } });
    expect(await client().cumulativeJoinedRoomCount(USER, 1_700_000_000_123)).toEqual({ ok: true, value: { cumulative_joined_room_count: 7 } });
    expect(requests(synapse)).toEqual([
      ["GET", `/_synapse/admin/v1/users/${USER_IN_PATH}/sent_invite_count?from_ts=1700000000123`, `Bearer ${TOKEN}`],
      ["GET", `/_synapse/admin/v1/users/${USER_IN_PATH}/cumulative_joined_room_count?from_ts=1700000000123`, `Bearer ${TOKEN}`],
    ]);
  });

  it("the activity counts before Synapse 1.122: 404 M_UNRECOGNIZED stays that error (features.ts reads it as 'needs 1.122')", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });
    expect(await client().sentInviteCount(USER, 0)).toMatchObject({ ok: false, error: { kind: "not-found", errcode: "M_UNRECOGNIZED" } });
    new SynapseNock().ok("GET", { count: 3 });
    expect(await client().cumulativeJoinedRoomCount(USER, 0)).toMatchObject({ ok: false, error: { kind: "bad-response" } });
  });

  it("userReports about one user: GET v1 user_reports?limit=&target_user_id=", async () => {
    const report = { id: 9, received_ts: 1_700_000_000_000, target_user_id: "@spam/x?#%é y:example.org", user_id: "@bob:example.org", reason: "harassment" };
    const synapse = new SynapseNock().ok("GET", { user_reports: [report], total: 1 });

    const result = await client().userReports({ target: USER, limit: 3 });

    // Each entry is read on its own (see adminClientUserReports.test.ts): none was set aside.
    expect(result).toEqual({ ok: true, value: { user_reports: [report], total: 1, unreadable: [] } });
    // A query value is form-encoded: the space goes as "+", which Synapse reads back as a space.
    expect(requests(synapse)).toEqual([["GET", `/_synapse/admin/v1/user_reports?limit=3&target_user_id=${USER_IN_PATH.replace("%20", "+")}`, `Bearer ${TOKEN}`]]);
  });

  it("userDevices keeps a device's display name for the look", async () => {
    new SynapseNock().ok("GET", { devices: [{ device_id: "LAPTOP", display_name: "Element Desktop", last_seen_ts: 5 }, { device_id: "BARE", display_name: null }], total: 2 });

    const result = await client().userDevices(USER);

    expect(result.ok && result.value.devices.map((device) => device.display_name)).toEqual(["Element Desktop", null]);
  });
});
