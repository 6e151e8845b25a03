import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HoldingProxy } from "../../../scripts/harness/holdingProxy.js";
import { bodyOf } from "../../../scripts/harness/roomRecorder.js";
import { startSynapse, type RunningSynapse } from "../../../scripts/harness/synapse.js";
import { startWardenProcess } from "../../../scripts/harness/warden.js";
import { pointAfterNow, startScenario, type Scenario } from "../scenario.js";

/*
 * A deployment whose clients' address refuses the admin API: a reverse proxy in front of
 * Synapse's main listener answers 404 M_UNRECOGNIZED for /_synapse/admin/* and forwards the rest,
 * and the same Synapse serves the admin API on a second, "internal" listener.
 */
let synapse: RunningSynapse;
let clientsProxy: HoldingProxy;
let adminUrl: string;
let scenario: Scenario;

const isAdminPath = (_method: string, path: string): boolean => path.startsWith("/_synapse/admin/");

beforeAll(async () => {
  synapse = await startSynapse({ adminListener: true });
  adminUrl = synapse.adminUrl ?? "";
  clientsProxy = await HoldingProxy.start(synapse.baseUrl);
  clientsProxy.refuse(isAdminPath);
  scenario = await startScenario({ synapse, wardenHomeserverUrl: clientsProxy.url, extraConfig: { adminUrl } });
});

afterAll(async () => {
  await scenario.stop();
  await clientsProxy.stop();
});

/** Warden's JSON log lines with this message. */
function logEntries(message: string): Record<string, unknown>[] {
  return scenario
    .allLogs()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((entry) => entry["msg"] === message);
}

describe("adminUrl: the admin API at its own address", () => {
  it("the test's deployment is what it claims: the clients' address refuses the admin API, the second listener serves it", async () => {
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(adminUrl).not.toBe(synapse.baseUrl);
    // Marked, so it is told apart from Warden's requests below.
    const refused = await fetch(`${clientsProxy.url}/_synapse/admin/v1/server_version?asked_by=test`);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ errcode: "M_UNRECOGNIZED" });
    const served = await fetch(`${adminUrl}/_synapse/admin/v1/server_version`);
    expect(served.status).toBe(200);
  });

  it("Warden starts, and its ready message and log say which address answered what", async () => {
    const ready = await scenario.recorder.waitFor((event) => event.sender === scenario.wardenUser.userId && bodyOf(event).includes("is ready"), {
      from: 0,
      what: "the ready message",
    });
    expect(bodyOf(ready)).toContain(`is ready on ${clientsProxy.url}, admin API at ${adminUrl} (Synapse `);
    expect(logEntries("the admin API answered")).toEqual([expect.objectContaining({ adminApi: adminUrl, request: "server_version" })]);
    expect(logEntries("the client API answered")).toEqual([expect.objectContaining({ clientApi: clientsProxy.url, request: "whoami" })]);
    expect(logEntries("the admin API confirmed Warden's admin rights")).toEqual([expect.objectContaining({ adminApi: adminUrl })]);
    expect(logEntries("Warden is ready")).toEqual([expect.objectContaining({ clientApi: clientsProxy.url, adminApi: adminUrl })]);
  });

  it("commands work: !room and a !purge job, with every admin request on adminUrl and the bot's on the proxy", async () => {
    const roomId = await scenario.spammer.createRoom({ name: "behind the proxy", room_alias_name: "behindproxy", preset: "public_chat" });
    const old = await scenario.spammer.sendText(roomId, "old");
    const cutoff = await pointAfterNow();
    await scenario.spammer.sendText(roomId, "new");

    // The alias is resolved through the client API, the room read through the admin API.
    const look = await scenario.send("!room #behindproxy:localhost");
    const lines = bodyOf(await scenario.replyTo(look.eventId, look.mark)).split("\n");
    expect(lines[0]).toBe(`Room "behind the proxy" #behindproxy:localhost (${roomId})`);
    expect(lines).toContain("Blocked: no");

    const purge = await scenario.send(`!purge ${roomId} ${new Date(cutoff).toISOString()} --local --yes`);
    expect(bodyOf(await scenario.replyTo(purge.eventId, purge.mark))).toMatch(/Purge p-[0-9a-f]{6} accepted/);
    expect(bodyOf(await scenario.finalFor(purge.eventId, purge.mark))).toMatch(/done in/);
    expect(await scenario.admin.adminEventExists(old)).toBe(false);

    // Synapse's access log names the listener (by port) that served each request.
    const adminListener = `synapse.access.http.${new URL(adminUrl).port} `;
    const servedThere = readFileSync(synapse.logFile, "utf8")
      .split("\n")
      .filter((line) => line.includes(adminListener) && line.includes(`{${scenario.wardenUser.userId}}`));
    expect(servedThere.some((line) => line.includes(`"POST /_synapse/admin/v1/purge_history/${encodeURIComponent(roomId)}`))).toBe(true);
    expect(servedThere.some((line) => line.includes('"GET /_synapse/admin/v1/rooms?limit=1 '))).toBe(true);

    // Warden sent the clients' proxy client API requests only: no admin request was refused.
    const byWarden = clientsProxy.seen.filter((request) => !request.path.endsWith("asked_by=test"));
    expect(byWarden.length).toBeGreaterThan(0);
    expect(byWarden.filter((request) => !request.path.startsWith("/_matrix/client/"))).toEqual([]);
    expect(clientsProxy.seen.filter((request) => isAdminPath(request.method, request.path)).map((request) => request.path)).toEqual([
      "/_synapse/admin/v1/server_version?asked_by=test",
    ]);
  });

  it("without adminUrl the same deployment stops start-up at once, naming the address that refused the admin API", async () => {
    const warden = startWardenProcess({
      homeserverUrl: clientsProxy.url,
      accessToken: scenario.wardenUser.accessToken,
      managementRoom: scenario.managementRoomId,
      allowlist: [scenario.moderatorUser.userId],
    });
    // Waiting here would mean Warden retries as if the homeserver were down: it must not.
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      warden.exited,
      new Promise<string>((resolve) => {
        timer = setTimeout(() => {
          resolve("still running after 30 s");
        }, 30_000);
      }),
    ]);
    clearTimeout(timer);
    if (code === "still running after 30 s") await warden.kill();

    expect(code).toBe(1);
    const logs = warden.logs();
    expect(logs).toContain(`the admin API is not served at ${clientsProxy.url}: GET /_synapse/admin/v1/server_version was answered 404 M_UNRECOGNIZED.`);
    expect(logs).toContain("set adminUrl (which defaults to homeserverUrl) to an address that serves it");
    expect(logs).not.toContain(scenario.wardenUser.accessToken);
  });
});
