#!/usr/bin/env node
import { parseArgs } from "node:util";
import { startWarden } from "./app/warden.js";
import { loadConfig } from "./config.js";
import { createLogger } from "./log.js";

const USAGE = "usage: warden --config <path to config.yaml>";

async function main(): Promise<number> {
  let configPath: string;
  try {
    const { values } = parseArgs({ options: { config: { type: "string", short: "c" }, help: { type: "boolean", short: "h" } } });
    if (values.help === true) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    configPath = values.config ?? process.env["WARDEN_CONFIG"] ?? "config.yaml";
  } catch (error) {
    process.stderr.write(`warden: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }

  const config = loadConfig(configPath);
  if (!config.ok) {
    process.stderr.write(`warden: ${config.error}\n`);
    return 2;
  }
  const log = createLogger(config.value.logLevel, [config.value.accessToken]);
  log.info({ configPath, tokenSource: config.value.accessTokenSource, dataDirectory: config.value.dataDirectory }, "starting Warden");

  // Listening from the start: a stop requested while Warden starts ends the wait for the
  // homeserver, or drains once start-up is done. A second signal ends Warden at once.
  let requested: NodeJS.Signals | undefined;
  const stopRequested = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (requested !== undefined) {
        log.warn({ signal }, "second signal while stopping: exiting now; the next start answers the commands left");
        process.exit(1);
      }
      requested = signal;
      log.info({ signal }, "stopping");
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });

  const started = await startWarden(config.value, log, { stopRequested: () => requested !== undefined });
  if (!started.ok) {
    if (requested !== undefined) return 0;
    log.fatal({ reason: started.error }, "Warden cannot start");
    process.stderr.write(`warden: ${started.error}\n`);
    return 1;
  }
  await stopRequested;
  const report = await started.value.drain();
  log.info(report, "stopped");
  return 0;
}

main().then(
  (code) => {
    // An open /sync long-poll would keep the process alive for up to 30 s after stopping; the
    // state is flushed by now, and the short wait lets the last log lines out.
    process.exitCode = code;
    setTimeout(() => process.exit(code), 100).unref();
  },
  (error: unknown) => {
    process.stderr.write(`warden: unexpected failure: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
