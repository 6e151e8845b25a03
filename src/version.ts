import { readFileSync } from "node:fs";

/** Warden's version from package.json (two levels above dist/src/). */
export function wardenVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && "version" in parsed && typeof parsed.version === "string") return parsed.version;
  } catch {
    // Fall through: a missing version must not stop the bot.
  }
  return "unknown";
}
