import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { describeSqliteError, StoreError } from "./errors.js";
import { MIGRATIONS, migrate, readUserVersion, type Migration } from "./migrations.js";
import { DatabaseSync, type StatementSync } from "./sqlite.js";

export const DATABASE_FILE = "warden.sqlite";

/** How long a statement waits for another connection's write before failing (a second reader, a backup tool). */
const BUSY_TIMEOUT_MS = 5_000;

/**
 * Warden's one database, `dataDirectory/warden.sqlite`. Every change that touches more than one
 * row goes through `transaction`, and repositories update what they keep in memory only after
 * it returns, so memory never runs ahead of the disk.
 */
export class WardenDatabase {
  private depth = 0;
  private readonly statements = new Map<string, StatementSync>();

  private constructor(
    private readonly db: DatabaseSync,
    readonly path: string,
    /** Schema version before this open's migrations ran (0 for a new database). */
    readonly openedAtVersion: number,
  ) {}

  /**
   * Opens (creating if needed) and migrates the database. Throws a StoreError when the file
   * cannot be opened or was written by a newer Warden.
   */
  static open(dataDirectory: string, migrations: readonly Migration[] = MIGRATIONS): WardenDatabase {
    mkdirSync(dataDirectory, { recursive: true });
    const path = join(dataDirectory, DATABASE_FILE);
    try {
      // Created owner-only up front: SQLite gives its -wal and -shm files the database's mode.
      closeSync(openSync(path, "a", 0o600));
      const db = new DatabaseSync(path);
      db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.exec("PRAGMA journal_mode = WAL");
      // NORMAL in WAL mode syncs the log at each checkpoint, not at each commit: a commit costs
      // a write, not an fsync. A power cut (not a crash of Warden or a kill: those lose nothing)
      // can roll back the last transactions committed before it, never corrupt the file. The
      // worst case is a task update or a handled command id from the last moment before the cut;
      // recovery already covers both (a job is looked up on the homeserver, an old command is
      // answered, not run).
      db.exec("PRAGMA synchronous = NORMAL");
      // Stryker disable next-line StringLiteral,CallExpression: equivalent — node:sqlite (>= 22.10) already opens with foreign keys on
      db.exec("PRAGMA foreign_keys = ON");
      const migrated = migrate(db, migrations);
      return new WardenDatabase(db, path, migrated.from);
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError("the database", `${describeSqliteError(error)} (${path})`, { cause: error, verb: "open" });
    }
  }

  schemaVersion(): number {
    return readUserVersion(this.db);
  }

  /** A cached prepared statement: preparing costs more than running for Warden's small queries. */
  statement(sql: string): StatementSync {
    let prepared = this.statements.get(sql);
    if (prepared === undefined) {
      prepared = this.db.prepare(sql);
      this.statements.set(sql, prepared);
    }
    return prepared;
  }

  /**
   * Runs `work` in one transaction: all of it is stored or none. A failure is rethrown as a
   * StoreError naming `what`. Nested calls join the outer transaction.
   */
  transaction<T>(what: string, work: () => T): T {
    if (this.depth > 0) return this.run(what, work);
    try {
      this.db.exec("BEGIN IMMEDIATE");
    } catch (error) {
      throw new StoreError(what, describeSqliteError(error), { cause: error });
    }
    this.depth++;
    try {
      const result = this.run(what, work);
      this.db.exec("COMMIT");
      return result;
    } catch (error) {
      if (this.db.isOpen) {
        try {
          this.db.exec("ROLLBACK");
        } catch {
          // SQLite already rolled back (for example after SQLITE_FULL); nothing is left open.
        }
      }
      throw error instanceof StoreError ? error : new StoreError(what, describeSqliteError(error), { cause: error });
    } finally {
      this.depth--;
    }
  }

  /** Runs one statement-sized write (or read) and names it if it fails. */
  run<T>(what: string, work: () => T): T {
    try {
      return work();
    } catch (error) {
      throw error instanceof StoreError ? error : new StoreError(what, describeSqliteError(error), { cause: error });
    }
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }
}
