import { describe, expect, it } from "vitest";
import type { RoomId, UserId } from "../../../src/matrix/ids.js";
import { formatMxc, parseMxc } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const TOKEN = "syt_media_test_token";
const ROOM = "!room/x?#:example.org" as RoomId;
const ROOM_IN_PATH = "!room%2Fx%3F%23%3Aexample.org";
const USER = "@spam/x:example.org" as UserId;
const USER_IN_PATH = "%40spam%2Fx%3Aexample.org";
const LOCAL = { origin: "example.org", mediaId: "abcDEF123" };
const REMOTE = { origin: "[::1]:8448", mediaId: "remote_id-1" };

function client(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: TOKEN, sleep: () => Promise.resolve() });
}

useSynapseNock();

function calls(synapse: SynapseNock): [string, string, unknown][] {
  return synapse.seen.map((request) => [request.method, request.path, request.body]);
}

describe("mxc URIs", () => {
  it("reads mxc://<server>/<media id>, with a port or an IPv6 literal, and writes it back the same", () => {
    for (const text of ["mxc://example.org/abcDEF123", "mxc://[::1]:8448/remote_id-1", "mxc://localhost:8008/A"]) {
      const mxc = parseMxc(text);
      expect(mxc).toBeDefined();
      expect(formatMxc(mxc ?? { origin: "", mediaId: "" })).toBe(text);
    }
    expect(parseMxc("mxc://example.org/abcDEF123")).toEqual(LOCAL);
  });

  it("refuses every other form: a URL, no media id, a path, characters the spec does not allow, spaces", () => {
    for (const text of ["https://example.org/abc", "mxc://example.org/", "mxc://example.org", "mxc://example.org/a/b", "mxc://example.org/a.b", "mxc:/example.org/a", "MXC://example.org/a", " mxc://example.org/a", "mxc://exa mple.org/a", "abcDEF123"]) {
      expect(parseMxc(text), text).toBeUndefined();
    }
  });
});

describe("SynapseAdminClient media requests", () => {
  it("roomMedia: GET room/<encoded room>/media, the local and remote URIs", async () => {
    const synapse = new SynapseNock().ok("GET", { local: ["mxc://example.org/a"], remote: [] });
    expect(await client().roomMedia(ROOM)).toEqual({ ok: true, value: { local: ["mxc://example.org/a"], remote: [] } });
    expect(calls(synapse)).toEqual([["GET", `/_synapse/admin/v1/room/${ROOM_IN_PATH}/media`, undefined]]);
  });

  it("userMedia: GET users/<encoded user>/media with from and limit, the files, their total and the next offset", async () => {
    const media = [{ media_id: "a", media_type: "image/png", media_length: 10, upload_name: null, created_ts: 1, last_access_ts: null, quarantined_by: null, safe_from_quarantine: false }];
    const synapse = new SynapseNock().ok("GET", { media, total: 3, next_token: 1 }).ok("GET", { media: [], total: 0 });
    expect(await client().userMedia(USER, { from: 0, limit: 1 })).toEqual({ ok: true, value: { media, total: 3, next_token: 1 } });
    expect(await client().userMedia(USER)).toEqual({ ok: true, value: { media: [], total: 0 } });
    expect(synapse.seen.map((request) => request.path)).toEqual([`/_synapse/admin/v1/users/${USER_IN_PATH}/media?from=0&limit=1`, `/_synapse/admin/v1/users/${USER_IN_PATH}/media`]);
  });

  it("mediaInfo: GET media/<origin>/<id>, both parts encoded; an answer without media_info is unreadable", async () => {
    const info = { media_origin: "[::1]:8448", user_id: null, media_id: "remote_id-1", media_length: 5 };
    const synapse = new SynapseNock().ok("GET", { media_info: info }).ok("GET", { media_id: "x" });
    expect(await client().mediaInfo(REMOTE)).toEqual({ ok: true, value: { media_info: info } });
    const unreadable = await client().mediaInfo(REMOTE);
    expect(unreadable.ok ? undefined : unreadable.error.kind).toBe("bad-response");
    expect(synapse.seen[0]?.path).toBe("/_synapse/admin/v1/media/%5B%3A%3A1%5D%3A8448/remote_id-1");
  });

  it("mediaInfo: reads safe_from_quarantine as Synapse on SQLite sends it (0 or 1) as well as a boolean", async () => {
    const info = (safe: unknown) => ({ media_info: { media_id: "abcDEF123", media_origin: null, safe_from_quarantine: safe } });
    new SynapseNock().ok("GET", info(1)).ok("GET", info(0)).ok("GET", info(true)).ok("GET", info(2));
    const read = async (): Promise<unknown> => {
      const result = await client().mediaInfo(LOCAL);
      return result.ok ? result.value.media_info.safe_from_quarantine : result.error.kind;
    };
    expect([await read(), await read(), await read(), await read()]).toEqual([true, false, true, "bad-response"]);
  });

  it("quarantines a room's, a user's and one file's media, and lifts a file's quarantine, each with POST and an empty body", async () => {
    const synapse = new SynapseNock().ok("POST", { num_quarantined: 4 }).ok("POST", { num_quarantined: 2 }).ok("POST", {}).ok("POST", {});
    expect(await client().quarantineRoomMedia(ROOM)).toEqual({ ok: true, value: { num_quarantined: 4 } });
    expect(await client().quarantineUserMedia(USER)).toEqual({ ok: true, value: { num_quarantined: 2 } });
    expect((await client().quarantineMedia(LOCAL)).ok).toBe(true);
    expect((await client().unquarantineMedia(REMOTE)).ok).toBe(true);
    expect(calls(synapse)).toEqual([
      ["POST", `/_synapse/admin/v1/room/${ROOM_IN_PATH}/media/quarantine`, {}],
      ["POST", `/_synapse/admin/v1/user/${USER_IN_PATH}/media/quarantine`, {}],
      ["POST", "/_synapse/admin/v1/media/quarantine/example.org/abcDEF123", {}],
      ["POST", "/_synapse/admin/v1/media/unquarantine/%5B%3A%3A1%5D%3A8448/remote_id-1", {}],
    ]);
  });

  it("a quarantine count that is not a number is unreadable", async () => {
    new SynapseNock().ok("POST", { num_quarantined: "4" });
    const result = await client().quarantineRoomMedia(ROOM);
    expect(result.ok ? undefined : result.error.kind).toBe("bad-response");
  });

  it("setMediaProtected: POST media/protect/<id> or media/unprotect/<id>", async () => {
    const synapse = new SynapseNock().ok("POST", {}).ok("POST", {});
    expect((await client().setMediaProtected("abc/1", true)).ok).toBe(true);
    expect((await client().setMediaProtected("abc/1", false)).ok).toBe(true);
    expect(calls(synapse)).toEqual([
      ["POST", "/_synapse/admin/v1/media/protect/abc%2F1", {}],
      ["POST", "/_synapse/admin/v1/media/unprotect/abc%2F1", {}],
    ]);
  });

  it("deleteMedia and deleteUserMedia: DELETE, answering the deleted ids and their count", async () => {
    const synapse = new SynapseNock().ok("DELETE", { deleted_media: ["abcDEF123"], total: 1 }).ok("DELETE", { deleted_media: [], total: 0 });
    expect(await client().deleteMedia(LOCAL)).toEqual({ ok: true, value: { deleted_media: ["abcDEF123"], total: 1 } });
    expect(await client().deleteUserMedia(USER, { limit: 50 })).toEqual({ ok: true, value: { deleted_media: [], total: 0 } });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([
      ["DELETE", "/_synapse/admin/v1/media/example.org/abcDEF123"],
      ["DELETE", `/_synapse/admin/v1/users/${USER_IN_PATH}/media?limit=50`],
    ]);
  });

  it("deleteOldLocalMedia and purgeRemoteMediaCache: POST with the time (and size, profiles) in the query", async () => {
    const synapse = new SynapseNock().ok("POST", { deleted_media: ["a", "b"], total: 2 }).ok("POST", { deleted_media: [], total: 0 }).ok("POST", { deleted: 7 });
    expect(await client().deleteOldLocalMedia({ beforeTs: 1_700_000_000_000, sizeGt: 1024, keepProfiles: false })).toEqual({ ok: true, value: { deleted_media: ["a", "b"], total: 2 } });
    expect((await client().deleteOldLocalMedia({ beforeTs: 1_700_000_000_000 })).ok).toBe(true);
    expect(await client().purgeRemoteMediaCache(1_600_000_000_000)).toEqual({ ok: true, value: { deleted: 7 } });
    expect(synapse.seen.map((request) => [request.method, request.path])).toEqual([
      ["POST", "/_synapse/admin/v1/media/delete?before_ts=1700000000000&size_gt=1024&keep_profiles=false"],
      ["POST", "/_synapse/admin/v1/media/delete?before_ts=1700000000000"],
      ["POST", "/_synapse/admin/v1/purge_media_cache?before_ts=1600000000000"],
    ]);
  });
});

describe("SynapseAdminClient media requests on a process that does not serve them", () => {
  it("404 or 405 M_UNRECOGNIZED (a main process beside a media worker; a GET of media info before 1.140) names the media worker and the routes", async () => {
    new SynapseNock()
      .answer("POST", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } })
      .answer("GET", { status: 405, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });
    const quarantine = await client().quarantineRoomMedia(ROOM);
    const info = await client().mediaInfo(LOCAL);
    for (const result of [quarantine, info]) {
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.error.userMessage).toMatch(/media repository worker/);
      expect(result.error.userMessage).toMatch(/before 1\.140/);
      expect(result.error.errcode).toBe("M_UNRECOGNIZED");
    }
  });

  it("a plain 404 (an unknown file) keeps the homeserver's own words", async () => {
    new SynapseNock().answer("GET", { status: 404, json: { errcode: "M_NOT_FOUND", error: "Unknown media" } });
    const result = await client().mediaInfo(LOCAL);
    expect(result.ok ? undefined : result.error).toMatchObject({ kind: "not-found", userMessage: "the homeserver answered: Unknown media" });
  });
});
