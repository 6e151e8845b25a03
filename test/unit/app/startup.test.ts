import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkAdminRights } from "../../../src/app/startup.js";
import type { UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { blockRealNetwork, HOMESERVER_URL, resetSynapseNock } from "../../fakes/synapseNock.js";

const SELF = "@warden:example.org" as UserId;
const UNRECOGNIZED = { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" };

function client(): SynapseAdminClient {
  return new SynapseAdminClient({ homeserverUrl: HOMESERVER_URL, accessToken: "syt_startup_token_value", sleep: () => Promise.resolve() });
}

/**
 * A homeserver that answers only the paths given; every other path gets Synapse's answer to a
 * servlet it never registered (404 M_UNRECOGNIZED), as under Matrix Authentication Service.
 */
function homeserver(paths: Readonly<Record<string, { status: number; json: unknown }>>): string[] {
  const seen: string[] = [];
  nock(HOMESERVER_URL)
    .persist()
    .get(() => true)
    .reply((request: Request) => {
      const url = new URL(request.url);
      seen.push(url.pathname + url.search);
      const reply = paths[url.pathname] ?? { status: 404, json: UNRECOGNIZED };
      return [reply.status, JSON.stringify(reply.json), { "content-type": "application/json" }];
    });
  return seen;
}

beforeAll(() => {
  blockRealNetwork();
});

afterEach(() => {
  resetSynapseNock();
});

describe("checkAdminRights", () => {
  it("passes on a homeserver that delegates authentication to MAS (no users/<id>/admin servlet)", async () => {
    const seen = homeserver({ "/_synapse/admin/v1/rooms": { status: 200, json: { rooms: [], offset: 0, total_rooms: 0 } } });

    const checked = await checkAdminRights(client(), SELF);

    expect(checked).toEqual({ ok: true, value: undefined });
    expect(seen).toEqual(["/_synapse/admin/v1/rooms?limit=1"]);
  });

  it("stops with the fix when the token is not an admin's", async () => {
    homeserver({ "/_synapse/admin/v1/rooms": { status: 403, json: { errcode: "M_FORBIDDEN", error: "You are not a server admin" } } });

    const checked = await checkAdminRights(client(), SELF);

    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.error).toContain(`${SELF}, which is not a server admin`);
    expect(checked.error).toContain("register_new_matrix_user --admin");
  });

  it("says it could not check when the homeserver fails otherwise", async () => {
    homeserver({ "/_synapse/admin/v1/rooms": { status: 500, json: { errcode: "M_UNKNOWN", error: "database down" } } });

    const checked = await checkAdminRights(client(), SELF);

    expect(checked).toEqual({ ok: false, error: expect.stringContaining("could not check Warden's admin rights") as unknown });
  });
});
