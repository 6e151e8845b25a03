/** Helpers the real-Synapse benchmarks share: percentiles and counting requests in Synapse's access log. */
import { readFileSync } from "node:fs";

/** The value below which `fraction` of the values lie (nearest rank); NaN for no values. */
export function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

/** How long a set of requests took (ms): their median, 95th percentile and slowest; NaN each for none. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly max: number;
}

export function latencySummary(values: readonly number[]): LatencySummary {
  return {
    count: values.length,
    p50: percentile(values, 0.5),
    p95: percentile(values, 0.95),
    max: values.length === 0 ? Number.NaN : Math.max(...values),
  };
}

/** Synapse's log time ("2026-11-26 00:35:12,345", local time) as epoch milliseconds. */
export function logTime(line: string): number | undefined {
  const match = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}),(\d{3})/.exec(line);
  return match === null ? undefined : new Date(`${match[1] ?? ""}T${match[2] ?? ""}.${match[3] ?? ""}`).getTime();
}

/**
 * Requests by `requester` in Synapse's access log between two times (epoch ms), counted by the
 * name `family` gives each line; lines it names `undefined` are not counted. An access line
 * carries the requester as `{@user:server}` and is written when the request has been answered.
 */
export function countRequests(
  logFile: string,
  requester: string,
  from: number,
  to: number,
  family: (line: string) => string | undefined,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of readFileSync(logFile, "utf8").split("\n")) {
    if (!line.includes(`{${requester}}`) || !line.includes("Processed request")) continue;
    const at = logTime(line);
    if (at === undefined || at < from || at > to) continue;
    const name = family(line);
    if (name === undefined) continue;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return counts;
}

export function total(counts: ReadonlyMap<string, number>): number {
  return [...counts.values()].reduce((sum, count) => sum + count, 0);
}
