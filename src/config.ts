import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { asRoomAlias, asRoomId, type RoomAlias, type RoomId } from "./matrix/ids.js";
import { parseAllowlistEntry, type AllowlistEntry } from "./access/allowlist.js";
import { err, ok, type Result } from "./util/result.js";
import { CONFIRMATION_KINDS, DEFAULT_CONFIRM_BEFORE, type ConfirmationKind } from "./model/commandSpec.js";
import { parseDuration } from "./util/duration.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly homeserverUrl: string;
  /** Never logged or echoed; see log.ts for the redaction that backs this up. */
  readonly accessToken: string;
  readonly accessTokenSource: "accessToken" | "accessTokenFile" | "WARDEN_ACCESS_TOKEN";
  readonly managementRoom: RoomId | RoomAlias;
  readonly allowlist: readonly AllowlistEntry[];
  readonly protectedRooms: readonly (RoomId | RoomAlias)[];
  readonly dataDirectory: string;
  readonly commandPrefix: string;
  readonly logLevel: LogLevel;
  /** Which destructive commands show a preview and wait for the requester's confirmation. */
  readonly confirmBefore: ReadonlySet<ConfirmationKind>;
  readonly confirmWindowMs: number;
  /** How long a job may run on the homeserver before the room is warned that it looks stuck. */
  readonly stuckAfterMs: number;
  /** Problems worth a log line that do not stop Warden (e.g. a token file others can read). */
  readonly warnings: readonly string[];
}

const STUCK_AFTER_BOUNDS = { minMs: 60_000, maxMs: 30 * 86_400_000 };

const roomReference = z.string().refine((text) => asRoomId(text) !== undefined || asRoomAlias(text) !== undefined, {
  message: "expected a room ID (!abc:example.org) or a room alias (#room:example.org)",
});

const configSchema = z.strictObject({
  homeserverUrl: z
    .string({ error: "expected the homeserver's client URL, e.g. https://matrix.example.org" })
    .refine((text) => URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol) && !/\s/.test(text), {
      message: "expected an http(s) URL, e.g. https://matrix.example.org",
    }),
  accessToken: z.string().min(1, "must not be empty").optional(),
  accessTokenFile: z.string().min(1, "must not be empty").optional(),
  managementRoom: roomReference,
  allowlist: z
    .array(
      z.string().refine((text) => parseAllowlistEntry(text) !== undefined, {
        message: "expected a full user ID (@alice:example.org) or @*:example.org for every user of a server",
      }),
      { error: "expected a list of user IDs" },
    )
    .min(1, "must name at least one moderator"),
  protectedRooms: z.array(roomReference).default([]),
  dataDirectory: z.string().min(1).default("./data"),
  commandPrefix: z
    .string()
    .min(1, "must not be empty")
    .max(16, "must be at most 16 characters")
    .refine((text) => !/\s/.test(text), { message: "must not contain white space" })
    .default("!"),
  logLevel: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(", ")}` }).default("info"),
  confirmBefore: z
    .array(z.enum(CONFIRMATION_KINDS, { error: `expected each of ${CONFIRMATION_KINDS.join(", ")}` }))
    .default([...DEFAULT_CONFIRM_BEFORE]),
  confirmWindow: z
    .string({ error: "expected a duration such as 5min, 90s or 1h" })
    .refine((text) => parseDuration(text) !== undefined, {
      message: "expected a duration between 10s and 24h in s, min or h, such as 5min, 90s or 1h (m alone is not accepted: write min)",
    })
    .default("5min"),
  stuckAfter: z
    .string({ error: "expected a duration such as 6h, 90min or 2d" })
    .refine((text) => parseDuration(text, STUCK_AFTER_BOUNDS) !== undefined, {
      message: "expected a duration between 1min and 30d, such as 6h, 90min or 2d",
    })
    .default("6h"),
});

/** Reads, validates and types the YAML config. Every message names the key and the expected form. */
export function loadConfig(path: string, environment: NodeJS.ProcessEnv = process.env): Result<Config, string> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return err(`cannot read config file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    return err(`config file ${path} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  return parseConfig(document, path, environment);
}

export function parseConfig(document: unknown, path: string, environment: NodeJS.ProcessEnv): Result<Config, string> {
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    return err(`config file ${path} must be a YAML mapping of keys (see config.example.yaml)`);
  }
  // reportInput: without it every issue looks like a missing key ("is required").
  const parsed = configSchema.safeParse(document, { reportInput: true });
  if (!parsed.success) {
    return err(`config file ${path} is invalid:\n${parsed.error.issues.map(describeIssue).join("\n")}`);
  }
  const raw = parsed.data;
  const warnings: string[] = [];
  const token = resolveAccessToken(raw.accessToken, raw.accessTokenFile, environment, warnings);
  if (!token.ok) return err(`config file ${path} is invalid:\n  ${token.error}`);
  return ok({
    homeserverUrl: raw.homeserverUrl.replace(/\/+$/, ""),
    accessToken: token.value.token,
    accessTokenSource: token.value.source,
    managementRoom: (asRoomId(raw.managementRoom) ?? asRoomAlias(raw.managementRoom)) as RoomId | RoomAlias,
    allowlist: raw.allowlist.map((entry) => parseAllowlistEntry(entry) as AllowlistEntry),
    protectedRooms: raw.protectedRooms.map((room) => (asRoomId(room) ?? asRoomAlias(room)) as RoomId | RoomAlias),
    dataDirectory: resolve(raw.dataDirectory),
    commandPrefix: raw.commandPrefix,
    logLevel: raw.logLevel,
    confirmBefore: new Set(raw.confirmBefore),
    confirmWindowMs: parseDuration(raw.confirmWindow) ?? 300_000,
    stuckAfterMs: parseDuration(raw.stuckAfter, STUCK_AFTER_BOUNDS) ?? 6 * 3600_000,
    warnings,
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `  ${key}: unknown key (see config.example.yaml for the keys Warden reads)`).join("\n");
  }
  const key = issue.path.length > 0 ? issue.path.map(String).join(".") : "(top level)";
  const message = issue.code === "invalid_type" && issue.input === undefined ? "is required" : issue.message;
  return `  ${key}: ${message}`;
}

function resolveAccessToken(
  inline: string | undefined,
  file: string | undefined,
  environment: NodeJS.ProcessEnv,
  warnings: string[],
): Result<{ token: string; source: Config["accessTokenSource"] }, string> {
  const fromEnvironment = environment["WARDEN_ACCESS_TOKEN"];
  if (inline !== undefined && file !== undefined) {
    return err("accessToken, accessTokenFile: set one of them, not both");
  }
  // The environment wins so a container can inject the secret without editing the mounted file.
  if (fromEnvironment !== undefined && fromEnvironment.trim() !== "") {
    return ok({ token: fromEnvironment.trim(), source: "WARDEN_ACCESS_TOKEN" });
  }
  if (inline !== undefined) return ok({ token: inline.trim(), source: "accessToken" });
  if (file !== undefined) {
    let token: string;
    try {
      token = readFileSync(file, "utf8").trim();
    } catch (error) {
      return err(`accessTokenFile: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    }
    if (token === "") return err(`accessTokenFile: ${file} is empty; it must hold the bot's access token`);
    if ((statSync(file).mode & 0o077) !== 0) {
      warnings.push(`accessTokenFile ${file} can be read by other users; run: chmod 600 ${file}`);
    }
    return ok({ token, source: "accessTokenFile" });
  }
  return err("accessToken: is required (or set accessTokenFile, or the environment variable WARDEN_ACCESS_TOKEN)");
}

