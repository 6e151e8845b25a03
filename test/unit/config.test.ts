import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig, parseConfig, type Config } from "../../src/config.js";

const PATH = "warden.yaml";
const TOKEN = "syt_config_test_token_value";

const VALID = {
  homeserverUrl: "https://matrix.example.org/",
  accessToken: TOKEN,
  managementRoom: "!mgmt:example.org",
  allowlist: ["@alice:example.org", "@*:mods.example.org"],
} as const;

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), "warden-config-"));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

function accepted(document: unknown, environment: NodeJS.ProcessEnv = {}): Config {
  const result = parseConfig(document, PATH, environment);
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.error}`);
  return result.value;
}

function rejected(document: unknown, environment: NodeJS.ProcessEnv = {}): string {
  const result = parseConfig(document, PATH, environment);
  if (result.ok) throw new Error("expected the config to be rejected");
  return result.error;
}

function without(key: keyof typeof VALID): Record<string, unknown> {
  return Object.fromEntries(Object.entries(VALID).filter(([name]) => name !== key));
}

describe("parseConfig", () => {
  it("accepts a valid config and fills in the defaults", () => {
    const config = accepted(VALID);

    expect(config).toEqual({
      homeserverUrl: "https://matrix.example.org",
      adminUrl: "https://matrix.example.org",
      accessToken: TOKEN,
      accessTokenSource: "accessToken",
      managementRoom: "!mgmt:example.org",
      allowlist: [
        { kind: "user", userId: "@alice:example.org" },
        { kind: "server", serverName: "mods.example.org" },
      ],
      protectedRooms: [],
      protectedUsers: [],
      dataDirectory: resolve(process.cwd(), "data"),
      commandPrefix: "!",
      logLevel: "info",
      confirmBefore: new Set(["shutdown", "purge-local", "redact", "extremities", "quarantine", "takedown"]),
      confirmWindowMs: 300_000,
      stuckAfterMs: 6 * 3600_000,
      metrics: undefined,
      reports: { enabled: true, pollEveryMs: 30_000, burst: 5, burstWindowMs: 600_000 },
      maxConcurrentJobs: 2,
      waveRetries: 2,
      shutdownPurgeAfterMs: 86_400_000,
      retention: [],
      warnings: [],
    });
    expect(isAbsolute(config.dataDirectory)).toBe(true);
  });

  it("resolves a relative dataDirectory to an absolute path and keeps explicit settings", () => {
    const config = accepted({ ...VALID, dataDirectory: "state/warden", commandPrefix: "?w", logLevel: "debug", protectedRooms: ["#lobby:example.org"] });

    expect(config.dataDirectory).toBe(resolve(process.cwd(), "state/warden"));
    expect(config.commandPrefix).toBe("?w");
    expect(config.logLevel).toBe("debug");
    expect(config.protectedRooms).toEqual(["#lobby:example.org"]);
  });

  it("reads protectedUsers as exact IDs and whole servers, and names a bad entry", () => {
    const config = accepted({ ...VALID, protectedUsers: ["@ceo:example.org", "@*:staff.example.org"] });
    expect(config.protectedUsers).toEqual([
      { kind: "user", userId: "@ceo:example.org" },
      { kind: "server", serverName: "staff.example.org" },
    ]);
    expect(rejected({ ...VALID, protectedUsers: ["ceo"] })).toMatch(/protectedUsers.*0.*full user ID/s);
  });

  it.each(["homeserverUrl", "managementRoom", "allowlist"] as const)("names the missing required key %s", (key) => {
    const error = rejected(without(key));

    expect(error).toContain(PATH);
    expect(error).toContain(`${key}: is required`);
  });

  it("names a missing access token and the other ways to give one", () => {
    const error = rejected(without("accessToken"));

    expect(error).toContain("accessToken: is required");
    expect(error).toContain("accessTokenFile");
    expect(error).toContain("WARDEN_ACCESS_TOKEN");
  });

  it("names every missing key at once", () => {
    const error = rejected({ accessToken: TOKEN });

    expect(error).toContain("homeserverUrl: is required");
    expect(error).toContain("managementRoom: is required");
    expect(error).toContain("allowlist: is required");
  });

  it.each([
    ["90s", 90_000],
    ["5min", 300_000],
    ["5 min", 300_000],
    ["1h", 3_600_000],
  ])("reads confirmWindow %j", (window, milliseconds) => {
    expect(accepted({ ...VALID, confirmWindow: window }).confirmWindowMs).toBe(milliseconds);
  });

  // The same units as a purge's age: m alone could be minutes or months, so it is refused.
  it.each(["5m", "5mins", "1hour", "5min later", "9s", "25h"])("refuses confirmWindow %j and names the units", (window) => {
    const error = rejected({ ...VALID, confirmWindow: window });
    expect(error).toContain("confirmWindow:");
    expect(error).toContain("s, min or h");
  });

  it("accepts purge (a purge without --local) in confirmBefore", () => {
    expect(accepted({ ...VALID, confirmBefore: ["purge", "purge-local"] }).confirmBefore).toEqual(new Set(["purge", "purge-local"]));
  });

  it("warns when an explicit confirmBefore leaves takedowns without a preview, and not otherwise", () => {
    expect(accepted({ ...VALID, confirmBefore: ["shutdown"] }).warnings).toEqual([
      "confirmBefore does not list takedown: !takedown runs without a preview (add takedown to the list to be asked first)",
    ]);
    expect(accepted({ ...VALID, confirmBefore: ["shutdown", "takedown"] }).warnings).toEqual([]);
    expect(accepted(VALID).warnings).toEqual([]);
  });

  it("names the kinds confirmBefore accepts", () => {
    expect(rejected({ ...VALID, confirmBefore: ["everything"] })).toContain("shutdown, purge, purge-local, redact");
  });

  it.each([
    ["90min", 90 * 60_000],
    ["2d", 2 * 86_400_000],
    ["30d", 30 * 86_400_000],
  ])("reads stuckAfter %s, beyond the 24 h other durations stop at", (text, milliseconds) => {
    expect(accepted({ ...VALID, stuckAfter: text }).stuckAfterMs).toBe(milliseconds);
  });

  it.each(["31d", "30s", "soon", "6"])("rejects stuckAfter %j, naming the key and the range", (text) => {
    expect(rejected({ ...VALID, stuckAfter: text })).toContain("stuckAfter: expected a duration between 1min and 30d");
  });

  it("names an unknown key", () => {
    const error = rejected({ ...VALID, homserverUrl: "https://typo.example.org" });

    expect(error).toContain("homserverUrl: unknown key");
  });

  it.each(["matrix.example.org", "ftp://matrix.example.org", "https://", "https://matrix example.org"])(
    "rejects the homeserverUrl %j, naming the key",
    (url) => {
      const error = rejected({ ...VALID, homeserverUrl: url });

      expect(error).toMatch(/homeserverUrl: expected an http\(s\) URL/);
    },
  );

  it("a homeserverUrl of the wrong type is described, not called missing", () => {
    const error = rejected({ ...VALID, homeserverUrl: 443 });

    expect(error).toContain("homeserverUrl:");
    expect(error).not.toContain("homeserverUrl: is required");
  });

  it("an allowlist that is a single string instead of a list is described, not called missing", () => {
    const error = rejected({ ...VALID, allowlist: "@alice:example.org" });

    expect(error).toContain("allowlist: expected a list of user IDs");
  });

  it.each(["alice", "@alice", "alice:example.org", " @alice:example.org", "@*"])("names the bad allowlist entry %j by position", (entry) => {
    const error = rejected({ ...VALID, allowlist: ["@ok:example.org", entry] });

    expect(error).toContain("allowlist[1]: expected a full user ID");
  });

  it("rejects an empty allowlist", () => {
    expect(rejected({ ...VALID, allowlist: [] })).toContain("allowlist: must name at least one moderator");
  });

  it.each(["general", "mgmt:example.org", "@mgmt:example.org"])("names the bad managementRoom %j", (room) => {
    const error = rejected({ ...VALID, managementRoom: room });

    expect(error).toContain("managementRoom: expected a room ID");
  });

  it("accepts a room alias as managementRoom", () => {
    expect(accepted({ ...VALID, managementRoom: "#mods:example.org" }).managementRoom).toBe("#mods:example.org");
  });

  it("rejects accessToken and accessTokenFile together", () => {
    const error = rejected({ ...VALID, accessTokenFile: join(directory, "token") });

    expect(error).toContain("accessToken, accessTokenFile: set one of them, not both");
  });

  it("takes the token from WARDEN_ACCESS_TOKEN, trimmed", () => {
    const config = accepted(without("accessToken"), { WARDEN_ACCESS_TOKEN: "  syt_from_environment\n" });

    expect(config.accessToken).toBe("syt_from_environment");
    expect(config.accessTokenSource).toBe("WARDEN_ACCESS_TOKEN");
  });

  it("prefers WARDEN_ACCESS_TOKEN to a token in the file", () => {
    const config = accepted(VALID, { WARDEN_ACCESS_TOKEN: "syt_from_environment" });

    expect(config.accessToken).toBe("syt_from_environment");
    expect(config.accessTokenSource).toBe("WARDEN_ACCESS_TOKEN");
  });

  it("ignores a blank WARDEN_ACCESS_TOKEN", () => {
    expect(accepted(VALID, { WARDEN_ACCESS_TOKEN: "  " }).accessTokenSource).toBe("accessToken");
  });

  it("reads accessTokenFile (trimmed) without a warning when only its owner can read it", () => {
    const file = join(directory, "token");
    writeFileSync(file, `${TOKEN}\n`);
    chmodSync(file, 0o600);

    const config = accepted({ ...without("accessToken"), accessTokenFile: file });

    expect(config.accessToken).toBe(TOKEN);
    expect(config.accessTokenSource).toBe("accessTokenFile");
    expect(config.warnings).toEqual([]);
  });

  it("warns when accessTokenFile is readable by others (mode 0644)", () => {
    const file = join(directory, "token");
    writeFileSync(file, TOKEN);
    chmodSync(file, 0o644);

    const config = accepted({ ...without("accessToken"), accessTokenFile: file });

    expect(config.accessToken).toBe(TOKEN);
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toContain(file);
    expect(config.warnings[0]).toContain("chmod 600");
    expect(config.warnings.join("\n")).not.toContain(TOKEN);
  });

  it("names an accessTokenFile that cannot be read", () => {
    const file = join(directory, "absent");

    const error = rejected({ ...without("accessToken"), accessTokenFile: file });

    expect(error).toContain(`accessTokenFile: cannot read ${file}: ENOENT`);
  });

  it("rejects an empty accessTokenFile", () => {
    const file = join(directory, "token");
    writeFileSync(file, "\n");
    chmodSync(file, 0o600);

    expect(rejected({ ...without("accessToken"), accessTokenFile: file })).toContain("is empty");
  });

  it("never puts the token into an error message", () => {
    const error = rejected({ ...VALID, managementRoom: "general", logLevel: "loud" });

    expect(error).toContain("logLevel: expected one of fatal, error, warn, info, debug, trace");
    expect(error).not.toContain(TOKEN);
  });

  it.each([[null], [[]], ["just text"], [42]])("rejects a document that is not a mapping: %j", (document) => {
    expect(rejected(document)).toContain("must be a YAML mapping");
  });
});

describe("wave settings", () => {
  it("reads maxConcurrentJobs and waveRetries within their bounds", () => {
    const config = accepted({ ...VALID, maxConcurrentJobs: 5, waveRetries: 0 });

    expect(config.maxConcurrentJobs).toBe(5);
    expect(config.waveRetries).toBe(0);
  });

  it.each([0, 6, 2.5, "2"])("rejects maxConcurrentJobs %j, naming the key and Synapse's five", (value) => {
    expect(rejected({ ...VALID, maxConcurrentJobs: value })).toContain("maxConcurrentJobs: expected a whole number from 1 to 5");
  });

  it.each([-1, 11, 1.5, "two"])("rejects waveRetries %j, naming the key", (value) => {
    expect(rejected({ ...VALID, waveRetries: value })).toContain("waveRetries: expected a whole number from 0 to 10");
  });
});

const POLICY = { name: "old-history", all: true, keep: "180d", every: "1d" } as const;

function withPolicies(...policies: readonly Record<string, unknown>[]): Record<string, unknown> {
  return { ...VALID, retention: policies };
}

describe("retention", () => {
  it("maps a minimal policy, with local false and nothing excluded", () => {
    expect(accepted(withPolicies(POLICY)).retention).toEqual([
      {
        name: "old-history",
        history: { selection: { kind: "all" }, keepMs: 180 * 86_400_000, keep: "180d", local: false, exclude: { rooms: [], spaces: [], dm: false, members: [] } },
        everyMs: 86_400_000,
        every: "1d",
      },
    ]);
  });

  it("maps every selection and a full exclude", () => {
    const exclude = { rooms: ["!keep:example.org"], spaces: ["#family:example.org"], dm: true, members: ["@whatsapp_.*", "@signal_[0-9]+:example.org"] };
    const config = accepted(
      withPolicies(
        { name: "spam", matching: " spam ", keep: "36h", every: "6h", at: "03:30", local: true, exclude },
        { name: "listed", rooms: ["!a:example.org", "#b:example.org"], keep: "30d", every: "7d", at: "00:00" },
        { name: "space-1", space: "#space:example.org", keep: "90d", every: "1h" },
      ),
    );

    expect(config.retention.map((policy) => policy.history?.selection)).toEqual([
      { kind: "matching", words: "spam" },
      { kind: "rooms", rooms: ["!a:example.org", "#b:example.org"] },
      { kind: "space", space: "#space:example.org" },
    ]);
    expect(config.retention[0]).toMatchObject({ history: { local: true, keepMs: 36 * 3_600_000, exclude }, at: "03:30", everyMs: 6 * 3_600_000 });
    expect(config.retention[1]?.at).toBe("00:00");
    expect(config.retention[2]?.at).toBeUndefined();
    expect(config.warnings).toEqual([]);
  });

  it("accepts a keep under a day (for tests) with a warning naming the key", () => {
    const config = accepted(withPolicies({ ...POLICY, keep: "5min", every: "1min" }));

    expect(config.retention[0]?.history?.keepMs).toBe(300_000);
    expect(config.warnings).toEqual([expect.stringContaining("retention[0].keep: 5min")]);
  });

  it("names an unknown key by its place in the list", () => {
    expect(rejected(withPolicies(POLICY, { ...POLICY, name: "second", keeep: "1d" }))).toContain("retention[1].keeep: unknown key");
    expect(rejected(withPolicies({ ...POLICY, exclude: { dms: true } }))).toContain("retention[0].exclude.dms: unknown key");
  });

  it.each([
    [{ keep: "6m" }, "retention[0].keep: expected an age of at least 1min"],
    [{ keep: "30s" }, "retention[0].keep: expected an age of at least 1min"],
    [{ keep: "180 days" }, "retention[0].keep:"],
    [{ keep: 180 }, "retention[0].keep: expected an age such as 180d"],
    [{ every: "1m" }, "retention[0].every: expected an interval between 1min and 366d"],
    [{ every: "400d" }, "retention[0].every: expected an interval between 1min and 366d"],
    [{ at: "24:00" }, 'retention[0].at: expected a UTC time of day from "00:00" to "23:59"'],
    [{ at: "3:30" }, "retention[0].at: expected a UTC time of day"],
    [{ at: 330 }, 'retention[0].at: expected a UTC time of day in quotes, such as "03:30"'],
    [{ at: "03:30", every: "5h" }, "retention[0].every: with at, expected a whole number of days or an interval that divides a day"],
    [{ at: "03:30", every: "36h" }, "retention[0].every: with at, expected"],
    [{ local: "yes" }, "retention[0].local: expected true or false"],
    [{ name: "Old History" }, "retention[0].name: expected 1 to 40 lower-case letters, digits and dashes"],
    [{ all: false }, "retention[0].all: expected true"],
    [{ all: undefined }, "retention[0]: choose the rooms with one of all: true, matching, rooms or space"],
    [{ space: "#space:example.org" }, "retention[0]: choose the rooms with exactly one of all, matching, rooms or space, not all and space"],
    [{ all: undefined, rooms: [] }, "retention[0].rooms: must name at least one room"],
    [{ all: undefined, rooms: ["lobby"] }, "retention[0].rooms[0]: expected a room ID"],
    [{ all: undefined, matching: "  " }, "retention[0].matching: must not be empty"],
    [{ exclude: { members: ["@bridge_(.*"] } }, "retention[0].exclude.members[0]: expected a regular expression"],
    [{ exclude: { spaces: ["space"] } }, "retention[0].exclude.spaces[0]: expected a room ID"],
    [{ exclude: { dm: "yes" } }, "retention[0].exclude.dm: expected true or false"],
  ])("rejects %j, naming the key", (change, message) => {
    expect(rejected(withPolicies({ ...POLICY, ...change }))).toContain(message);
  });

  it("names a missing keep and every", () => {
    const error = rejected(withPolicies({ name: "bare", all: true }));

    expect(error).toContain("retention[0].keep: is required");
    expect(error).toContain("retention[0].every: is required");
  });

  it("refuses two policies with the same name, naming the second", () => {
    expect(rejected(withPolicies(POLICY, { ...POLICY, keep: "30d" }))).toContain("retention[1].name: another policy is already named old-history");
  });

  describe("media", () => {
    const MEDIA_ONLY = { name: "media", every: "1d", media: { local: "365d", remote: "30d" } };

    it("maps a policy's media, keeping profile pictures and every size unless told otherwise", () => {
      const config = accepted(withPolicies({ ...POLICY, media: { local: "365d", remote: "30d" } }));

      expect(config.retention[0]?.media).toEqual({ local: { ms: 365 * 86_400_000, text: "365d" }, remote: { ms: 30 * 86_400_000, text: "30d" }, keepProfiles: true, sizeOver: 0 });
      expect(config.retention[0]?.history?.keep).toBe("180d");
      expect(config.warnings).toEqual([]);
    });

    it("maps a media-only policy: no rooms, no keep, no history", () => {
      const config = accepted(withPolicies({ ...MEDIA_ONLY, media: { local: "90d", keepProfiles: false, sizeOver: 1048576 } }));

      expect(config.retention[0]).toEqual({
        name: "media",
        media: { local: { ms: 90 * 86_400_000, text: "90d" }, keepProfiles: false, sizeOver: 1048576 },
        everyMs: 86_400_000,
        every: "1d",
      });
    });

    it("accepts ages down to a second (for tests) with a warning naming the key", () => {
      const config = accepted(withPolicies({ ...MEDIA_ONLY, media: { local: "2s", remote: "30d" } }));

      expect(config.retention[0]?.media?.local?.ms).toBe(2_000);
      expect(config.warnings).toEqual([expect.stringContaining("retention[0].media.local: 2s deletes files used within the last day")]);
    });

    it("warns that media is server-wide when the policy's rooms are fewer than all", () => {
      const matching = accepted(withPolicies({ ...POLICY, all: undefined, matching: "spam", media: { remote: "30d" } }));
      const excluding = accepted(withPolicies({ ...POLICY, exclude: { dm: true }, media: { remote: "30d" } }));

      for (const config of [matching, excluding]) expect(config.warnings).toEqual([expect.stringContaining("retention[0].media: media retention is server-wide")]);
    });

    it.each([
      [{ local: "1y" }, "retention[0].media.local: expected an age between 1s and 3650d in s, min, h or d, such as 365d"],
      [{ local: "3651d" }, "retention[0].media.local: expected an age between 1s and 3650d"],
      [{ remote: "0s" }, "retention[0].media.remote: expected an age between 1s and 3650d in s, min, h or d, such as 30d"],
      [{ remote: 30 }, "retention[0].media.remote: expected an age such as 30d"],
      [{ local: "365d", sizeOver: -1 }, "retention[0].media.sizeOver: expected a whole number of bytes, 0 or more"],
      [{ local: "365d", sizeOver: 1.5 }, "retention[0].media.sizeOver: expected a whole number of bytes, 0 or more"],
      [{ local: "365d", sizeOver: "1MB" }, "retention[0].media.sizeOver: expected a whole number of bytes, 0 or more"],
      [{ local: "365d", keepProfiles: "yes" }, "retention[0].media.keepProfiles: expected true or false"],
      [{ local: "365d", size: 1 }, "retention[0].media.size: unknown key"],
      [{ keepProfiles: true }, "retention[0].media: set local (this server's uploads), remote (the cache of other servers' files) or both"],
      ["365d", "retention[0].media: expected a mapping such as { local: 365d, remote: 30d }"],
    ])("rejects media %j, naming the key and the form", (media, message) => {
      expect(rejected(withPolicies({ ...MEDIA_ONLY, media }))).toContain(message);
    });

    it.each([
      [{ keep: "180d" }, "retention[0].keep: goes with a policy's rooms (one of all: true, matching, rooms or space), and this policy chooses none"],
      [{ local: true }, "retention[0].local: goes with a policy's rooms"],
      [{ exclude: { dm: true } }, "retention[0].exclude: goes with a policy's rooms"],
      [{ all: true }, "retention[0].keep: is required"],
    ])("refuses a media-only policy with %j, naming the key", (change, message) => {
      expect(rejected(withPolicies({ ...MEDIA_ONLY, ...change }))).toContain(message);
    });

    it("still asks a policy without media for its rooms and keep", () => {
      const error = rejected(withPolicies({ name: "bare", every: "1d" }));

      expect(error).toContain("retention[0]: choose the rooms with one of all: true, matching, rooms or space (or give only media, for a media-only policy)");
      expect(error).toContain("retention[0].keep: is required");
    });

    it("refuses a second policy with media, naming it and the first", () => {
      expect(rejected(withPolicies({ ...POLICY, media: { local: "365d" } }, { ...MEDIA_ONLY, media: { remote: "30d" } }))).toContain(
        "retention[1].media: only one policy may carry media, and retention[0] (old-history) does already: media retention is server-wide, whatever rooms a policy selects",
      );
    });
  });

  it("refuses a retention that is not a list", () => {
    expect(rejected({ ...VALID, retention: POLICY })).toContain("retention: expected a list of policies");
  });
});

describe("loadConfig", () => {
  it("reads and validates a YAML file", () => {
    const path = join(directory, "config.yaml");
    writeFileSync(
      path,
      [
        "homeserverUrl: https://matrix.example.org",
        `accessToken: ${TOKEN}`,
        'managementRoom: "!mgmt:example.org"',
        "allowlist:",
        '  - "@alice:example.org"',
        "commandPrefix: '!w'",
      ].join("\n"),
    );

    const result = loadConfig(path, {});

    expect(result).toMatchObject({ ok: true, value: { homeserverUrl: "https://matrix.example.org", commandPrefix: "!w" } });
  });

  it("names a config file that cannot be read", () => {
    const path = join(directory, "absent.yaml");

    expect(loadConfig(path, {})).toEqual({ ok: false, error: `cannot read config file ${path}: ENOENT` });
  });

  it("reports YAML that does not parse", () => {
    const path = join(directory, "config.yaml");
    writeFileSync(path, "homeserverUrl: [unclosed\n");

    const result = loadConfig(path, {});

    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error).toContain("is not valid YAML");
  });
});
