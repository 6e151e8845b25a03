/**
 * The per-file floor of `npm run test:mutation`. Stryker's own `break` threshold judges the
 * whole run, so one well-tested file could hide a weak one; this reads Stryker's JSON report
 * and fails naming every file under its floor.
 *
 *   node scripts/mutation/floor.ts [reports/mutation/mutation.json]
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { z } from "zod";

/** The first matching prefix wins; every other mutated file has the default floor. */
export const FLOORS: readonly { readonly prefix: string; readonly floor: number }[] = [
  // Who may command Warden: every mutant there is a way to let the wrong message through.
  { prefix: "src/access/", floor: 100 },
];
export const DEFAULT_FLOOR = 85;

export interface FileScore {
  readonly file: string;
  readonly killed: number;
  readonly timeout: number;
  readonly survived: number;
  readonly noCoverage: number;
  /** Detected (killed or timed out) out of the valid mutants, in percent; 100 when there are none. */
  readonly score: number;
  readonly floor: number;
}

export function floorOf(file: string): number {
  return FLOORS.find((entry) => file.startsWith(entry.prefix))?.floor ?? DEFAULT_FLOOR;
}

/**
 * Scores as Stryker computes them: compile errors, runtime errors and ignored mutants are not
 * valid mutants and count neither way.
 */
export function scoreFiles(report: unknown): FileScore[] {
  const files = readFiles(report);
  return Object.entries(files)
    .map(([file, mutants]) => {
      const count = (status: string): number => mutants.filter((mutant) => mutant.status === status).length;
      const killed = count("Killed");
      const timeout = count("Timeout");
      const survived = count("Survived");
      const noCoverage = count("NoCoverage");
      const valid = killed + timeout + survived + noCoverage;
      const score = valid === 0 ? 100 : ((killed + timeout) / valid) * 100;
      return { file, killed, timeout, survived, noCoverage, score, floor: floorOf(file) };
    })
    .sort((a, b) => a.file.localeCompare(b.file));
}

/** Floors compare with the score rounded down to two decimals, as the table prints it. */
export function isUnderFloor(score: FileScore): boolean {
  return Math.floor(score.score * 100) / 100 < score.floor;
}

/** The part of Stryker's mutation-testing-report-schema this script reads. */
const strykerReport = z.object({
  files: z.record(z.string(), z.object({ mutants: z.array(z.object({ status: z.string() })) })),
});

function readFiles(report: unknown): Record<string, readonly { readonly status: string }[]> {
  const parsed = strykerReport.safeParse(report);
  if (!parsed.success) throw new Error(`not a Stryker JSON report: ${z.prettifyError(parsed.error)}`);
  return Object.fromEntries(Object.entries(parsed.data.files).map(([file, entry]) => [file, entry.mutants]));
}

export function formatTable(scores: readonly FileScore[]): string {
  const header = ["file", "killed", "timeout", "survived", "no cov", "score", "floor", ""];
  const rows = scores.map((s) => [
    s.file,
    String(s.killed),
    String(s.timeout),
    String(s.survived),
    String(s.noCoverage),
    `${(Math.floor(s.score * 100) / 100).toFixed(2)} %`,
    `${s.floor} %`,
    isUnderFloor(s) ? "UNDER FLOOR" : "ok",
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd()).join("\n");
}

function main(reportPath: string): number {
  const scores = scoreFiles(JSON.parse(readFileSync(reportPath, "utf8")));
  if (scores.length === 0) {
    console.error(`mutation floor: ${reportPath} names no mutated file`);
    return 1;
  }
  console.log(formatTable(scores));
  const under = scores.filter(isUnderFloor);
  for (const score of under) {
    console.error(`mutation floor: ${score.file} scores ${score.score.toFixed(2)} %, under its floor of ${score.floor} %`);
  }
  if (under.length === 0) console.log(`mutation floor: all ${scores.length} files at or above their floor`);
  return under.length === 0 ? 0 : 1;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = main(process.argv[2] ?? "reports/mutation/mutation.json");
}
