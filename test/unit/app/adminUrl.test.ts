import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startWarden } from "../../../src/app/warden.js";
import { parseConfig, type Config } from "../../../src/config.js";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";
import { blockRealNetwork, resetSynapseNock } from "../../fakes/synapseNock.js";

/** Clients' address (a reverse proxy) and the admin API's (an internal listener): two hosts nock tells apart. */
const CLIENT_URL = "https://matrix.example.org";
const ADMIN_URL = "http://synapse-main.internal:8008";
const SELF = "@warden:example.org";

interface Seen {
  readonly method: string;
  readonly path: string;
}

/**
 * Answers every request to `url` from `answer` (by path) and records it; an unknown path gets
 * Synapse's 404 M_UNRECOGNIZED, so a request sent to the wrong host fails as it would for real.
 */
function host(url: string, answer: (method: string, path: string) => { status: number; json: unknown } | undefined): Seen[] {
  const seen: Seen[] = [];
  for (const method of ["GET", "POST", "PUT", "DELETE"]) {
    nock(url)
      .persist()
      .intercept(() => true, method)
      .reply((request: Request) => {
        const target = new URL(request.url);
        seen.push({ method: request.method, path: target.pathname + target.search });
        const reply = answer(request.method, target.pathname) ?? { status: 404, json: { errcode: "M_UNRECOGNIZED", error: "Unrecognized request" } };
        return [reply.status, JSON.stringify(reply.json), { "content-type": "application/json" }];
      });
  }
  return seen;
}

let dataDirectory: string;

function config(extra: Record<string, unknown> = {}): Config {
  const parsed = parseConfig(
    { homeserverUrl: `${CLIENT_URL}/`, accessToken: "syt_admin_url_token", managementRoom: "!mgmt:example.org", allowlist: ["@mod:example.org"], dataDirectory, ...extra },
    "warden.yaml",
    {},
  );
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

beforeAll(() => {
  blockRealNetwork();
});

beforeEach(() => {
  dataDirectory = mkdtempSync(join(tmpdir(), "warden-admin-url-"));
});

afterEach(() => {
  resetSynapseNock();
  rmSync(dataDirectory, { recursive: true, force: true });
});

describe("the adminUrl config key", () => {
  it("defaults to homeserverUrl", () => {
    expect(config()).toMatchObject({ homeserverUrl: CLIENT_URL, adminUrl: CLIENT_URL });
  });

  it("is kept apart from homeserverUrl, without its trailing slashes", () => {
    expect(config({ adminUrl: `${ADMIN_URL}//` })).toMatchObject({ homeserverUrl: CLIENT_URL, adminUrl: ADMIN_URL });
    expect(config({ adminUrl: "http://10.0.0.5:8080/synapse-main/" }).adminUrl).toBe("http://10.0.0.5:8080/synapse-main");
  });

  it.each(["synapse-main.internal:8008", "ftp://synapse.internal", "http://", "http://synapse main:8008", 8008])("rejects %j, naming the key", (adminUrl) => {
    const parsed = parseConfig({ ...rawValid(), adminUrl }, "warden.yaml", {});

    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error).toMatch(/\n {2}adminUrl: expected /);
    expect(parsed.error).not.toContain("adminUrl: is required");
  });

  it("refuses a user name or password in the URL: fetch cannot send them and the address is shown in the room", () => {
    const parsed = parseConfig({ ...rawValid(), adminUrl: "http://warden:hunter2@synapse-main.internal:8008" }, "warden.yaml", {});

    expect(parsed).toEqual({ ok: false, error: expect.stringContaining("adminUrl: must not hold a user name or password") as unknown });
  });
});

function rawValid(): Record<string, unknown> {
  return { homeserverUrl: CLIENT_URL, accessToken: "t", managementRoom: "!mgmt:example.org", allowlist: ["@mod:example.org"] };
}

describe("where Warden's requests go", () => {
  it("the admin client sends every request to its address, whatever the endpoint", async () => {
    const admin = host(ADMIN_URL, () => ({ status: 200, json: {} }));
    const client = host(CLIENT_URL, () => undefined);
    const adminClient = new SynapseAdminClient({ homeserverUrl: config({ adminUrl: ADMIN_URL }).adminUrl, accessToken: "t", sleep: () => Promise.resolve() });

    await adminClient.serverVersion();
    await adminClient.listRooms({ limit: 1 });
    await adminClient.userAccount("@someone:example.org" as never);
    await adminClient.roomMedia("!room:example.org" as never);
    await adminClient.deleteForwardExtremities("!room:example.org" as never);

    expect(client).toEqual([]);
    expect(admin.map((request) => request.path.split("?")[0])).toEqual([
      "/_synapse/admin/v1/server_version",
      "/_synapse/admin/v1/rooms",
      "/_synapse/admin/v2/users/%40someone%3Aexample.org",
      "/_synapse/admin/v1/room/!room%3Aexample.org/media",
      "/_synapse/admin/v1/rooms/!room%3Aexample.org/forward_extremities",
    ]);
  });

  it("start-up asks the admin API at adminUrl and the client API at homeserverUrl, and logs which answered what", async () => {
    const admin = host(ADMIN_URL, (_, path) => {
      if (path === "/_synapse/admin/v1/server_version") return { status: 200, json: { server_version: "1.163.2" } };
      if (path === "/_synapse/admin/v1/rooms") return { status: 200, json: { rooms: [], offset: 0, total_rooms: 0 } };
      return undefined;
    });
    // The clients' proxy refuses the admin API, as many deployments do.
    const client = host(CLIENT_URL, (method, path) => {
      if (path === "/_matrix/client/v3/account/whoami") return { status: 200, json: { user_id: SELF } };
      // Start-up ends here, before any sync: what came before is all this test is about.
      if (method === "POST" && path.startsWith("/_matrix/client/v3/join/")) return { status: 403, json: { errcode: "M_FORBIDDEN", error: "not invited" } };
      return undefined;
    });
    const logger = new MemoryLogger();

    const started = await startWarden(config({ adminUrl: ADMIN_URL }), logger.log);

    expect(started).toEqual({ ok: false, error: expect.stringContaining("could not join the management room !mgmt:example.org") as unknown });
    expect(admin.map(({ method, path }) => `${method} ${path}`)).toEqual(["GET /_synapse/admin/v1/server_version", "GET /_synapse/admin/v1/rooms?limit=1"]);
    expect(client.length).toBeGreaterThan(0);
    expect(client.filter((request) => !request.path.startsWith("/_matrix/client/"))).toEqual([]);
    expect(client.map((request) => request.path)).toContain("/_matrix/client/v3/account/whoami");
    expect(logger.withMessage("the admin API answered")).toEqual([expect.objectContaining({ adminApi: ADMIN_URL, request: "server_version", serverVersion: "1.163.2" })]);
    expect(logger.withMessage("the client API answered")).toEqual([expect.objectContaining({ clientApi: CLIENT_URL, request: "whoami", selfUserId: SELF })]);
    expect(logger.withMessage("the admin API confirmed Warden's admin rights")).toEqual([expect.objectContaining({ adminApi: ADMIN_URL })]);
  });

  it("without adminUrl, start-up stops at once when the clients' address refuses the admin API, naming it", async () => {
    const client = host(CLIENT_URL, () => undefined);

    const started = await startWarden(config(), new MemoryLogger().log);

    expect(started).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^the admin API is not served at https:\/\/matrix\.example\.org: GET \/_synapse\/admin\/v1\/server_version was answered 404 M_UNRECOGNIZED\. .*set adminUrl \(which defaults to homeserverUrl\)/,
      ) as unknown,
    });
    expect(client.map((request) => request.path)).toEqual(["/_synapse/admin/v1/server_version"]);
  });
});
