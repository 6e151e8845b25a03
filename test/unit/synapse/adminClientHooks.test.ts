import { describe, expect, it } from "vitest";
import { SynapseAdminClient } from "../../../src/synapse/adminClient.js";

function answering(...responses: (() => Response)[]): typeof fetch {
  return () => {
    const next = responses.shift();
    return next === undefined ? Promise.reject(new TypeError("fetch failed")) : Promise.resolve(next());
  };
}

describe("the admin client's request hook", () => {
  it("reports every attempt with its endpoint group and status, never an id", async () => {
    const events: unknown[] = [];
    const client = new SynapseAdminClient({
      homeserverUrl: "https://hs.example",
      accessToken: "secret",
      sleep: () => Promise.resolve(),
      fetch: answering(
        () => new Response("{}", { status: 502 }),
        () => Response.json({ block: false }),
      ),
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
