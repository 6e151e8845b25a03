/**
 * Joins the incremental files of several Stryker runs into one, so per-file runs (each with its
 * own `--mutate` and `--incrementalFile`) feed the next `npm run test:mutation`, which then
 * tests only what changed since them.
 *
 *   node scripts/mutation/merge.ts reports/mutation/stryker-incremental.json reports/mutation/a.incremental.json ...
 *
 * Test ids are numbered per run ("0", "1", …), and mutants name the tests that covered or killed
 * them by id; each run's ids get the run's number in front so they stay apart. Stryker matches
 * tests between runs by file, name and place, not by id, so the renaming changes nothing else.
 * A mutated file in several runs keeps the later run's mutants. A test file in several runs
 * keeps every run's tests, under the later run's source: when that source differs, Stryker's
 * diff may see a test as moved and test its mutants again, which costs time, never a result.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { z } from "zod";

const test = z.looseObject({ id: z.string() });
const testFile = z.looseObject({ tests: z.array(test), source: z.string().optional() });
const mutant = z.looseObject({ coveredBy: z.array(z.string()).optional(), killedBy: z.array(z.string()).optional() });
const mutatedFile = z.looseObject({ mutants: z.array(mutant) });
const incremental = z.looseObject({
  files: z.record(z.string(), mutatedFile),
  testFiles: z.record(z.string(), testFile).optional(),
});
type Incremental = z.infer<typeof incremental>;

export function mergeIncremental(reports: readonly unknown[]): Incremental {
  const parsed = reports.map((report, index) => {
    const result = incremental.safeParse(report);
    if (!result.success) throw new Error(`incremental file ${index + 1} is not a Stryker report: ${z.prettifyError(result.error)}`);
    return result.data;
  });
  const [first] = parsed;
  if (first === undefined) throw new Error("nothing to merge: name at least one incremental file");
  const files: Incremental["files"] = {};
  const testFiles: NonNullable<Incremental["testFiles"]> = {};
  parsed.forEach((report, index) => {
    const rename = (id: string): string => `${index}:${id}`;
    for (const [path, file] of Object.entries(report.files)) {
      files[path] = {
        ...file,
        mutants: file.mutants.map((entry) => ({
          ...entry,
          ...(entry.coveredBy === undefined ? {} : { coveredBy: entry.coveredBy.map(rename) }),
          ...(entry.killedBy === undefined ? {} : { killedBy: entry.killedBy.map(rename) }),
        })),
      };
    }
    for (const [path, file] of Object.entries(report.testFiles ?? {})) {
      const earlier = testFiles[path]?.tests ?? [];
      testFiles[path] = { ...file, tests: [...earlier, ...file.tests.map((entry) => ({ ...entry, id: rename(entry.id) }))] };
    }
  });
  return { ...first, files, testFiles };
}

function main(output: string | undefined, inputs: readonly string[]): number {
  if (output === undefined || inputs.length === 0) {
    console.error("usage: node scripts/mutation/merge.ts <output.json> <incremental.json>...");
    return 2;
  }
  const merged = mergeIncremental(inputs.map((path) => JSON.parse(readFileSync(path, "utf8")) as unknown));
  writeFileSync(output, JSON.stringify(merged));
  console.log(`mutation merge: ${Object.keys(merged.files).length} mutated file(s) from ${inputs.length} run(s) into ${output}`);
  return 0;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = main(process.argv[2], process.argv.slice(3));
}
