#!/usr/bin/env node
/**
 * The Docker HEALTHCHECK: asks Warden's own /healthz. Reads only `metrics.listen` from the
 * config (not the token), and exits 0 when metrics are off, so the check never fails a
 * container whose operator did not enable the endpoint.
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { parseListenAddress } from "./server.js";

function configuredAddress(path: string): string | undefined {
  const document: unknown = parseYaml(readFileSync(path, "utf8"));
  if (document === null || typeof document !== "object" || !("metrics" in document)) return undefined;
  const metrics = document.metrics;
  if (metrics === null || typeof metrics !== "object" || !("listen" in metrics) || typeof metrics.listen !== "string") return undefined;
  return metrics.listen;
}

async function main(): Promise<number> {
  const flag = process.argv.indexOf("--config");
  const path = (flag >= 0 ? process.argv[flag + 1] : undefined) ?? process.env["WARDEN_CONFIG"] ?? "/config/config.yaml";
  const listen = configuredAddress(path);
  if (listen === undefined) return 0;
  const address = parseListenAddress(listen);
  if (address === undefined) return 1;
  // A wildcard bind is reached through loopback.
  const host = address.host === "0.0.0.0" ? "127.0.0.1" : address.host === "::" ? "::1" : address.host;
  const response = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${address.port}/healthz`, { signal: AbortSignal.timeout(5_000) });
  process.stdout.write(`${await response.text()}\n`);
  return response.status === 200 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`healthcheck: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
