import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { BotClient, syncFilter, type MatrixEvent } from "../../../src/matrix/botClient.js";
import type { RoomId } from "../../../src/matrix/ids.js";
import type { SyncStore } from "../../../src/matrix/syncGate.js";
import type { StoredFilter } from "../../../src/store/syncState.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";

const HOMESERVER = "http://homeserver.test";
const ROOM = "!management:example.org" as RoomId;
const USER = "@warden:example.org";

afterEach(() => {
  nock.cleanAll();
});

/** Records, in order, what the SDK stored and what Warden did, so the order can be asserted. */
class OrderedStore implements SyncStore {
  token: string | null = "s-before";
  filter: StoredFilter | null = null;
  constructor(private readonly steps: string[]) {}
  setSyncToken(token: string | null): Promise<void> {
    this.steps.push(`token ${String(token)}`);
    this.token = token;
    return Promise.resolve();
  }
  getSyncToken(): string | null {
    return this.token;
  }
  setFilter(filter: StoredFilter): Promise<void> {
    this.filter = filter;
    return Promise.resolve();
  }
  getFilter(): StoredFilter {
    return this.filter as StoredFilter;
  }
  storeValue(): Promise<void> {
    return Promise.resolve();
  }
  readValue(): string | undefined {
    return undefined;
  }
}

function homeserverWithOneCommand(): void {
  const timeline = [
    { event_id: "$command", sender: "@mod:example.org", type: "m.room.message", origin_server_ts: 1, content: { msgtype: "m.text", body: "!status" } },
  ];
  nock(HOMESERVER)
    .get(/\/account_data\/m\.direct$/)
    .reply(404, { errcode: "M_NOT_FOUND" })
    .get("/_matrix/client/v3/joined_rooms")
    .reply(200, { joined_rooms: [ROOM] })
    .get("/_matrix/client/v3/account/whoami")
    .reply(200, { user_id: USER })
    .post(/\/filter$/)
    .reply(200, { filter_id: "1" })
    .get(/\/sync/)
    .query(true)
    .reply(200, { next_batch: "s-after", rooms: { join: { [ROOM]: { timeline: { events: timeline } } } } });
  // Later syncs: nothing new, slowly, until the test stops the client.
  nock(HOMESERVER).get(/\/sync/).query(true).delay(200).reply(200, { next_batch: "s-after" }).persist();
}

describe("BotClient with matrix-bot-sdk: the stored sync position", () => {
  it("moves only after the events of that sync are handed out and recorded", async () => {
    homeserverWithOneCommand();
    const steps: string[] = [];
    const logger = new MemoryLogger();
    const store = new OrderedStore(steps);
    const bot = await BotClient.create({
      homeserverUrl: HOMESERVER,
      accessToken: "syt_gate_test_token",
      storage: store,
      dataDirectory: mkdtempSync(join(tmpdir(), "warden-gate-")),
      log: logger.log,
    });
    let release: () => void = () => undefined;
    const recorded = new Promise<void>((resolve) => {
      release = resolve;
    });
    bot.onMessage((event: MatrixEvent) => steps.push(`event ${event.eventId}`));
    bot.holdSyncPositionUntil(async () => {
      // Like the dispatcher: nothing to wait for until a command arrived.
      if (!steps.includes("event $command")) return;
      steps.push("waiting for the record");
      await recorded;
      steps.push("recorded");
    });
    await bot.start(ROOM);
    await expect.poll(() => steps.includes("waiting for the record")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The filter was new, so the SDK cleared the token once; the new position waits for the record.
    expect(steps.filter((step) => step !== "token null")).toEqual(["event $command", "waiting for the record"]);
    expect(store.token).toBeNull();

    release();
    await expect.poll(() => store.token).toBe("s-after");
    expect(steps.slice(-2)).toEqual(["recorded", "token s-after"]);
    bot.stop();
  });
});

describe("BotClient with matrix-bot-sdk: a timeline the homeserver cut short", () => {
  it("fetches the missing events and hands them out first, oldest first, stopping at a day's age", async () => {
    const now = Date.now();
    const message = (eventId: string, ts: number) => ({
      event_id: eventId,
      sender: "@mod:example.org",
      type: "m.room.message",
      origin_server_ts: ts,
      content: { msgtype: "m.text", body: "!status" },
    });
    const pages: string[] = [];
    nock(HOMESERVER)
      .get(/\/account_data\/m\.direct$/)
      .reply(404, { errcode: "M_NOT_FOUND" })
      .get("/_matrix/client/v3/joined_rooms")
      .reply(200, { joined_rooms: [ROOM] })
      .get("/_matrix/client/v3/account/whoami")
      .reply(200, { user_id: USER })
      .get(/\/sync/)
      .query((query) => query["since"] === "s-before")
      .reply(200, {
        next_batch: "s-after",
        rooms: { join: { [ROOM]: { timeline: { limited: true, prev_batch: "p-1", events: [message("$newest", now - 1_000)] } } } },
      })
      .get(/\/messages/)
      .query(true)
      .reply((request: Request) => {
        pages.push(new URL(request.url).search);
        return [200, { chunk: [message("$in-the-gap-2", now - 60_000), message("$in-the-gap-1", now - 120_000), message("$ancient", now - 2 * 86_400_000)], end: "p-2" }];
      });
    nock(HOMESERVER).get(/\/sync/).query(true).delay(200).reply(200, { next_batch: "s-after" }).persist();
    const store = new OrderedStore([]);
    store.filter = { id: 1, filter: syncFilter(ROOM) };
    const bot = await BotClient.create({
      homeserverUrl: HOMESERVER,
      accessToken: "syt_gap_test_token",
      storage: store,
      dataDirectory: mkdtempSync(join(tmpdir(), "warden-gap-")),
      log: new MemoryLogger().log,
    });
    const seen: string[] = [];
    bot.onMessage((event: MatrixEvent) => seen.push(event.eventId));
    await bot.start(ROOM);
    await expect.poll(() => store.token).toBe("s-after");
    bot.stop();

    expect(seen).toEqual(["$in-the-gap-1", "$in-the-gap-2", "$newest"]);
    expect(pages).toHaveLength(1);
    expect(pages[0]).toContain("from=p-1");
    expect(pages[0]).toContain("dir=b");
  });
});
