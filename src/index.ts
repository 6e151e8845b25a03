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
  const started = await startWarden(config.value, log);
  if (!started.ok) {
    log.fatal({ reason: started.error }, "Warden cannot start");
    process.stderr.write(`warden: ${started.error}\n`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const shutdown = (signal: NodeJS.Signals): void => {
      log.info({ signal }, "stopping");
      started.value.stop();
      resolve();
    };
    process.once("SIGINT", shutdown);
    process.once("SIGTERM", shutdown);
  });
  return 0;
}

main().then(
  (code) => {
    // pino writes asynchronously to stdout; let it drain before exiting.
    // An open /sync long-poll would keep the process alive for up to 30 s after stopping.
    process.exitCode = code;
    setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    process.stderr.write(`warden: unexpected failure: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
