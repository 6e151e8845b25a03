/** SQLite's primary result codes that a moderator can act on, in words. */
const REASONS: ReadonlyMap<number, string> = new Map([
  [5, "the database is locked by another program"],
  [8, "the database is read-only (check the data directory's permissions and mount)"],
  [10, "a disk input/output error"],
  [11, "the database file is damaged"],
  [13, "the disk is full"],
  [14, "the database file cannot be opened"],
  [26, "the file is not a Warden database"],
]);

/**
 * A write to the database failed and was rolled back: nothing of it is stored. The message
 * ("could not record task p-3f9a2c: the disk is full") is fit for the moderator and the log.
 */
export class StoreError extends Error {
  override readonly name = "StoreError";

  constructor(
    readonly what: string,
    readonly reason: string,
    options?: { cause?: unknown; afterwards?: string },
  ) {
    super(`could not record ${what}: ${reason}`, options);
    this.afterwards = options?.afterwards;
  }

  /** What still holds despite the failure, told to the moderator with it (set by the caller that knows). */
  readonly afterwards: string | undefined;

  /** The same failure, with what still holds. */
  withAfterwards(afterwards: string): StoreError {
    return new StoreError(this.what, this.reason, { cause: this.cause, afterwards });
  }
}

/** The human reason for a failure thrown by node:sqlite (or anything else). */
export function describeSqliteError(error: unknown): string {
  if (error instanceof StoreError) return error.reason;
  if (error !== null && typeof error === "object" && "errcode" in error && typeof error.errcode === "number") {
    // Extended result codes carry the primary code in their low byte.
    const known = REASONS.get(error.errcode & 0xff);
    const text = "errstr" in error && typeof error.errstr === "string" ? error.errstr : "unknown error";
    return known === undefined ? `SQLite error ${error.errcode} (${text})` : known;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs synchronous database work now and hands its result over as a promise, so callers that
 * await a write see a failure as a rejection, never as a throw from the call itself.
 */
export function settled<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}
