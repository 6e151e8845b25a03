import nock from "nock";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkAdminRights, waitForHomeserver, type HomeserverAddresses } from "../../../src/app/startup.js";
import type { UserId } from "../../../src/matrix/ids.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { blockRealNetwork, HOMESERVER_URL, resetSynapseNock } from "../../fakes/synapseNock.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";

const SELF = "@warden:example.org" as UserId;
const UNRECOGNIZED = { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" };
/** The admin client's address is the only one nock answers; the client API's is named in messages only. */
const ONE_ADDRESS: HomeserverAddresses = { client: HOMESERVER_URL, admin: HOMESERVER_URL };
const TWO_ADDRESSES: HomeserverAddresses = { client: "https://matrix.example.org", admin: HOMESERVER_URL };

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

    const checked = await checkAdminRights(client(), SELF, ONE_ADDRESS);

    expect(checked).toEqual({ ok: true, value: undefined });
    expect(seen).toEqual(["/_synapse/admin/v1/rooms?limit=1"]);
  });

  it("stops with the fix when the token is not an admin's", async () => {
    homeserver({ "/_synapse/admin/v1/rooms": { status: 403, json: { errcode: "M_FORBIDDEN", error: "You are not a server admin" } } });

    const checked = await checkAdminRights(client(), SELF, ONE_ADDRESS);

    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.error).toContain(`${SELF}, which is not a server admin`);
    expect(checked.error).toContain("register_new_matrix_user --admin");
  });

  it("says it could not check when the homeserver fails otherwise", async () => {
    homeserver({ "/_synapse/admin/v1/rooms": { status: 500, json: { errcode: "M_UNKNOWN", error: "database down" } } });

    const checked = await checkAdminRights(client(), SELF, ONE_ADDRESS);

    expect(checked).toEqual({ ok: false, error: expect.stringContaining(`could not check Warden's admin rights at ${HOMESERVER_URL}`) as unknown });
  });

  it("names the address and the fix when Synapse there does not serve the room list", async () => {
    homeserver({});

    const checked = await checkAdminRights(client(), SELF, TWO_ADDRESSES);

    expect(checked).toEqual({
      ok: false,
      error: `the admin API is not served at ${HOMESERVER_URL}: GET /_synapse/admin/v1/rooms was answered 404 M_UNRECOGNIZED. ` +
        "Route /_synapse/admin/ there to Synapse's main process, or set adminUrl to an address that serves it, " +
        'such as an internal listener of the main process (see "Admin API behind its own address" in the README).',
    });
  });
});

describe("waitForHomeserver", () => {
  const answers = (...replies: readonly { status: number; body: string; type?: string }[]): string[] => {
    const seen: string[] = [];
    const scope = nock(HOMESERVER_URL);
    for (const reply of replies) {
      scope.get(() => true).reply((request: Request) => {
        seen.push(new URL(request.url).pathname);
        return [reply.status, reply.body, { "content-type": reply.type ?? "application/json" }];
      });
    }
    return seen;
  };
  const VERSION = { status: 200, body: JSON.stringify({ server_version: "1.163.2" }) };

  it("returns the version and logs which address answered it", async () => {
    const seen = answers(VERSION);
    const logger = new MemoryLogger();

    const reached = await waitForHomeserver(client(), TWO_ADDRESSES, logger.log, () => Promise.resolve());

    expect(reached).toEqual({ ok: true, value: { serverVersion: "1.163.2" } });
    expect(seen).toEqual(["/_synapse/admin/v1/server_version"]);
    expect(logger.withMessage("the admin API answered")).toEqual([
      expect.objectContaining({ adminApi: HOMESERVER_URL, request: "server_version", serverVersion: "1.163.2" }),
    ]);
  });

  it.each([404, 405])("stops at once when Synapse answers %i M_UNRECOGNIZED, naming the address and adminUrl", async (status) => {
    const seen = answers({ status, body: JSON.stringify(UNRECOGNIZED) });
    const waits: number[] = [];

    const reached = await waitForHomeserver(client(), ONE_ADDRESS, new MemoryLogger().log, (ms) => {
      waits.push(ms);
      return Promise.resolve();
    });

    expect(reached).toEqual({
      ok: false,
      error: expect.stringContaining(
        `the admin API is not served at ${HOMESERVER_URL}: GET /_synapse/admin/v1/server_version was answered ${status} M_UNRECOGNIZED. ` +
          "Route /_synapse/admin/ there to Synapse's main process, or set adminUrl (which defaults to homeserverUrl) to an address that serves it",
      ) as unknown,
    });
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("keeps waiting through a proxy's pages without a Matrix body (a backend still starting), saying what answered", async () => {
    const seen = answers(
      { status: 404, body: "404 page not found", type: "text/plain" },
      { status: 403, body: "<html>Forbidden</html>", type: "text/html" },
      VERSION,
    );
    const logger = new MemoryLogger();
    const waits: number[] = [];

    const reached = await waitForHomeserver(client(), ONE_ADDRESS, logger.log, (ms) => {
      waits.push(ms);
      return Promise.resolve();
    });

    expect(reached).toEqual({ ok: true, value: { serverVersion: "1.163.2" } });
    expect(seen).toHaveLength(3);
    expect(waits).toEqual([1_000, 2_000]);
    const warnings = logger.withMessage("the admin API's address answered, but not as Synapse; retrying");
    expect(warnings.map((entry) => [entry["adminApi"], entry["status"]])).toEqual([
      [HOMESERVER_URL, 404],
      [HOMESERVER_URL, 403],
    ]);
    expect(warnings[0]?.["hint"]).toContain("set adminUrl");
  });

  it("a Matrix 401 or 403 is not taken for an address without the admin API: it keeps waiting", async () => {
    const seen = answers(
      { status: 401, body: JSON.stringify({ errcode: "M_MISSING_TOKEN", error: "Missing access token" }) },
      { status: 403, body: JSON.stringify({ errcode: "M_FORBIDDEN", error: "Forbidden" }) },
      VERSION,
    );

    const reached = await waitForHomeserver(client(), ONE_ADDRESS, new MemoryLogger().log, () => Promise.resolve());

    expect(reached).toEqual({ ok: true, value: { serverVersion: "1.163.2" } });
    expect(seen).toHaveLength(3);
  });

  it("keeps waiting while the homeserver fails, and gives up only when told to stop", async () => {
    // A proxy whose backend is down: 502 or 503, never a sign that the address is wrong.
    nock(HOMESERVER_URL).persist().get(() => true).reply(503, "<html>Service Unavailable</html>", { "content-type": "text/html" });
    const logger = new MemoryLogger();
    let asked = 0;

    const reached = await waitForHomeserver(client(), ONE_ADDRESS, logger.log, () => Promise.resolve(), () => ++asked > 2);

    expect(reached).toBeUndefined();
    expect(logger.withMessage("homeserver not reachable yet; retrying").map((entry) => entry["adminApi"])).toEqual([HOMESERVER_URL, HOMESERVER_URL]);
  });
});
