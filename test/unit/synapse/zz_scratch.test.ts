import { it, afterEach } from "vitest";
import nock from "nock";
import { createServer } from "node:http";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import type { RoomId } from "../../../src/matrix/ids.js";
nock.disableNetConnect();
afterEach(() => { console.log("pending", nock.pendingMocks()); nock.cleanAll(); });
const client = new SynapseAdminClient({ homeserverUrl: "https://hs.test", accessToken: "tok", sleep: async () => {}, requestTimeoutMs: 100 });
it("headers delayed", async () => {
  nock("https://hs.test").post(/.*/).reply(async () => { await new Promise((r) => setTimeout(r, 400)); return [200, { purge_id: "y" }]; });
  console.log(await client.startPurge("!a" as RoomId, { timestamp: 5 }, true));
  await new Promise((r) => setTimeout(r, 600));
});
it("real server body stall", async () => {
  const server = createServer((req, res) => { res.writeHead(200, { "content-type": "application/json" }); res.write('{"purge_id":'); });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const addr = server.address();
  const port = typeof addr === "object" && addr !== null ? addr.port : 0;
  nock.enableNetConnect("127.0.0.1");
  const c2 = new SynapseAdminClient({ homeserverUrl: `http://127.0.0.1:${port}`, accessToken: "tok", sleep: async () => {}, requestTimeoutMs: 100 });
  console.log(await c2.startPurge("!a" as RoomId, { timestamp: 5 }, true));
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  nock.disableNetConnect();
});
