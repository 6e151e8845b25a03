import { readFile } from "node:fs/promises";
import { get } from "node:https";
import type { SupervisedProcess } from "./processes.js";

const POLL_INTERVAL_MS = 100;

/** True once Synapse's client listener answers `GET /_matrix/client/versions` with 200. */
export async function clientApiAnswers(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/_matrix/client/versions`, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * True once the TLS federation listener answers. node:https rather than fetch, because fetch
 * offers no way to accept the self-signed certificate.
 */
export function federationApiAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(
      { host: "127.0.0.1", port, path: "/_matrix/federation/v1/version", rejectUnauthorized: false, timeout: 2_000 },
      (response) => {
        response.resume();
        resolve(response.statusCode === 200);
      },
    );
    request.on("timeout", () => {
      request.destroy();
    });
    request.on("error", () => {
      resolve(false);
    });
  });
}

async function tail(path: string, lines: number): Promise<string> {
  try {
    return (await readFile(path, "utf8")).trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(unreadable)";
  }
}

export interface ReadinessContext {
  process: SupervisedProcess;
  logFile: string;
  outputFile: string;
  timeoutMs: number;
  /** What is starting, for the error message; default "Synapse". */
  name?: string;
}

/**
 * Polls `isReady` until it holds. Fails at once if Synapse exits, or after `timeoutMs`,
 * with an error that names the log files and quotes their last lines.
 */
export async function waitUntilReady(isReady: () => Promise<boolean>, context: ReadinessContext): Promise<void> {
  const deadline = Date.now() + context.timeoutMs;
  for (;;) {
    if (await isReady()) return;
    if (context.process.hasExited()) {
      const status = await context.process.exited;
      throw await startupError(`exited during start-up (code ${status.code}, signal ${status.signal ?? "none"})`, context);
    }
    if (Date.now() >= deadline) {
      throw await startupError(`did not answer within ${context.timeoutMs} ms`, context);
    }
    // Wake early if the process dies, so a crash is reported without waiting for the next poll.
    await Promise.race([context.process.exited, new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS))]);
  }
}

async function startupError(what: string, context: ReadinessContext): Promise<Error> {
  const name = context.name ?? "Synapse";
  if (context.logFile === context.outputFile) {
    return new Error(`harness: ${name} ${what}. See ${context.logFile}.\n--- last lines ---\n${await tail(context.logFile, 15)}`);
  }
  return new Error(
    `harness: ${name} ${what}. See ${context.logFile} and ${context.outputFile}.\n` +
      `--- last lines of ${context.outputFile} ---\n${await tail(context.outputFile, 15)}\n` +
      `--- last lines of ${context.logFile} ---\n${await tail(context.logFile, 15)}`,
  );
}
