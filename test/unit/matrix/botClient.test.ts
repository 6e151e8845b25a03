import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { BotClient } from "../../../src/matrix/botClient.js";
import type { RoomAlias, RoomId } from "../../../src/matrix/ids.js";
import { WardenDatabase } from "../../../src/store/database.js";
import { SyncStorage } from "../../../src/store/syncState.js";
import { parseAllowlistEntry, type AllowlistEntry } from "../../../src/access/allowlist.js";
import { CommandDispatcher } from "../../../src/commands/dispatcher.js";
import { ProtectedRooms } from "../../../src/commands/parsing/protectedRooms.js";
import { buildCommandTable } from "../../../src/commands/table.js";
import { commandFakes } from "../../fakes/commandDependencies.js";
import { FixedClock } from "../../fakes/fixedClock.js";
import { MemoryHandledEvents } from "../../fakes/memoryHandledEvents.js";
import { MemoryLogger } from "../../fakes/memoryLogger.js";

const HOMESERVER = "http://homeserver.test";
const TOKEN = "syt_secret_token_for_the_bot_client_test";
const ROOM = "!room/with?odd#chars:example.org" as RoomId;
const SEND_PATH = /^\/_matrix\/client\/v3\/rooms\/!room%2Fwith%3Fodd%23chars%3Aexample\.org\/send\/m\.room\.message\/(.+)$/;

afterEach(() => {
  nock.cleanAll();
});

async function botClient(waits: number[], logger = new MemoryLogger()) {
  const dataDirectory = mkdtempSync(join(tmpdir(), "warden-bot-"));
  return BotClient.create({
    homeserverUrl: HOMESERVER,
    accessToken: TOKEN,
    storage: new SyncStorage(WardenDatabase.open(dataDirectory)),
    dataDirectory,
    log: logger.log,
    sleep: (milliseconds) => {
      waits.push(milliseconds);
      return Promise.resolve();
    },
  });
}

describe("BotClient sending", () => {
  it("waits out a 429 and resends with the same transaction id", async () => {
    const paths: string[] = [];
    nock(HOMESERVER)
      .put(SEND_PATH)
      .reply((request: Request) => {
        paths.push(new URL(request.url).pathname);
        return [429, { errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests", retry_after_ms: 1234 }];
      })
      .put(SEND_PATH)
      .reply((request: Request) => {
        paths.push(new URL(request.url).pathname);
        return [200, { event_id: "$sent" }];
      });
    const waits: number[] = [];
    const client = await botClient(waits);
    const sent = await client.send(ROOM, { plain: "hello", html: "hello" }, { transactionId: "warden-final-p-000001" });
    expect(sent).toEqual({ ok: true, value: "$sent" });
    expect(waits).toEqual([1234]);
    expect(paths).toHaveLength(2);
    expect(paths[0]).toBe(paths[1]);
    expect(paths[0]?.endsWith("/warden-final-p-000001")).toBe(true);
  });

  it("sends a mention as m.text with m.mentions and everything else as m.notice", async () => {
    const bodies: unknown[] = [];
    nock(HOMESERVER)
      .put(SEND_PATH)
      .twice()
      .reply(async (request: Request) => {
        bodies.push(JSON.parse(await request.text()) as unknown);
        return [200, { event_id: "$x" }];
      });
    const client = await botClient([]);
    await client.send(ROOM, { plain: "done", html: "done", mentions: ["@mod:example.org" as never] });
    await client.send(ROOM, { plain: "note", html: "note" }, { replyTo: "$command" });
    expect(bodies[0]).toMatchObject({ msgtype: "m.text", "m.mentions": { user_ids: ["@mod:example.org"] } });
    expect(bodies[1]).toMatchObject({
      msgtype: "m.notice",
      "m.mentions": { user_ids: [] },
      "m.relates_to": { "m.in_reply_to": { event_id: "$command" } },
    });
  });

  it("reports a refused send as an error value without the token", async () => {
    nock(HOMESERVER).put(SEND_PATH).reply(403, { errcode: "M_FORBIDDEN", error: `no (you sent ${TOKEN})` });
    const logger = new MemoryLogger();
    const client = await botClient([], logger);
    const sent = await client.send(ROOM, { plain: "x", html: "x" });
    expect(sent.ok).toBe(false);
    expect(JSON.stringify(sent)).toContain("M_FORBIDDEN");
    expect(JSON.stringify(sent)).not.toContain(TOKEN);
    expect(logger.lines.join("\n")).not.toContain(TOKEN);
  });
});

describe("BotClient errors never carry the access token", () => {
  /** A homeserver (or a proxy in front of it) that echoes the request, token and all, in its error text. */
  const ECHO = { errcode: "M_UNKNOWN", error: `upstream refused GET with Authorization: Bearer ${TOKEN}` };

  it("scrubs it from an alias refusal that reaches the room, and from every log line", async () => {
    const sentBodies: string[] = [];
    nock(HOMESERVER).get(/^\/_matrix\/client\/v3\/directory\/room\//).reply(502, ECHO);
    nock(HOMESERVER)
      .put(/\/send\/m\.room\.message\//)
      .reply(async (request: Request) => {
        sentBodies.push(await request.text());
        return [200, { event_id: "$reply" }];
      });
    const logger = new MemoryLogger();
    const client = await botClient([], logger);
    const clock = new FixedClock();
    const management = "!mgmt:example.org" as RoomId;
    const table = buildCommandTable({
      ...commandFakes().dependencies,
      clock,
      targets: { directory: client, managementRoomId: management, protectedRooms: new ProtectedRooms([], client, clock) },
    });
    const dispatcher = new CommandDispatcher({
      table,
      prefix: "!",
      allowlist: [parseAllowlistEntry("@mod:example.org") as AllowlistEntry],
      managementRoomId: management,
      selfUserId: "@warden:example.org",
      chat: client,
      handled: new MemoryHandledEvents(),
      clock,
      log: logger.log,
      maxCommandAgeMs: 600_000,
      concurrency: 1,
    });

    await dispatcher.handle({
      roomId: management,
      sender: "@mod:example.org",
      type: "m.room.message",
      content: { msgtype: "m.text", body: "!purge #spam:example.org 30d" },
      eventId: "$command",
      originServerTs: clock.now(),
    });

    expect(sentBodies).toHaveLength(1);
    expect(sentBodies[0]).toContain("could not be resolved: M_UNKNOWN: upstream refused GET with Authorization: Bearer [redacted]");
    for (const text of [...sentBodies, ...logger.lines]) expect(text).not.toContain(TOKEN);
  });

  it("scrubs it from the start-up errors that reach stderr", async () => {
    nock(HOMESERVER).get("/_matrix/client/v3/account/whoami").reply(401, { ...ECHO, errcode: "M_UNKNOWN_TOKEN" });
    // The SDK asks who it is again before joining.
    nock(HOMESERVER).get("/_matrix/client/v3/account/whoami").reply(200, { user_id: "@warden:example.org" });
    nock(HOMESERVER).post(/\/join\//).reply(403, ECHO);
    const logger = new MemoryLogger();
    const client = await botClient([], logger);

    const who = await client.whoAmI();
    const joined = await client.join("#mgmt:example.org" as RoomAlias);

    expect(who).toEqual({ ok: false, error: "M_UNKNOWN_TOKEN: upstream refused GET with Authorization: Bearer [redacted]" });
    expect(joined).toEqual({ ok: false, error: "M_UNKNOWN: upstream refused GET with Authorization: Bearer [redacted]" });
    expect(logger.lines.join("\n")).not.toContain(TOKEN);
  });
});
