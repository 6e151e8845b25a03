import { afterEach, describe, expect, it } from "vitest";
import { installSqliteWarningFilter } from "../../../src/store/sqlite.js";

const SQLITE_WARNING = "SQLite is an experimental feature and might change at any time";

describe("the SQLite ExperimentalWarning filter, in this process", () => {
  const listeners: ((warning: Error) => void)[] = [];
  afterEach(() => {
    for (const listener of listeners.splice(0)) process.off("warning", listener);
  });

  it("is installed on process.emitWarning as soon as the module is loaded", async () => {
    const seen: string[] = [];
    const listener = (warning: Error): void => {
      seen.push(warning.message);
    };
    listeners.push(listener);
    process.on("warning", listener);

    process.emitWarning(SQLITE_WARNING, "ExperimentalWarning");
    process.emitWarning("another experiment", "ExperimentalWarning");
    await new Promise((resolve) => setImmediate(resolve));

    expect(seen).toEqual(["another experiment"]);
  });

  it("is installed once: installing it again leaves emitWarning as it is", () => {
    const target = { emitWarning: ((): void => undefined) as typeof process.emitWarning };
    installSqliteWarningFilter(target);
    const installed = target.emitWarning;

    installSqliteWarningFilter(target);

    expect(target.emitWarning).toBe(installed);
  });
});
