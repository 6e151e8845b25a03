import { afterAll, describe, expect, it } from "vitest";
import { MatrixClient, MatrixHttpError } from "../../scripts/harness/client.js";
import { databaseNames, e2eDatabase, sharedCluster } from "../../scripts/harness/postgres.js";
import { startFederatedPair, startSynapse, type RunningSynapse } from "../../scripts/harness/synapse.js";

const started: RunningSynapse[] = [];

afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
});

/** The database of a server on the run's cluster, or undefined on SQLite. */
function postgresDatabaseOf(server: RunningSynapse): string | undefined {
  return server.database.engine === "postgres" ? server.database.database : undefined;
}

function bodies(events: readonly { type: string; content: Record<string, unknown> }[]): unknown[] {
  return events.filter((event) => event.type === "m.room.message").map((event) => event.content["body"]);
}

describe("single Synapse", () => {
  it("registers users, creates a room and lets an admin read it", async () => {
    const server = await startSynapse();
    started.push(server);
    expect(server.serverName).toBe("localhost");
    // The run's choice (WARDEN_E2E_DATABASE): PostgreSQL by default, where the cluster holds its database.
    expect(server.database.engine).toBe(e2eDatabase());
    const cluster = sharedCluster();
    const database = postgresDatabaseOf(server);
    if (cluster !== undefined && database !== undefined) expect(await databaseNames(cluster)).toContain(database);

    const adminUser = await server.registerUser("admin", { admin: true });
    const aliceUser = await server.registerUser("alice");
    expect(adminUser.userId).toBe("@admin:localhost");
    const admin = new MatrixClient(server.baseUrl, adminUser);
    const alice = new MatrixClient(server.baseUrl, aliceUser);

    const roomId = await alice.createRoom({ name: "harness", room_alias_name: "harness", preset: "public_chat" });
    expect((await alice.resolveAlias("#harness:localhost")).room_id).toBe(roomId);
    for (const body of ["one", "two", "three"]) await alice.sendText(roomId, body);

    const seen = await alice.waitForEvent(roomId, (event) => event.content["body"] === "three", 10_000);
    expect(seen.sender).toBe(aliceUser.userId);
    expect(bodies((await alice.getMessages(roomId, { dir: "f", limit: 50 })).chunk)).toEqual(["one", "two", "three"]);

    expect(bodies(await admin.adminRoomMessages(roomId))).toEqual(["one", "two", "three"]);
    expect(await admin.adminRoomMembers(roomId)).toEqual([aliceUser.userId]);
    expect((await admin.adminRoomDetails(roomId)).name).toBe("harness");
    expect((await admin.adminRoomBlockStatus(roomId)).block).toBe(false);

    // A non-admin is refused, so admin helpers really exercise admin rights.
    await expect(alice.adminRoomMembers(roomId)).rejects.toBeInstanceOf(MatrixHttpError);

    await server.stop();
    await server.stop(); // idempotent
    if (cluster !== undefined) expect(await databaseNames(cluster)).not.toContain(database);
  });
});

describe("federated pair", () => {
  it("lets a user of B join a room on A and A receive B's message", async () => {
    const [a, b] = await startFederatedPair();
    started.push(a, b);
    expect(a.serverName).not.toBe(b.serverName);
    // Each server has a database of its own in the one cluster.
    if (e2eDatabase() === "postgres") expect(postgresDatabaseOf(a)).not.toBe(postgresDatabaseOf(b));

    const alice = new MatrixClient(a.baseUrl, await a.registerUser("alice"));
    const bob = new MatrixClient(b.baseUrl, await b.registerUser("bob"));

    const roomId = await alice.createRoom({ room_alias_name: "fed", preset: "public_chat" });
    // Joining by alias makes B resolve it over federation before the join handshake.
    expect(await bob.joinRoom(`#fed:${a.serverName}`)).toBe(roomId);

    const eventId = await bob.sendText(roomId, "hello from B");
    const arrived = await alice.waitForEvent(roomId, (event) => event.event_id === eventId, 30_000);
    expect(arrived.sender).toBe(bob.userId);
    expect(arrived.content["body"]).toBe("hello from B");
  });
});
