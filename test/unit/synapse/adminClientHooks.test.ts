import { describe, expect, it } from "vitest";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";
import type { Transport, TransportResponse } from "../../../src/synapse/transport.js";
import { err, ok } from "../../../src/util/result.js";

function reply(status: number, text: string): TransportResponse {
  return { status, text, header: () => undefined };
}

/** Answers with the responses in order, then as a server that refuses connections. */
function answering(...responses: TransportResponse[]): Transport {
  return () => {
    const next = responses.shift();
    return Promise.resolve(next === undefined ? err({ timedOut: false, code: "ECONNREFUSED" }) : ok(next));
  };
}

describe("the admin client's request hook", () => {
  it("reports every attempt with its endpoint group and status, never an id", async () => {
    const events: unknown[] = [];
    const client = new SynapseAdminClient({
      homeserverUrl: "https://hs.example",
      accessToken: "secret",
      sleep: () => Promise.resolve(),
      transport: answering(reply(502, "{}"), reply(200, JSON.stringify({ block: false }))),
      onRequest: (event) => events.push(event),
    });
    await client.blockStatus("!room:hs.example" as never);
    await client.serverVersion();

    expect(events).toEqual([
      { group: "rooms", status: "502", answered: false },
      { group: "rooms", status: "2xx", answered: true },
      // The first try and three retries.
      ...Array.from({ length: 4 }, () => ({ group: "server_version", status: "unreachable", answered: false })),
    ]);
  });
});
