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
      accessToken: TOKEN,
      accessTokenSource: "accessToken",
      managementRoom: "!mgmt:example.org",
      allowlist: [
        { kind: "user", userId: "@alice:example.org" },
        { kind: "server", serverName: "mods.example.org" },
      ],
      protectedRooms: [],
      dataDirectory: resolve(process.cwd(), "data"),
      commandPrefix: "!",
      logLevel: "info",
      confirmBefore: new Set(["shutdown", "purge-local", "redact"]),
      confirmWindowMs: 300_000,
      stuckAfterMs: 6 * 3600_000,
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

    expect(error).toContain("allowlist.1: expected a full user ID");
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
