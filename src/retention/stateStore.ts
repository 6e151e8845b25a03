/** What Warden remembers of one retention policy between runs and restarts (the policy itself lives in the config). */
export interface RetentionStateRow {
  readonly policy: string;
  readonly paused: boolean;
  /** When the schedule runs it next (epoch ms); kept so a restart neither skips nor repeats a run. */
  readonly nextRunAt?: number;
  /** The wave of its latest run, scheduled or started with !retention run. */
  readonly lastWaveId?: string;
  readonly lastStartedAt?: number;
}

/**
 * The scheduler's storage. Writes resolve once stored and reject with a StoreError when they
 * could not be; the scheduler changes what it keeps in memory only after that.
 */
export interface RetentionStateStore {
  all(): readonly RetentionStateRow[];
  save(row: RetentionStateRow): Promise<void>;
}
