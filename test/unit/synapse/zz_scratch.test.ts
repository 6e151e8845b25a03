import { it, afterEach } from "vitest";
import nock from "nock";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import type { RoomId } from "../../../src/matrix/ids.js";
nock.disableNetConnect();
afterEach(() => { console.log("pending", nock.pendingMocks()); nock.cleanAll(); });
const client = new SynapseAdminClient({ homeserverUrl: "https://hs.test", accessToken: "tok", fetch: async (u, i) => { try { return await fetch(u, i); } catch (e) { console.log("FETCHERR", e); throw e; } }, sleep: async () => {}, requestTimeoutMs: 100 });
it("fn", async () => {
  nock("https://hs.test").intercept((p) => { console.log("P", p); return true; }, "POST").reply(function (uri, body) { console.log("URI", uri, JSON.stringify(body), typeof body, this.req.headers); return [200, { purge_id: "x" }]; });
  console.log(await client.startPurge("!a/b?c#d%e f:é.org" as RoomId, { timestamp: 5 }, true));
});
it("literal", async () => {
  nock("https://hs.test").post("/_synapse/admin/v1/purge_history/!a").reply(function (uri, body) { console.log("URI", uri, JSON.stringify(body), typeof body, this.req.headers); return [200, { purge_id: "x" }]; });
  console.log(await client.startPurge("!a" as RoomId, { timestamp: 5 }, true));
});
it("err", async () => {
  nock("https://hs.test").post(/.*/).replyWithError({ code: "ECONNREFUSED", message: "connect ECONNREFUSED" });
  console.log(await client.startPurge("!a" as RoomId, { timestamp: 5 }, true));
});
