/**
 * A throwaway PostgreSQL cluster for the e2e suite: one per test run (test/e2e/globalSetup.ts
 * starts it), a database per Synapse. The cluster lives in a temporary directory, listens on a
 * free loopback port and on a unix socket in that directory, and trusts every local connection.
 */
import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { promisify } from "node:util";
import { z } from "zod";
import { freePort } from "./ports.js";
import { atHarnessExit, spawnSupervised, type SupervisedProcess } from "./processes.js";
import { waitUntilReady } from "./readiness.js";

const execFileAsync = promisify(execFile);

/** Where the e2e suite's global setup names its cluster for the test files (JSON of PostgresServer). */
export const CLUSTER_ENVIRONMENT = "WARDEN_E2E_POSTGRES";

/** How to reach a running cluster; plain data, so it can cross into the test workers. */
export const PostgresServer = z.object({
  /** The directory of the unix socket: Synapse and the client tools connect through it. */
  socketDirectory: z.string(),
  port: z.number().int().positive(),
  /** The cluster's superuser; every local connection is trusted, so no password. */
  user: z.string(),
  /** Where initdb, postgres, createdb and dropdb are. */
  binDirectory: z.string(),
});
export type PostgresServer = z.output<typeof PostgresServer>;

export interface PostgresCluster {
  readonly server: PostgresServer;
  /** The temporary directory: data/, the socket and postgres.log. */
  readonly directory: string;
  readonly logFile: string;
  /** Fast shutdown (clients are disconnected), then the directory is removed; safe to call more than once. */
  stop(): Promise<void>;
}

const SUPERUSER = "warden";
const STOP_GRACE_MS = 10_000;

/**
 * The cluster is thrown away after the run, so durability only costs time: with these, a commit
 * waits for no disk at all. Synapse's connection pools (five to ten connections each, several
 * servers at once in the federation tests) fit in 200 with room to spare.
 */
const SERVER_SETTINGS = ["fsync=off", "synchronous_commit=off", "full_page_writes=off", "max_connections=200"];

/**
 * The folder of PostgreSQL's programs: WARDEN_POSTGRES_BINDIR, then `pg_config --bindir`, then
 * Debian's layout (the `postgresql` package puts initdb and postgres in /usr/lib/postgresql/<n>/bin,
 * off the PATH), then wherever `initdb` on the PATH points.
 */
export async function postgresBinDirectory(environment: NodeJS.ProcessEnv = process.env): Promise<string> {
  const hasServer = (directory: string): boolean => existsSync(join(directory, "initdb")) && existsSync(join(directory, "postgres"));
  const configured = environment["WARDEN_POSTGRES_BINDIR"];
  if (configured !== undefined) {
    if (hasServer(configured)) return configured;
    throw new Error(`harness: WARDEN_POSTGRES_BINDIR=${configured} holds no initdb and postgres`);
  }
  try {
    const { stdout } = await execFileAsync("pg_config", ["--bindir"]);
    if (hasServer(stdout.trim())) return stdout.trim();
  } catch {
    // No pg_config (it comes with libpq's development files): look in the usual places.
  }
  const debian = "/usr/lib/postgresql";
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    if (hasServer(join(debian, version, "bin"))) return join(debian, version, "bin");
  }
  for (const directory of (environment["PATH"] ?? "").split(delimiter)) {
    const initdb = join(directory, "initdb");
    if (directory !== "" && existsSync(initdb) && hasServer(dirname(realpathSync(initdb)))) return dirname(realpathSync(initdb));
  }
  throw new Error(
    "harness: PostgreSQL is not installed (no initdb and postgres found). Install it (Debian: " +
      "'apt-get install postgresql'), point WARDEN_POSTGRES_BINDIR at its bin folder, or run the " +
      "e2e suite on SQLite with WARDEN_E2E_DATABASE=sqlite.",
  );
}

interface Owner {
  uid: number;
  gid: number;
}

/** initdb and postgres refuse to run as root: as root, the cluster runs as the `postgres` user. */
async function clusterOwner(): Promise<Owner | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all([execFileAsync("id", ["-u", "postgres"]), execFileAsync("id", ["-g", "postgres"])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    throw new Error("harness: running as root, and there is no 'postgres' user to run PostgreSQL as (PostgreSQL refuses root)");
  }
}

/** postmaster.pid's eighth line is the server's state; pg_ctl waits for "ready" the same way. */
function acceptsConnections(dataDirectory: string): boolean {
  try {
    return readFileSync(join(dataDirectory, "postmaster.pid"), "utf8").split("\n")[7]?.trim() === "ready";
  } catch {
    return false;
  }
}

async function launch(binDirectory: string, directory: string, owner: Owner | undefined, logFile: string): Promise<{ child: SupervisedProcess; port: number }> {
  const dataDirectory = join(directory, "data");
  // Another process may take the free port before postgres binds it: then it exits, and a second port is tried.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const args = ["-D", dataDirectory, "-p", String(port), "-h", "127.0.0.1", "-k", directory, ...SERVER_SETTINGS.flatMap((setting) => ["-c", setting])];
    const child = spawnSupervised(join(binDirectory, "postgres"), args, logFile, directory, owner ?? {});
    try {
      await waitUntilReady(async () => Promise.resolve(acceptsConnections(dataDirectory)), {
        process: child,
        logFile,
        outputFile: logFile,
        timeoutMs: 30_000,
        name: "PostgreSQL",
      });
      return { child, port };
    } catch (error) {
      const exitedByItself = child.hasExited();
      await child.stop(0, "SIGQUIT");
      if (attempt === 3 || !exitedByItself) throw error;
    }
  }
}

/** initdb (C locale, UTF-8, as Synapse requires) and a running server; stop() removes it all again. */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const binDirectory = await postgresBinDirectory();
  const owner = await clusterOwner();
  const directory = await mkdtemp(join(tmpdir(), "warden-postgres-"));
  const keep = process.env["WARDEN_KEEP_SYNAPSE_DATA"] !== undefined;
  // Registered before anything runs in it: a Ctrl-C during initdb must not leave the directory behind.
  const cancelRemoval = atHarnessExit(() => {
    if (!keep) rmSync(directory, { recursive: true, force: true });
  });
  const logFile = join(directory, "postgres.log");
  try {
    if (owner !== undefined) await chown(directory, owner.uid, owner.gid);
    await execFileAsync(
      join(binDirectory, "initdb"),
      ["-D", join(directory, "data"), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
      { cwd: directory, ...owner },
    );
    const { child, port } = await launch(binDirectory, directory, owner, logFile);
    const server: PostgresServer = { socketDirectory: directory, port, user: SUPERUSER, binDirectory };
    let stopping: Promise<void> | undefined;
    return {
      server,
      directory,
      logFile,
      stop: () => {
        stopping ??= (async () => {
          // SIGINT is the fast shutdown: it ends open sessions. SIGTERM would wait for every client.
          await child.stop(STOP_GRACE_MS, "SIGINT");
          cancelRemoval();
          if (keep) process.stderr.write(`harness: PostgreSQL cluster kept in ${directory} (WARDEN_KEEP_SYNAPSE_DATA)\n`);
          else await rm(directory, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    cancelRemoval();
    if (!keep) await rm(directory, { recursive: true, force: true });
    throw error;
  }
}

/** The cluster the e2e suite's global setup started, when it did (WARDEN_E2E_DATABASE is not sqlite). */
export function sharedCluster(environment: NodeJS.ProcessEnv = process.env): PostgresServer | undefined {
  const text = environment[CLUSTER_ENVIRONMENT];
  return text === undefined ? undefined : PostgresServer.parse(JSON.parse(text));
}

export type E2eDatabase = "postgres" | "sqlite";

/** WARDEN_E2E_DATABASE: PostgreSQL unless it says sqlite; anything else is a typo worth stopping for. */
export function e2eDatabase(environment: NodeJS.ProcessEnv = process.env): E2eDatabase {
  const value = environment["WARDEN_E2E_DATABASE"]?.trim().toLowerCase();
  if (value === undefined || value === "" || value === "postgres" || value === "postgresql") return "postgres";
  if (value === "sqlite") return "sqlite";
  throw new Error(`harness: WARDEN_E2E_DATABASE must be postgres or sqlite, not ${String(environment["WARDEN_E2E_DATABASE"])}`);
}

function clientArguments(server: PostgresServer): string[] {
  return ["--host", server.socketDirectory, "--port", String(server.port), "--username", server.user];
}

/** A new database as Synapse wants it: from template0, C collation and ctype, UTF-8. */
export async function createDatabase(server: PostgresServer, name: string): Promise<void> {
  await execFileAsync(join(server.binDirectory, "createdb"), [...clientArguments(server), "--template=template0", "--locale=C", "--encoding=UTF8", name]);
}

/** The server's version as `postgres --version` gives it, e.g. "postgres (PostgreSQL) 15.8". */
export async function postgresVersion(server: PostgresServer): Promise<string> {
  return (await execFileAsync(join(server.binDirectory, "postgres"), ["--version"])).stdout.trim();
}

/** Drops the database, ending any session still on it. */
export async function dropDatabase(server: PostgresServer, name: string): Promise<void> {
  await execFileAsync(join(server.binDirectory, "dropdb"), [...clientArguments(server), "--force", "--if-exists", name]);
}

/** The names of the cluster's databases, templates left out. */
export async function databaseNames(server: PostgresServer): Promise<string[]> {
  const { stdout } = await execFileAsync(join(server.binDirectory, "psql"), [
    ...clientArguments(server),
    "--dbname=postgres",
    "--no-align",
    "--tuples-only",
    "--command=SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname",
  ]);
  return stdout.split("\n").filter((name) => name !== "");
}
