/**
 * The one place that loads `node:sqlite`. Node 22 prints an ExperimentalWarning the first time
 * the module is loaded; operators would read it as a fault, so that one warning is dropped and
 * every other warning still reaches stderr. ESM hoists static imports above any code, so the
 * module is loaded with `require` after the filter is in place, not with `import`.
 */
import { createRequire } from "node:module";
import type * as Sqlite from "node:sqlite";

type EmitWarning = typeof process.emitWarning;

/** True for Node's "SQLite is an experimental feature" warning and nothing else. */
export function isSqliteExperimentalWarning(warning: unknown, typeOrOptions: unknown): boolean {
  const type =
    typeof typeOrOptions === "string"
      ? typeOrOptions
      : typeOrOptions !== null && typeof typeOrOptions === "object" && "type" in typeOrOptions
        ? typeOrOptions.type
        : warning instanceof Error
          ? warning.name
          : undefined;
  const text = warning instanceof Error ? warning.message : typeof warning === "string" ? warning : "";
  return type === "ExperimentalWarning" && text.startsWith("SQLite is an experimental feature");
}

/** Wraps `emitWarning` of the given process so the SQLite warning is dropped. Idempotent. */
export function installSqliteWarningFilter(target: { emitWarning: EmitWarning } = process): void {
  const current = target.emitWarning as EmitWarning & { sqliteFiltered?: true };
  if (current.sqliteFiltered === true) return;
  const filtered = function (this: unknown, warning: string | Error, ...rest: unknown[]): void {
    if (isSqliteExperimentalWarning(warning, rest[0])) return;
    (current as (warning: string | Error, ...rest: unknown[]) => void).call(target, warning, ...rest);
  };
  target.emitWarning = Object.assign(filtered, { sqliteFiltered: true as const });
}

installSqliteWarningFilter();
const sqlite = createRequire(import.meta.url)("node:sqlite") as typeof Sqlite;

export const DatabaseSync = sqlite.DatabaseSync;
export type DatabaseSync = Sqlite.DatabaseSync;
export type StatementSync = Sqlite.StatementSync;
export type SQLInputValue = Sqlite.SQLInputValue;
