/**
 * The pure half of `npm run bench:wave` (bench/waves.ts): which methods and databases a run
 * covers, and the table each database gets — wall time against the other methods, and what an
 * ordinary user's requests cost meanwhile against the same user on the idle homeserver.
 */
import type { Endpoint, EndpointLatency, UserLatency } from "./userLatency.js";

export const METHODS = ["a", "b", "c", "d"] as const;
export type Method = (typeof METHODS)[number];

export const LABELS: Readonly<Record<Method, string>> = {
  a: "(a) fire-all, then poll all",
  b: "(b) one at a time",
  c: "(c) Warden wave, maxConcurrentJobs 5",
  d: "(d) Warden wave, default (2)",
};

export const DATABASES = ["sqlite", "postgres"] as const;
export type Database = (typeof DATABASES)[number];
export const DATABASE_NAMES: Readonly<Record<Database, string>> = { sqlite: "SQLite", postgres: "PostgreSQL" };

/** The targets: on PostgreSQL, (c) within 1.1 × fire-all's wall time; at the default, the user's p95 within 2 × idle. */
export const TARGET_VS_A = 1.1;
export const TARGET_USER_VS_IDLE = 2;

/** `text` as a comma-separated subset of `known`, in `known`'s order; empty means all of them. */
function subset<T extends string>(variable: string, text: string | undefined, known: readonly T[], aliases: Readonly<Record<string, T>> = {}): readonly T[] {
  if (text === undefined || text.trim() === "") return known;
  const chosen = text.split(",").map((word) => {
    const lower = word.trim().toLowerCase();
    return aliases[lower] ?? lower;
  });
  const unknown = chosen.filter((word) => !(known as readonly string[]).includes(word));
  if (unknown.length > 0) throw new Error(`${variable} takes a comma-separated subset of ${known.join(",")}, not ${unknown.join(",")}`);
  return known.filter((item) => chosen.includes(item));
}

/** BENCH_WAVE_ONLY=a,b runs a subset of the methods. */
export function selectedMethods(environment: NodeJS.ProcessEnv): readonly Method[] {
  return subset("BENCH_WAVE_ONLY", environment["BENCH_WAVE_ONLY"], METHODS);
}

/** BENCH_WAVE_DATABASES=postgres runs on one of them; both by default, SQLite first. */
export function selectedDatabases(environment: NodeJS.ProcessEnv): readonly Database[] {
  return subset("BENCH_WAVE_DATABASES", environment["BENCH_WAVE_DATABASES"], DATABASES, { postgresql: "postgres" });
}

export interface MethodOutcome {
  /** Undefined when the method broke. */
  readonly wallMs?: number;
  readonly user?: UserLatency;
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);
const milliseconds = (ms: number): string => (Number.isNaN(ms) ? "–" : ms.toFixed(0));

/** `value / base` as "1.16 ×"; a dash when either is missing. */
export function ratio(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined || Number.isNaN(value) || Number.isNaN(base) || base === 0) return "–";
  return `${(value / base).toFixed(2)} ×`;
}

const latencyCell = (latency: EndpointLatency | undefined): string =>
  latency === undefined ? "–" : `${milliseconds(latency.p50)} / ${milliseconds(latency.p95)} / ${milliseconds(latency.max)}`;

/**
 * One database's table as Markdown lines: the idle baseline first, then each method in `methods`
 * (a method missing from `outcomes` or without a wall time broke). The user's columns give
 * p50 / p95 / max in ms and the p95 as a multiple of idle's.
 */
export function methodTable(methods: readonly Method[], outcomes: ReadonlyMap<Method, MethodOutcome>, idle: UserLatency, idleMs: number): string[] {
  const wallOf = (method: Method): number | undefined => outcomes.get(method)?.wallMs;
  const userCells = (user: UserLatency | undefined): string =>
    (["messages", "sync"] as const satisfies readonly Endpoint[]).map((endpoint) => `${latencyCell(user?.[endpoint])} | ${ratio(user?.[endpoint].p95, idle[endpoint].p95)}`).join(" | ");
  const lines = [
    "| method | wall time (s) | ratio to (a) | ratio to (b) | user /messages p50 / p95 / max (ms) | /messages p95 ÷ idle | user /sync p50 / p95 / max (ms) | /sync p95 ÷ idle |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    `| idle, nothing running (${seconds(idleMs)} s) | – | – | – | ${userCells(idle)} |`,
  ];
  for (const method of methods) {
    const outcome = outcomes.get(method);
    const wallMs = outcome?.wallMs;
    const wall = wallMs === undefined ? "broken | – | –" : `${seconds(wallMs)} | ${ratio(wallMs, wallOf("a"))} | ${ratio(wallMs, wallOf("b"))}`;
    lines.push(`| ${LABELS[method]} | ${wall} | ${userCells(outcome?.user)} |`);
  }
  return lines;
}

/** How many of the user's requests failed in each window, when any did: their times are in the table, their failure is not. */
export function failureNotes(methods: readonly Method[], outcomes: ReadonlyMap<Method, MethodOutcome>, idle: UserLatency): string[] {
  const windows: [string, UserLatency | undefined][] = [["idle", idle], ...methods.map((method): [string, UserLatency | undefined] => [LABELS[method], outcomes.get(method)?.user])];
  return windows.flatMap(([label, user]) => {
    const failed = user === undefined ? 0 : user.messages.failed + user.sync.failed;
    if (user === undefined || failed === 0) return [];
    return [`note: ${label}: ${String(user.messages.failed)} of ${String(user.messages.count)} /messages and ${String(user.sync.failed)} of ${String(user.sync.count)} /sync requests failed`];
  });
}

const met = (ok: boolean): string => (ok ? "met" : "NOT met");

/** The two targets as measurements ("met" or "NOT met", never a failure of the run). */
export function targetLines(outcomes: ReadonlyMap<Method, MethodOutcome>, idle: UserLatency): string[] {
  const a = outcomes.get("a")?.wallMs;
  const c = outcomes.get("c")?.wallMs;
  const wall =
    a === undefined || c === undefined
      ? `- (c) wall time ≤ ${String(TARGET_VS_A)} × (a): not measured`
      : `- (c) wall time ≤ ${String(TARGET_VS_A)} × (a): ${ratio(c, a)}, ${met(c <= TARGET_VS_A * a)}`;
  const user = outcomes.get("d")?.user;
  const endpointTarget = (endpoint: Endpoint): string => {
    const p95 = user?.[endpoint].p95;
    if (p95 === undefined || Number.isNaN(p95) || Number.isNaN(idle[endpoint].p95)) return `/${endpoint} not measured`;
    return `/${endpoint} ${ratio(p95, idle[endpoint].p95)}, ${met(p95 <= TARGET_USER_VS_IDLE * idle[endpoint].p95)}`;
  };
  return [wall, `- (d) the user's p95 ≤ ${String(TARGET_USER_VS_IDLE)} × idle: ${endpointTarget("messages")}; ${endpointTarget("sync")}`];
}
