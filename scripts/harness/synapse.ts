import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { homeserverConfig, logConfig, type DatabaseSettings, type FederationListener } from "./config.js";
import { writeSelfSignedCertificate, writeSigningKey } from "./keys.js";
import { synapsePython } from "./paths.js";
import { freePort } from "./ports.js";
import { createDatabase, dropDatabase, sharedCluster, type PostgresServer } from "./postgres.js";
import { atHarnessExit, spawnSupervised, type SupervisedProcess } from "./processes.js";
import { clientApiAnswers, federationApiAnswers, waitUntilReady } from "./readiness.js";
import { registerWithSharedSecret, type RegisteredUser } from "./register.js";

export type { RegisteredUser } from "./register.js";

export interface RunningSynapse {
  /** Client-server API over plain HTTP, e.g. http://127.0.0.1:PORT */
  baseUrl: string;
  /** The second listener's URL, with `adminListener`: the same Synapse, client API and admin API. */
  adminUrl?: string;
  serverName: string;
  dataDirectory: string;
  logFile: string;
  /** Its database (`engine`: sqlite or postgres), for a test whose expectation depends on it. */
  database: DatabaseSettings;
  registerUser(localpart: string, options?: { admin?: boolean; password?: string }): Promise<RegisteredUser>;
  /** SIGTERM to the process group, SIGKILL after a grace period; safe to call more than once. */
  stop(): Promise<void>;
  /** Stops the process but keeps its port, config and database, for `restart`. */
  halt(): Promise<void>;
  /** Starts the halted server again on the same port with the same database. */
  restart(): Promise<void>;
}

export interface SynapseOptions {
  /** Default: a fresh directory under os.tmpdir(), removed again by stop(). */
  dataDirectory?: string;
  /** Default "localhost"; must be left unset with `federation`. */
  serverName?: string;
  /**
   * Adds a TLS federation listener; the server name becomes `127.0.0.1:<federation port>`
   * so peers reach it directly, with no .well-known or SRV lookup.
   */
  federation?: boolean;
  /** Adds a second HTTP listener (resources: client) on its own port; its URL is `adminUrl`. */
  adminListener?: boolean;
  /** Default 60 s. */
  startTimeoutMs?: number;
  /** Settings added to homeserver.yaml (e.g. forgotten_room_retention_period), over the harness's own. */
  extraConfig?: Record<string, unknown>;
  /**
   * Default: a new database in the e2e run's PostgreSQL cluster when there is one (test/e2e/globalSetup.ts,
   * unless WARDEN_E2E_DATABASE=sqlite), else SQLite. stop() drops a database it created.
   */
  database?: "sqlite" | PostgresServer;
}

const STOP_GRACE_MS = 10_000;

function secret(): string {
  return randomBytes(24).toString("base64url");
}

async function prepareFederation(python: string, dataDirectory: string): Promise<FederationListener> {
  const listener = {
    port: await freePort(),
    certificatePath: join(dataDirectory, "federation.crt"),
    privateKeyPath: join(dataDirectory, "federation.key"),
  };
  await writeSelfSignedCertificate(python, listener.certificatePath, listener.privateKeyPath);
  return listener;
}

/**
 * The database of the server in `dataDirectory`: a reused directory names its database in a file, as
 * it holds its SQLite file, so a second start finds the state of the first.
 */
async function postgresDatabase(server: PostgresServer, dataDirectory: string): Promise<DatabaseSettings> {
  const namePath = join(dataDirectory, "postgres-database");
  let database = existsSync(namePath) ? (await readFile(namePath, "utf8")).trim() : undefined;
  if (database === undefined) {
    database = `synapse_${randomBytes(6).toString("hex")}`;
    await createDatabase(server, database);
    await writeFile(namePath, `${database}\n`);
  }
  return { engine: "postgres", socketDirectory: server.socketDirectory, port: server.port, user: server.user, database };
}

export async function startSynapse(options: SynapseOptions = {}): Promise<RunningSynapse> {
  if (options.federation === true && options.serverName !== undefined) {
    throw new Error("harness: a federating Synapse is named 127.0.0.1:<port>; do not pass serverName");
  }
  const python = synapsePython();
  const ownsDirectory = options.dataDirectory === undefined;
  const dataDirectory = options.dataDirectory ?? (await mkdtemp(join(tmpdir(), "warden-synapse-")));
  await mkdir(dataDirectory, { recursive: true });
  const removesDirectory = ownsDirectory && process.env["WARDEN_KEEP_SYNAPSE_DATA"] === undefined;
  // A run stopped by Ctrl-C or a failure that skips stop() leaves no directory behind either.
  const cancelRemoval = removesDirectory
    ? atHarnessExit(() => {
        rmSync(dataDirectory, { recursive: true, force: true });
      })
    : () => undefined;

  const clientPort = await freePort();
  const adminPort = options.adminListener === true ? await freePort() : undefined;
  const adminUrl = adminPort === undefined ? undefined : `http://127.0.0.1:${adminPort}`;
  const federation = options.federation === true ? await prepareFederation(python, dataDirectory) : undefined;
  const serverName = federation === undefined ? (options.serverName ?? "localhost") : `127.0.0.1:${federation.port}`;
  const baseUrl = `http://127.0.0.1:${clientPort}`;
  const logFile = join(dataDirectory, "homeserver.log");
  const outputFile = join(dataDirectory, "synapse.out");
  const logConfigPath = join(dataDirectory, "log.config.yaml");
  const signingKeyPath = join(dataDirectory, "signing.key");
  const configPath = join(dataDirectory, "homeserver.yaml");
  const registrationSharedSecret = secret();
  const postgres = options.database === "sqlite" ? undefined : (options.database ?? sharedCluster());
  const database: DatabaseSettings =
    postgres === undefined ? { engine: "sqlite", path: join(dataDirectory, "homeserver.db") } : await postgresDatabase(postgres, dataDirectory);

  // A reused directory keeps its key: events already signed with it must stay verifiable.
  if (!existsSync(signingKeyPath)) await writeSigningKey(signingKeyPath);
  await writeFile(logConfigPath, JSON.stringify(logConfig(logFile), null, 2));
  const config = homeserverConfig({
    serverName,
    dataDirectory,
    database,
    clientPort,
    registrationSharedSecret,
    macaroonSecretKey: secret(),
    formSecret: secret(),
    signingKeyPath,
    logConfigPath,
    ...(federation === undefined ? {} : { federation }),
    ...(adminPort === undefined ? {} : { adminPort }),
  });
  await writeFile(configPath, JSON.stringify({ ...config, ...options.extraConfig }, null, 2), { mode: 0o600 });

  const isReady = async (): Promise<boolean> =>
    (await clientApiAnswers(baseUrl)) &&
    (adminUrl === undefined || (await clientApiAnswers(adminUrl))) &&
    (federation === undefined || (await federationApiAnswers(federation.port)));
  const launch = async (): Promise<SupervisedProcess> => {
    const started = spawnSupervised(python, ["-m", "synapse.app.homeserver", "-c", configPath], outputFile, dataDirectory);
    try {
      await waitUntilReady(isReady, { process: started, logFile, outputFile, timeoutMs: options.startTimeoutMs ?? 60_000 });
    } catch (error) {
      // Keep the directory: its logs are what the error message points at.
      cancelRemoval();
      await started.stop(0);
      throw error;
    }
    return started;
  };
  let child = await launch();

  let stopping: Promise<void> | undefined;
  return {
    baseUrl,
    ...(adminUrl === undefined ? {} : { adminUrl }),
    serverName,
    dataDirectory,
    logFile,
    database,
    registerUser: (localpart, registration = {}) =>
      registerWithSharedSecret(
        baseUrl,
        registrationSharedSecret,
        localpart,
        registration.password ?? secret(),
        registration.admin ?? false,
      ),
    halt: () => child.stop(STOP_GRACE_MS),
    restart: async () => {
      child = await launch();
    },
    stop: () => {
      stopping ??= (async () => {
        await child.stop(STOP_GRACE_MS);
        if (removesDirectory) {
          cancelRemoval();
          if (postgres !== undefined && database.engine === "postgres") await dropDatabase(postgres, database.database);
          await rm(dataDirectory, { recursive: true, force: true });
        }
      })();
      return stopping;
    },
  };
}

/** Two servers on loopback that federate with each other over TLS with self-signed certificates. */
export async function startFederatedPair(): Promise<[RunningSynapse, RunningSynapse]> {
  // Started together: start-up is mostly Python imports, so two cores nearly halve the wait.
  const results = await Promise.allSettled([startSynapse({ federation: true }), startSynapse({ federation: true })]);
  const [first, second] = results;
  if (first.status === "fulfilled" && second.status === "fulfilled") return [first.value, second.value];
  await Promise.all(results.flatMap((result) => (result.status === "fulfilled" ? [result.value.stop()] : [])));
  const failure = results.find((result) => result.status === "rejected");
  throw failure?.reason instanceof Error ? failure.reason : new Error("harness: federated pair failed to start");
}
