import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config.js";
import { describe, expect, it } from "vitest";
import { usageLine } from "../../src/model/commandSpec.js";
import { commandFakes } from "../fakes/commandDependencies.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const example = readFileSync(new URL("../../config.example.yaml", import.meta.url), "utf8");

describe("the README stays in step with the code", () => {
  it("lists every command of the table with its exact usage line", () => {
    const { table } = commandFakes();
    for (const command of table) expect(readme).toContain(`\`${usageLine(command, "!")}\``);
  });

  it("documents every config key in the README and in config.example.yaml", () => {
    const keys = ["homeserverUrl", "adminUrl", "accessToken", "accessTokenFile", "managementRoom", "allowlist", "protectedRooms", "protectedUsers", "dataDirectory", "commandPrefix", "logLevel", "confirmBefore", "confirmWindow", "stuckAfter", "reports", "metrics", "maxConcurrentJobs", "waveRetries", "retention"];
    for (const key of keys) {
      expect(readme).toContain(`\`${key}\``);
      expect(example).toContain(key);
    }
    expect(example).toContain("WARDEN_ACCESS_TOKEN");
  });

  it("ships a config.example.yaml that Warden accepts as it is", () => {
    const path = fileURLToPath(new URL("../../config.example.yaml", import.meta.url));
    const loaded = loadConfig(path, { WARDEN_ACCESS_TOKEN: "token-from-the-environment" });
    expect(loaded.ok ? loaded.value.allowlist.length : loaded.error).toBe(2);
  });
});
