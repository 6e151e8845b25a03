import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repositoryRoot } from "./paths.js";

export interface WardenSettings {
  readonly homeserverUrl: string;
  readonly accessToken: string;
  readonly managementRoom: string;
  readonly allowlist: readonly string[];
  /** Reuse one to test restarts; a fresh temporary one by default. */
  readonly dataDirectory?: string;
  readonly extraConfig?: Readonly<Record<string, unknown>>;
  readonly logLevel?: string;
}

export interface RunningWardenProcess {
  readonly dataDirectory: string;
  readonly logFile: string;
  readonly configFile: string;
  /** Everything Warden has logged so far (stdout and stderr). */
  logs(): string;
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>;
  /** SIGKILL at once: a crash, as far as Warden can tell. */
  kill(): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** Starts the built Warden (dist/src/index.js) the way a user does: a config file and `node`. */
export function startWardenProcess(settings: WardenSettings): RunningWardenProcess {
  const dataDirectory = settings.dataDirectory ?? mkdtempSync(join(tmpdir(), "warden-data-"));
  const workDirectory = mkdtempSync(join(tmpdir(), "warden-run-"));
  const configFile = join(workDirectory, "config.yaml");
  const logFile = join(workDirectory, "warden.log");
  const config = {
    homeserverUrl: settings.homeserverUrl,
    accessToken: settings.accessToken,
    managementRoom: settings.managementRoom,
    allowlist: settings.allowlist,
    dataDirectory,
    logLevel: settings.logLevel ?? "debug",
    ...settings.extraConfig,
  };
  // JSON is YAML; no YAML library needed here.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const output = createWriteStream(logFile);
  const child: ChildProcess = spawn(process.execPath, [join(repositoryRoot(), "dist/src/index.js"), "--config", configFile], {
    cwd: workDirectory,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WARDEN_ACCESS_TOKEN: "" },
  });
  child.stdout?.pipe(output, { end: false });
  child.stderr?.pipe(output, { end: false });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      resolve(code);
    });
  });
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    process.removeListener("exit", killOnExit);
  };
  return {
    dataDirectory,
    logFile,
    configFile,
    logs: () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : ""),
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    exited,
  };
}
