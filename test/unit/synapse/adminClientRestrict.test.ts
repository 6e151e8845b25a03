import { describe, expect, it } from "vitest";
import type { UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { unsupportedAnswer } from "../../../src/synapse/features.js";
import { HOMESERVER_URL, SynapseNock, useSynapseNock } from "../../fakes/synapseNock.js";

const TOKEN = "syt_restrict_test_token";
// A user ID with every character that would break a path if it were pasted in unencoded.
const USER = "@spam/x?#%é y:example.org" as UserId;
const USER_IN_PATH = "%40spam%2Fx%3F%23%25%C3%A9%20y%3Aexample.org";

function client(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: TOKEN, sleep: () => Promise.resolve() });
}

useSynapseNock();

describe("SynapseAdminClient: restricting and deactivating accounts", () => {
  it("setSuspended: PUT v1/suspend/<encoded user> with {suspend}, for both directions", async () => {
    // Synapse's answer names the user in its key; nothing of it is read.
    const synapse = new SynapseNock().ok("PUT", { [`user_${USER}_suspended`]: true }).ok("PUT", { [`user_${USER}_suspended`]: false });

    expect((await client().setSuspended(USER, true)).ok).toBe(true);
    expect((await client().setSuspended(USER, false)).ok).toBe(true);

    expect(synapse.seen).toEqual([
      { method: "PUT", path: `/_synapse/admin/v1/suspend/${USER_IN_PATH}`, authorization: `Bearer ${TOKEN}`, contentType: "application/json", body: { suspend: true } },
      { method: "PUT", path: `/_synapse/admin/v1/suspend/${USER_IN_PATH}`, authorization: `Bearer ${TOKEN}`, contentType: "application/json", body: { suspend: false } },
    ]);
  });

  it("setSuspended on a Synapse before 1.110: its M_UNRECOGNIZED 404 is an unsupported answer, not a missing user", async () => {
    new SynapseNock().answer("PUT", { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } });

    const result = await client().setSuspended(USER, true);

    expect(result).toMatchObject({ ok: false, error: { kind: "not-found", status: 404, errcode: "M_UNRECOGNIZED" } });
    expect(!result.ok && unsupportedAnswer(result.error)).toBe(true);
  });

  it("setSuspended of a remote user: Synapse's 400 with its sentence", async () => {
    new SynapseNock().answer("PUT", { status: 400, json: { errcode: "M_UNKNOWN", error: "Can only suspend local users" } });

    expect(await client().setSuspended(USER, true)).toMatchObject({ ok: false, error: { kind: "bad-request", status: 400, detail: "Can only suspend local users" } });
  });

  it("setLocked: PUT v2/users/<encoded user> with only {locked}, so nothing else of the account changes", async () => {
    const synapse = new SynapseNock().ok("PUT", { name: USER, locked: true }).ok("PUT", { name: USER, locked: false });

    expect((await client().setLocked(USER, true)).ok).toBe(true);
    expect((await client().setLocked(USER, false)).ok).toBe(true);

    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["PUT", `/_synapse/admin/v2/users/${USER_IN_PATH}`, { locked: true }],
      ["PUT", `/_synapse/admin/v2/users/${USER_IN_PATH}`, { locked: false }],
    ]);
  });

  it("setLocked where the endpoint is not served (MAS, a proxy): the 404 carries no M_NOT_FOUND", async () => {
    new SynapseNock().answer("PUT", { status: 404, text: "<html>Not Found</html>" });

    const result = await client().setLocked(USER, true);

    expect(result).toMatchObject({ ok: false, error: { kind: "not-found", status: 404 } });
    expect(result.ok ? undefined : result.error.errcode).toBeUndefined();
  });

  it("setShadowBanned: POST v1/users/<encoded user>/shadow_ban with {} to ban, DELETE without a body to lift", async () => {
    const synapse = new SynapseNock().ok("POST", {}).ok("DELETE", {});

    expect((await client().setShadowBanned(USER, true)).ok).toBe(true);
    expect((await client().setShadowBanned(USER, false)).ok).toBe(true);

    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["POST", `/_synapse/admin/v1/users/${USER_IN_PATH}/shadow_ban`, {}],
      ["DELETE", `/_synapse/admin/v1/users/${USER_IN_PATH}/shadow_ban`, undefined],
    ]);
  });

  it("setShadowBanned is idempotent: a 502 is sent again", async () => {
    const synapse = new SynapseNock().answer("POST", { status: 502, text: "bad gateway" }, { status: 200, json: {} });

    expect((await client().setShadowBanned(USER, true)).ok).toBe(true);
    expect(synapse.seen).toHaveLength(2);
  });

  it("deactivateUser: POST v1/deactivate/<encoded user> with {erase}, and Synapse's unbind result", async () => {
    const synapse = new SynapseNock().ok("POST", { id_server_unbind_result: "success" }).ok("POST", { id_server_unbind_result: "no-support" });

    expect(await client().deactivateUser(USER, false)).toEqual({ ok: true, value: { id_server_unbind_result: "success" } });
    expect(await client().deactivateUser(USER, true)).toEqual({ ok: true, value: { id_server_unbind_result: "no-support" } });

    expect(synapse.seen.map((request) => [request.method, request.path, request.body])).toEqual([
      ["POST", `/_synapse/admin/v1/deactivate/${USER_IN_PATH}`, { erase: false }],
      ["POST", `/_synapse/admin/v1/deactivate/${USER_IN_PATH}`, { erase: true }],
    ]);
  });

  it("deactivateUser is not sent again after a 5xx (it cannot be undone, and half of it may have run), and an unknown user is Synapse's 404", async () => {
    const synapse = new SynapseNock().answer("POST", { status: 500, json: { errcode: "M_UNKNOWN", error: "Internal server error" } });

    expect(await client().deactivateUser(USER, true)).toMatchObject({ ok: false, error: { kind: "server-error", status: 500 } });
    expect(synapse.seen).toHaveLength(1);

    new SynapseNock().answer("POST", { status: 404, json: { errcode: "M_NOT_FOUND", error: "User not found" } });
    expect(await client().deactivateUser(USER, false)).toMatchObject({ ok: false, error: { kind: "not-found", errcode: "M_NOT_FOUND", detail: "User not found" } });
  });
});
