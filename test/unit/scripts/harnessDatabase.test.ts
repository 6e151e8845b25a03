import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { homeserverConfig } from "../../../scripts/harness/config.js";
import { CLUSTER_ENVIRONMENT, e2eDatabase, postgresBinDirectory, sharedCluster } from "../../../scripts/harness/postgres.js";

const settings = {
  serverName: "localhost",
  dataDirectory: "/tmp/synapse",
  clientPort: 8008,
  registrationSharedSecret: "s",
  macaroonSecretKey: "m",
  formSecret: "f",
  signingKeyPath: "/tmp/synapse/signing.key",
  logConfigPath: "/tmp/synapse/log.config.yaml",
};

describe("the e2e suite's database choice (WARDEN_E2E_DATABASE)", () => {
  it("is PostgreSQL unless it says sqlite, in any case and with spaces around", () => {
    expect(e2eDatabase({})).toBe("postgres");
    expect(e2eDatabase({ WARDEN_E2E_DATABASE: "" })).toBe("postgres");
    expect(e2eDatabase({ WARDEN_E2E_DATABASE: "PostgreSQL" })).toBe("postgres");
    expect(e2eDatabase({ WARDEN_E2E_DATABASE: " sqlite " })).toBe("sqlite");
  });

  it("stops at a value it does not know, naming it, rather than quietly running on the other engine", () => {
    expect(() => e2eDatabase({ WARDEN_E2E_DATABASE: "sqlite3" })).toThrow("WARDEN_E2E_DATABASE must be postgres or sqlite, not sqlite3");
  });
});

describe("the run's cluster, handed to the test files through the environment", () => {
  it("is read back as the global setup wrote it, and is absent when none was started", () => {
    const server = { socketDirectory: "/tmp/warden-postgres-x", port: 54321, user: "warden", binDirectory: "/usr/lib/postgresql/15/bin" };
    expect(sharedCluster({ [CLUSTER_ENVIRONMENT]: JSON.stringify(server) })).toEqual(server);
    expect(sharedCluster({})).toBeUndefined();
    expect(() => sharedCluster({ [CLUSTER_ENVIRONMENT]: JSON.stringify({ port: "54321" }) })).toThrow();
  });
});

describe("homeserver.yaml's database", () => {
  it("is a SQLite file in the data directory, or a PostgreSQL database reached by the cluster's socket", () => {
    expect(homeserverConfig({ ...settings, database: { engine: "sqlite", path: "/tmp/synapse/homeserver.db" } })["database"]).toEqual({
      name: "sqlite3",
      args: { database: "/tmp/synapse/homeserver.db" },
    });
    const postgres = { engine: "postgres", socketDirectory: "/tmp/warden-postgres-x", port: 54321, user: "warden", database: "synapse_ab12" } as const;
    expect(homeserverConfig({ ...settings, database: postgres })["database"]).toEqual({
      name: "psycopg2",
      args: { user: "warden", host: "/tmp/warden-postgres-x", port: 54321, database: "synapse_ab12", cp_min: 5, cp_max: 10 },
    });
  });
});

describe("where PostgreSQL's programs are found", () => {
  const made: string[] = [];
  afterEach(() => {
    for (const directory of made.splice(0)) rmSync(directory, { recursive: true, force: true });
  });
  const folderWith = (...programs: string[]): string => {
    const directory = mkdtempSync(join(tmpdir(), "warden-pgbin-"));
    made.push(directory);
    for (const program of programs) writeFileSync(join(directory, program), "", { mode: 0o755 });
    return directory;
  };

  it("takes WARDEN_POSTGRES_BINDIR first, and refuses one without initdb and postgres", async () => {
    const bin = folderWith("initdb", "postgres");
    await expect(postgresBinDirectory({ WARDEN_POSTGRES_BINDIR: bin })).resolves.toBe(bin);
    const clientsOnly = folderWith("psql");
    await expect(postgresBinDirectory({ WARDEN_POSTGRES_BINDIR: clientsOnly })).rejects.toThrow(`WARDEN_POSTGRES_BINDIR=${clientsOnly} holds no initdb and postgres`);
  });
});
