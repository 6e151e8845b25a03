import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { asRoomAlias, asRoomId, type RoomAlias, type RoomId } from "./matrix/ids.js";
import { parseAllowlistEntry, type AllowlistEntry } from "./access/allowlist.js";
import { err, ok, type Result } from "./util/result.js";
import { CONFIRMATION_KINDS, DEFAULT_CONFIRM_BEFORE, type ConfirmationKind } from "./model/commandSpec.js";
import { parseDuration, type DurationBounds } from "./util/duration.js";
import { parseListenAddress, type ListenAddress } from "./metrics/server.js";
import { memberPattern, type RetentionAge, type RetentionExclude, type RetentionHistory, type RetentionMedia, type RetentionPolicy, type RetentionSelection } from "./model/retention.js";

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly homeserverUrl: string;
  /**
   * Where every admin request (/_synapse/admin) goes; homeserverUrl unless set. Many
   * deployments serve the admin API only on an internal listener, or route it to the main
   * process while clients go to workers. Client requests stay on homeserverUrl.
   */
  readonly adminUrl: string;
  /** Never logged or echoed; see log.ts for the redaction that backs this up. */
  readonly accessToken: string;
  readonly accessTokenSource: "accessToken" | "accessTokenFile" | "WARDEN_ACCESS_TOKEN";
  readonly managementRoom: RoomId | RoomAlias;
  readonly allowlist: readonly AllowlistEntry[];
  readonly protectedRooms: readonly (RoomId | RoomAlias)[];
  /** Users never restricted or taken down (exact IDs, or @*:server for a whole server). */
  readonly protectedUsers: readonly AllowlistEntry[];
  readonly dataDirectory: string;
  readonly commandPrefix: string;
  readonly logLevel: LogLevel;
  /** Which destructive commands show a preview and wait for the requester's confirmation. */
  readonly confirmBefore: ReadonlySet<ConfirmationKind>;
  readonly confirmWindowMs: number;
  /** How long a job may run on the homeserver before the room is warned that it looks stuck. */
  readonly stuckAfterMs: number;
  /** Where /metrics and /healthz listen; undefined: not served. */
  readonly metrics: { readonly listen: ListenAddress } | undefined;
  readonly reports: ReportsConfig;
  /** Jobs of one wave sent to the homeserver at once (Synapse runs at most five such jobs at a time). */
  readonly maxConcurrentJobs: number;
  /** How many times a wave sends a room's job again after it failed. */
  readonly waveRetries: number;
  /** The longest a shutdown's purge waits for the kicked members' clients to see that they left. */
  readonly shutdownPurgeAfterMs: number;
  /** Purge waves Warden starts by itself, on a schedule; in the config's order. */
  readonly retention: readonly RetentionPolicy[];
  /** Problems worth a log line that do not stop Warden (e.g. a token file others can read). */
  readonly warnings: readonly string[];
}

const STUCK_AFTER_BOUNDS: DurationBounds = { minMs: 60_000, maxMs: 30 * 86_400_000 };
/** As --purge-after: long enough for a client to sync, short enough to be remembered. */
const SHUTDOWN_PURGE_AFTER_BOUNDS: DurationBounds = { minMs: 60_000, maxMs: 90 * 86_400_000 };

export interface ReportsConfig {
  readonly enabled: boolean;
  readonly pollEveryMs: number;
  /** More than this many reports about one room or one sender within the window fold into a digest. */
  readonly burst: number;
  readonly burstWindowMs: number;
}

const POLL_BOUNDS: DurationBounds = { minMs: 1_000, maxMs: 3_600_000 };
const BURST_WINDOW_BOUNDS: DurationBounds = { minMs: 10_000, maxMs: 86_400_000 };

const boundedDuration = (example: string, bounds: DurationBounds) =>
  z
    .string({ error: `expected a duration such as ${example}` })
    .refine((text) => parseDuration(text, bounds) !== undefined, {
      message: `expected a duration between ${bounds.minMs / 1000}s and ${bounds.maxMs / 3_600_000}h, such as ${example}`,
    });

const roomReference = z.string({ error: "expected a room ID (!abc:example.org) or a room alias (#room:example.org)" }).refine((text) => asRoomId(text) !== undefined || asRoomAlias(text) !== undefined, {
  message: "expected a room ID (!abc:example.org) or a room alias (#room:example.org)",
});

/*
 * Retention ages and intervals go down to a minute so tests (and a trial on a test server) can
 * run a policy in minutes. On a real server a keep under a day is almost always a mistake, since
 * it purges history people are still reading on a schedule nobody watches: such a value is
 * accepted with a warning rather than refused.
 */
const RETENTION_KEEP_BOUNDS: DurationBounds = { minMs: 60_000, maxMs: Number.MAX_SAFE_INTEGER };
const RETENTION_EVERY_BOUNDS: DurationBounds = { minMs: 60_000, maxMs: 366 * 86_400_000 };
const DAY_MS = 86_400_000;
/*
 * Media ages go down to a second, for tests, with the same warning as keep under a day. At most
 * ten years: Synapse refuses a before_ts under 30,000,000,000 (it would read as seconds), and
 * now minus ten years stays far above that on any clock set after 1981.
 */
const RETENTION_MEDIA_AGE_BOUNDS: DurationBounds = { minMs: 1_000, maxMs: 3650 * DAY_MS };
const POLICY_NAME = /^[a-z0-9-]{1,40}$/;
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

const mediaAge = (example: string) =>
  z.string({ error: `expected an age such as ${example}` }).refine((text) => parseDuration(text, RETENTION_MEDIA_AGE_BOUNDS) !== undefined, {
    message: `expected an age between 1s and 3650d in s, min, h or d, such as ${example} (m alone is not accepted: write min)`,
  });

const retentionMediaSchema = z
  .strictObject(
    {
      local: mediaAge("365d").optional(),
      remote: mediaAge("30d").optional(),
      keepProfiles: z.boolean({ error: "expected true or false" }).default(true),
      sizeOver: z
        .number({ error: "expected a whole number of bytes, 0 or more, such as 0 or 10485760" })
        .int("expected a whole number of bytes, 0 or more, such as 0 or 10485760")
        .min(0, "expected a whole number of bytes, 0 or more, such as 0 or 10485760")
        .max(Number.MAX_SAFE_INTEGER, "expected a whole number of bytes, 0 or more, such as 0 or 10485760")
        .default(0),
    },
    { error: "expected a mapping such as { local: 365d, remote: 30d }" },
  )
  .refine((media) => media.local !== undefined || media.remote !== undefined, {
    message: "set local (this server's uploads), remote (the cache of other servers' files) or both, such as { local: 365d, remote: 30d }",
  });

/** The keys that choose rooms and say what a purge of them keeps: with none of them, a policy is media-only. */
const HISTORY_KEYS = ["all", "matching", "rooms", "space", "keep", "local", "exclude"] as const;

const retentionPolicySchema = z
  .strictObject({
    name: z
      .string({ error: "expected a name of lower-case letters, digits and dashes, such as old-history" })
      .regex(POLICY_NAME, "expected 1 to 40 lower-case letters, digits and dashes, such as old-history"),
    all: z.literal(true, { error: "expected true (or leave it out and choose matching, rooms or space)" }).optional(),
    matching: z.string({ error: "expected search words, such as \"spam\"" }).trim().min(1, "must not be empty").optional(),
    rooms: z.array(roomReference, { error: "expected a list of room IDs or aliases" }).min(1, "must name at least one room").optional(),
    space: roomReference.optional(),
    keep: z
      .string({ error: "expected an age such as 180d" })
      .refine((text) => parseDuration(text, RETENTION_KEEP_BOUNDS) !== undefined, {
        message: "expected an age of at least 1min in s, min, h or d, such as 180d or 36h (m alone is not accepted: write min)",
      })
      .optional(),
    // Optional rather than defaulted, so a media-only policy that sets one is told it has no rooms.
    local: z.boolean({ error: "expected true or false" }).optional(),
    every: z
      .string({ error: "expected an interval such as 1d" })
      .refine((text) => parseDuration(text, RETENTION_EVERY_BOUNDS) !== undefined, {
        message: "expected an interval between 1min and 366d in s, min, h or d, such as 1d or 6h (m alone is not accepted: write min)",
      }),
    at: z
      .string({ error: 'expected a UTC time of day in quotes, such as "03:30"' })
      .regex(TIME_OF_DAY, 'expected a UTC time of day from "00:00" to "23:59", such as "03:30"')
      .optional(),
    exclude: z
      .strictObject({
        rooms: z.array(roomReference, { error: "expected a list of room IDs or aliases" }).default([]),
        spaces: z.array(roomReference, { error: "expected a list of space IDs or aliases" }).default([]),
        dm: z.boolean({ error: "expected true or false" }).default(false),
        members: z
          .array(
            z.string({ error: "expected a pattern such as \"@whatsapp_.*\"" }).refine((pattern) => memberPattern(pattern) !== undefined, {
              message: "expected a regular expression matched against whole user IDs, such as \"@whatsapp_.*\"",
            }),
            { error: "expected a list of patterns" },
          )
          .default([]),
      })
      .optional(),
    media: retentionMediaSchema.optional(),
  })
  // Also when another key of the policy is wrong (zod skips a plain refinement then), so a
  // missing keep is named in the same pass as a missing every. It only tests which keys are set.
  .superRefine(
    (policy, context) => {
      const chosen = (["all", "matching", "rooms", "space"] as const).filter((key) => policy[key] !== undefined);
      const historyKeys = HISTORY_KEYS.filter((key) => policy[key] !== undefined);
      if (policy.media !== undefined && chosen.length === 0) {
        // Media-only (its runs delete media and start no wave), unless it sets keys only rooms use.
        for (const key of historyKeys) {
          context.addIssue({
            code: "custom",
            path: [key],
            message: "goes with a policy's rooms (one of all: true, matching, rooms or space), and this policy chooses none: choose them, or leave it out for a media-only policy",
          });
        }
        return;
      }
      if (chosen.length !== 1) {
        context.addIssue({
          code: "custom",
          path: [],
          message:
            chosen.length === 0
              ? "choose the rooms with one of all: true, matching, rooms or space (or give only media, for a media-only policy)"
              : `choose the rooms with exactly one of all, matching, rooms or space, not ${chosen.join(" and ")}`,
        });
      }
      if (policy.keep === undefined) context.addIssue({ code: "custom", path: ["keep"], message: "is required (an age such as 180d: history younger than this stays)" });
    },
    { when: (payload) => typeof payload.value === "object" && payload.value !== null },
  )
  .superRefine((policy, context) => {
    const everyMs = parseDuration(policy.every, RETENTION_EVERY_BOUNDS);
    // Aligned runs must come back to the same time of day, or `at` would hold for the first run only.
    if (policy.at !== undefined && everyMs !== undefined && everyMs % DAY_MS !== 0 && DAY_MS % everyMs !== 0) {
      context.addIssue({
        code: "custom",
        path: ["every"],
        message: `with at, expected a whole number of days or an interval that divides a day (such as 6h or 30min), so every run falls on ${policy.at} UTC or a fixed step from it`,
      });
    }
  });

const retentionSchema = z.array(retentionPolicySchema, { error: "expected a list of policies (see config.example.yaml)" }).superRefine((policies, context) => {
  const seen = new Set<string>();
  let withMedia: number | undefined;
  policies.forEach((policy, index) => {
    if (seen.has(policy.name)) context.addIssue({ code: "custom", path: [index, "name"], message: `another policy is already named ${policy.name}; names must be unique` });
    seen.add(policy.name);
    if (policy.media === undefined) return;
    // Synapse deletes media server-wide, by age only: a second policy's media would only repeat
    // the first's with another age, and the shorter age would win whatever either policy says.
    if (withMedia !== undefined) {
      const first = policies[withMedia]?.name ?? "";
      context.addIssue({
        code: "custom",
        path: [index, "media"],
        message: `only one policy may carry media, and retention[${withMedia}] (${first}) does already: media retention is server-wide, whatever rooms a policy selects`,
      });
    } else withMedia = index;
  });
});

type RawRetentionPolicy = z.infer<typeof retentionPolicySchema>;

const configSchema = z.strictObject({
  homeserverUrl: z
    .string({ error: "expected the homeserver's client URL, e.g. https://matrix.example.org" })
    .refine((text) => URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol) && !/\s/.test(text), {
      message: "expected an http(s) URL, e.g. https://matrix.example.org",
    }),
  adminUrl: z
    .string({ error: "expected the URL where Synapse's admin API answers, e.g. http://10.0.0.5:8008" })
    .refine((text) => URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol) && !/\s/.test(text), {
      message: "expected an http(s) URL, e.g. http://10.0.0.5:8008 (Synapse's internal listener)",
    })
    // Fetch refuses such a URL, and the address is logged and named in the ready message.
    .refine((text) => !URL.canParse(text) || (new URL(text).username === "" && new URL(text).password === ""), {
      message: "must not hold a user name or password: Warden authenticates with its access token",
    })
    .optional(),
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
  protectedUsers: z
    .array(
      z.string().refine((text) => parseAllowlistEntry(text) !== undefined, {
        message: "expected a full user ID (@alice:example.org) or @*:example.org for every user of a server",
      }),
      { error: "expected a list of user IDs" },
    )
    .default([]),
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
  metrics: z
    .strictObject({
      listen: z.string({ error: "expected host:port, e.g. 127.0.0.1:9464" }).refine((text) => parseListenAddress(text) !== undefined, {
        message: "expected host:port, e.g. 127.0.0.1:9464 or [::1]:9464",
      }),
    })
    .optional(),
  reports: z
    .strictObject({
      enabled: z.boolean({ error: "expected true or false" }).default(true),
      pollEvery: boundedDuration("30s", POLL_BOUNDS).default("30s"),
      burst: z.number({ error: "expected a whole number" }).int().min(1).max(1000).default(5),
      burstWindow: boundedDuration("10min", BURST_WINDOW_BOUNDS).default("10min"),
    })
    .default({ enabled: true, pollEvery: "30s", burst: 5, burstWindow: "10min" }),
  maxConcurrentJobs: z
    .number({ error: "expected a whole number from 1 to 5" })
    .int("expected a whole number from 1 to 5")
    .min(1, "expected a whole number from 1 to 5")
    // Synapse's task scheduler runs at most five jobs at once; more would only queue there.
    .max(5, "expected a whole number from 1 to 5 (Synapse runs at most five such jobs at once)")
    .default(2),
  waveRetries: z
    .number({ error: "expected a whole number from 0 to 10" })
    .int("expected a whole number from 0 to 10")
    .min(0, "expected a whole number from 0 to 10")
    .max(10, "expected a whole number from 0 to 10")
    .default(2),
  shutdownPurgeAfter: z
    .string({ error: "expected an age such as 1d, 12h or 30min" })
    .refine((text) => parseDuration(text, SHUTDOWN_PURGE_AFTER_BOUNDS) !== undefined, {
      message: "expected an age between 1min and 90d in s, min, h or d, such as 1d, 12h or 30min (m alone is not accepted: write min)",
    })
    .default("1d"),
  retention: retentionSchema.default([]),
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
  // A list written out before takedowns existed replaces the default, which asks before one.
  if ("confirmBefore" in document && !raw.confirmBefore.includes("takedown")) {
    warnings.push("confirmBefore does not list takedown: !takedown runs without a preview (add takedown to the list to be asked first)");
  }
  return ok({
    homeserverUrl: raw.homeserverUrl.replace(/\/+$/, ""),
    adminUrl: (raw.adminUrl ?? raw.homeserverUrl).replace(/\/+$/, ""),
    accessToken: token.value.token,
    accessTokenSource: token.value.source,
    managementRoom: (asRoomId(raw.managementRoom) ?? asRoomAlias(raw.managementRoom)) as RoomId | RoomAlias,
    allowlist: raw.allowlist.map((entry) => parseAllowlistEntry(entry) as AllowlistEntry),
    protectedRooms: raw.protectedRooms.map((room) => (asRoomId(room) ?? asRoomAlias(room)) as RoomId | RoomAlias),
    protectedUsers: raw.protectedUsers.map((entry) => parseAllowlistEntry(entry) as AllowlistEntry),
    dataDirectory: resolve(raw.dataDirectory),
    commandPrefix: raw.commandPrefix,
    logLevel: raw.logLevel,
    confirmBefore: new Set(raw.confirmBefore),
    confirmWindowMs: parseDuration(raw.confirmWindow) ?? 300_000,
    stuckAfterMs: parseDuration(raw.stuckAfter, STUCK_AFTER_BOUNDS) ?? 6 * 3600_000,
    metrics: raw.metrics === undefined ? undefined : { listen: parseListenAddress(raw.metrics.listen) as ListenAddress },
    reports: {
      enabled: raw.reports.enabled,
      pollEveryMs: parseDuration(raw.reports.pollEvery, POLL_BOUNDS) ?? 30_000,
      burst: raw.reports.burst,
      burstWindowMs: parseDuration(raw.reports.burstWindow, BURST_WINDOW_BOUNDS) ?? 600_000,
    },
    maxConcurrentJobs: raw.maxConcurrentJobs,
    waveRetries: raw.waveRetries,
    shutdownPurgeAfterMs: parseDuration(raw.shutdownPurgeAfter, SHUTDOWN_PURGE_AFTER_BOUNDS) ?? 86_400_000,
    retention: raw.retention.map((policy, index) => toRetentionPolicy(policy, index, warnings)),
    warnings,
  });
}

/** Only called on a validated policy: every parse below has already succeeded once. */
function toRetentionPolicy(raw: RawRetentionPolicy, index: number, warnings: string[]): RetentionPolicy {
  const history = toRetentionHistory(raw, index, warnings);
  const media = raw.media === undefined ? undefined : toRetentionMedia(raw.media, raw, index, warnings);
  return {
    name: raw.name,
    ...(history === undefined ? {} : { history }),
    ...(media === undefined ? {} : { media }),
    everyMs: parseDuration(raw.every, RETENTION_EVERY_BOUNDS) ?? DAY_MS,
    every: raw.every,
    ...(raw.at === undefined ? {} : { at: raw.at }),
  };
}

/** Undefined for a media-only policy (the schema lets only those leave keep out). */
function toRetentionHistory(raw: RawRetentionPolicy, index: number, warnings: string[]): RetentionHistory | undefined {
  if (raw.keep === undefined) return undefined;
  const keepMs = parseDuration(raw.keep, RETENTION_KEEP_BOUNDS) ?? DAY_MS;
  if (keepMs < DAY_MS) {
    warnings.push(`retention[${index}].keep: ${raw.keep} purges history younger than a day on every run of ${raw.name}; meant for tests, rarely for a real server`);
  }
  const selection: RetentionSelection =
    raw.matching !== undefined
      ? { kind: "matching", words: raw.matching }
      : raw.rooms !== undefined
        ? { kind: "rooms", rooms: raw.rooms }
        : raw.space !== undefined
          ? { kind: "space", space: raw.space }
          : { kind: "all" };
  const exclude: RetentionExclude = raw.exclude ?? { rooms: [], spaces: [], dm: false, members: [] };
  return { selection, keepMs, keep: raw.keep, local: raw.local ?? false, exclude };
}

function toRetentionMedia(raw: NonNullable<RawRetentionPolicy["media"]>, policy: RawRetentionPolicy, index: number, warnings: string[]): RetentionMedia {
  const age = (key: "local" | "remote", text: string | undefined): RetentionAge | undefined => {
    if (text === undefined) return undefined;
    const ms = parseDuration(text, RETENTION_MEDIA_AGE_BOUNDS) ?? DAY_MS;
    if (ms < DAY_MS) {
      warnings.push(`retention[${index}].media.${key}: ${text} deletes files used within the last day on every run of ${policy.name}; meant for tests, rarely for a real server`);
    }
    return { ms, text };
  };
  const local = age("local", raw.local);
  const remote = age("remote", raw.remote);
  const narrowed = policy.keep !== undefined && (policy.all !== true || policy.exclude !== undefined);
  if (narrowed) {
    // Said once at start, since nothing in the policy's room keys reaches the media deletion.
    warnings.push(
      `retention[${index}].media: media retention is server-wide: ${policy.name} deletes old media of every room and user, not only of the rooms it selects, and exclude spares none`,
    );
  }
  return { ...(local === undefined ? {} : { local }), ...(remote === undefined ? {} : { remote }), keepProfiles: raw.keepProfiles, sizeOver: raw.sizeOver };
}

/** `retention[0].exclude.members[1]`: the key as a reader finds it in the YAML. */
function keyPath(path: readonly PropertyKey[]): string {
  return path.map((part, index) => (typeof part === "number" ? `[${part}]` : `${index === 0 ? "" : "."}${String(part)}`)).join("");
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => `  ${keyPath([...issue.path, key])}: unknown key (see config.example.yaml for the keys Warden reads)`).join("\n");
  }
  const key = issue.path.length > 0 ? keyPath(issue.path) : "(top level)";
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

