import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { installSqliteWarningFilter, isSqliteExperimentalWarning } from "../../../src/store/sqlite.js";

const SQLITE_WARNING = "SQLite is an experimental feature and might change at any time";

describe("the SQLite ExperimentalWarning filter", () => {
  it("recognises Node's SQLite warning in each form emitWarning accepts, and nothing else", () => {
    expect(isSqliteExperimentalWarning(SQLITE_WARNING, "ExperimentalWarning")).toBe(true);
    expect(isSqliteExperimentalWarning(SQLITE_WARNING, { type: "ExperimentalWarning" })).toBe(true);
    expect(isSqliteExperimentalWarning(Object.assign(new Error(SQLITE_WARNING), { name: "ExperimentalWarning" }), undefined)).toBe(true);
    expect(isSqliteExperimentalWarning("WASI is an experimental feature and might change at any time", "ExperimentalWarning")).toBe(false);
    expect(isSqliteExperimentalWarning(SQLITE_WARNING, "DeprecationWarning")).toBe(false);
    expect(isSqliteExperimentalWarning(SQLITE_WARNING, undefined)).toBe(false);
  });

  it("drops only that warning and passes every other one on unchanged", () => {
    const passed: unknown[][] = [];
    const target = {
      emitWarning: ((...args: unknown[]) => {
        passed.push(args);
      }) as typeof process.emitWarning,
    };
    installSqliteWarningFilter(target);
    installSqliteWarningFilter(target);

    target.emitWarning(SQLITE_WARNING, "ExperimentalWarning");
    target.emitWarning("something else", "ExperimentalWarning");
    target.emitWarning("old API", { type: "DeprecationWarning", code: "DEP0001" });

    expect(passed).toEqual([
      ["something else", "ExperimentalWarning"],
      ["old API", { type: "DeprecationWarning", code: "DEP0001" }],
    ]);
  });

  it("keeps node's own SQLite warning off stderr while other warnings still print", () => {
    // A fresh node process: the warning is printed once per process, when node:sqlite first loads.
    const script = [
      `const { DatabaseSync } = await import(${JSON.stringify(join(import.meta.dirname, "../../../src/store/sqlite.ts"))});`,
      "new DatabaseSync(':memory:').exec('SELECT 1');",
      "process.emitWarning('something else is experimental', 'ExperimentalWarning');",
      "process.emitWarning('an old API', 'DeprecationWarning');",
    ].join("\n");

    const run = spawnSync(process.execPath, ["--experimental-strip-types", "--input-type=module", "-e", script], { encoding: "utf8" });

    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain("SQLite");
    expect(run.stderr).toContain("ExperimentalWarning: something else is experimental");
    expect(run.stderr).toContain("DeprecationWarning: an old API");
  });
});
