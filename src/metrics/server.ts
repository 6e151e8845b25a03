import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import type { HealthVerdict } from "./health.js";

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:9464"; undefined for anything else. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  if (match === null) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: match[1] ?? match[2] ?? "", port };
}

export interface MetricsSource {
  text(): Promise<string>;
  readonly contentType: string;
}

/**
 * Serves GET /metrics (Prometheus text) and GET /healthz (200 or 503 with a short JSON
 * reason). Nothing else: every other path is a 404, every other method a 405.
 */
export function startMetricsServer(
  address: ListenAddress,
  metrics: MetricsSource,
  health: () => HealthVerdict,
  log: Logger,
): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/healthz") {
      const verdict = health();
      response.writeHead(verdict.healthy ? 200 : 503, { "content-type": "application/json" });
      response.end(JSON.stringify({ status: verdict.healthy ? "ok" : "unhealthy", reason: verdict.reason }));
      return;
    }
    if (path === "/metrics") {
      metrics.text().then(
        (text) => {
          response.writeHead(200, { "content-type": metrics.contentType }).end(text);
        },
        (error: unknown) => {
          log.error({ err: error }, "could not collect metrics");
          response.writeHead(500, { "content-type": "text/plain" }).end("could not collect metrics\n");
        },
      );
      return;
    }
    response.writeHead(404, { "content-type": "text/plain" }).end("not found: try /metrics or /healthz\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      log.info({ host: address.host, port: address.port }, "metrics and health endpoints listening");
      resolve(server);
    });
  });
}
