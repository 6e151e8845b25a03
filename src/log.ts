import { pino, type DestinationStream, type Logger } from "pino";
import type { LogLevel } from "./config.js";

export type { Logger };

/** Key paths that may hold a secret in anything we log; pino replaces their values. */
const REDACTED_PATHS = [
  "accessToken",
  "access_token",
  "password",
  "*.accessToken",
  "*.access_token",
  "*.password",
  "headers.authorization",
  "*.headers.authorization",
  "config.accessToken",
];

/**
 * The root logger. Besides key-based redaction, every line is scrubbed of the literal
 * secrets passed in: an error message or a dumped HTTP request can carry the token in a
 * place no redaction path anticipates.
 */
export function createLogger(level: LogLevel, secrets: readonly string[], destination: NodeJS.WritableStream | DestinationStream = standardOutput()): Logger {
  const literalSecrets = secrets.filter((secret) => secret.length >= 8);
  return pino(
    {
      level,
      base: { name: "warden" },
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      hooks: {
        streamWrite: (line) => scrubSecrets(line, literalSecrets),
      },
    },
    destination,
  );
}

/**
 * Standard output through pino's own writer, not process.stdout: that made one write to the
 * descriptor per line, and a wave logs a few lines a room (in bench:scale, about a tenth of
 * Warden's CPU went to those writes). This one writes at once when idle, and while a write is
 * under way gathers the lines that come into the next; pino writes what is left synchronously
 * when the process exits, a crash included, so no line is lost to the batching.
 */
function standardOutput(): DestinationStream {
  return pino.destination({ dest: 1, sync: false });
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  for (const secret of secrets) scrubbed = scrubbed.split(secret).join("[redacted]");
  return scrubbed;
}
