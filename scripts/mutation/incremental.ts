/**
 * Tools for Stryker's incremental file, the record of the last run that the next run reuses.
 *
 *   node scripts/mutation/incremental.ts merge <output.json> <incremental.json>...
 *   node scripts/mutation/incremental.ts retest-static [incremental.json]
 *
 * `merge` joins the incremental files of several runs into one, so per-file runs (each with its
 * own `--mutate` and `--incrementalFile`) feed the next `npm run test:mutation`, which then
 * tests only what changed since them. Test ids are numbered per run ("0", "1", …), and mutants
 * name the tests that covered or killed them by id; each run's ids get the run's number in front
 * so they stay apart. Stryker matches tests between runs by file, name and place, not by id, so
 * the renaming changes nothing else. A mutated file in several runs keeps the later run's
 * mutants. A test file in several runs keeps every run's tests, under the later run's source:
 * when that source differs, Stryker's diff may see a test as moved and test its mutants again,
 * which costs time, never a result.
 *
 * `retest-static` forgets the static mutants that survived, so the next run tests them again
 * (default file: the one stryker.config.json names; no file, nothing to do). Stryker records no
 * per-test coverage for a static mutant (a change to a module-level constant, such as a regular
 * expression): it runs every related test file against it. Its diff reuses a survivor unless a
 * test *covering it* was added, and for a static mutant that list is empty, so a test written to
 * kill one never runs against it and the old "Survived" stands forever. (Seen on `arguments.ts`:
 * five pattern survivors stayed "Survived" after tests that kill each one when applied by hand.)
 * Killed static mutants are left to the diff, which reuses a kill only while the test that made
 * it is unchanged.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { z } from "zod";

const test = z.looseObject({ id: z.string() });
const testFile = z.looseObject({ tests: z.array(test), source: z.string().optional() });
const mutant = z.looseObject({
  status: z.string(),
  static: z.boolean().optional(),
  coveredBy: z.array(z.string()).optional(),
  killedBy: z.array(z.string()).optional(),
});
const mutatedFile = z.looseObject({ mutants: z.array(mutant) });
/** The part of Stryker's incremental file (a mutation-testing-report-schema report) read here. */
const incremental = z.looseObject({
  files: z.record(z.string(), mutatedFile),
  testFiles: z.record(z.string(), testFile).optional(),
});
type Incremental = z.infer<typeof incremental>;

function parseIncremental(report: unknown, which: string): Incremental {
  const result = incremental.safeParse(report);
  if (!result.success) throw new Error(`${which} is not a Stryker report: ${z.prettifyError(result.error)}`);
  return result.data;
}

export function mergeIncremental(reports: readonly unknown[]): Incremental {
  const parsed = reports.map((report, index) => parseIncremental(report, `incremental file ${index + 1}`));
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

const UNDETECTED = new Set(["Survived", "NoCoverage"]);

export function withoutStaticSurvivors(report: unknown): { readonly report: Incremental; readonly forgotten: number } {
  const parsed = parseIncremental(report, "the incremental file");
  let forgotten = 0;
  const files: Incremental["files"] = {};
  for (const [path, file] of Object.entries(parsed.files)) {
    const kept = file.mutants.filter((entry) => entry.static !== true || !UNDETECTED.has(entry.status));
    forgotten += file.mutants.length - kept.length;
    files[path] = { ...file, mutants: kept };
  }
  return { report: { ...parsed, files }, forgotten };
}

const USAGE = [
  "usage: node scripts/mutation/incremental.ts merge <output.json> <incremental.json>...",
  "       node scripts/mutation/incremental.ts retest-static [incremental.json]",
].join("\n");

function merge(output: string | undefined, inputs: readonly string[]): number {
  if (output === undefined || inputs.length === 0) {
    console.error(USAGE);
    return 2;
  }
  const merged = mergeIncremental(inputs.map((path) => JSON.parse(readFileSync(path, "utf8")) as unknown));
  writeFileSync(output, JSON.stringify(merged));
  console.log(`mutation merge: ${Object.keys(merged.files).length} mutated file(s) from ${inputs.length} run(s) into ${output}`);
  return 0;
}

const strykerConfig = z.looseObject({ incrementalFile: z.string() });

function retestStatic(argument: string | undefined): number {
  const path = argument ?? strykerConfig.parse(JSON.parse(readFileSync("stryker.config.json", "utf8"))).incrementalFile;
  if (!existsSync(path)) return 0;
  const { report, forgotten } = withoutStaticSurvivors(JSON.parse(readFileSync(path, "utf8")));
  if (forgotten > 0) {
    writeFileSync(path, JSON.stringify(report, null, 2));
    console.log(`mutation: ${forgotten} static mutant(s) that survived will be tested again (${path})`);
  }
  return 0;
}

function main(command: string | undefined, rest: readonly string[]): number {
  if (command === "merge") return merge(rest[0], rest.slice(1));
  if (command === "retest-static") return retestStatic(rest[0]);
  console.error(USAGE);
  return 2;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.exitCode = main(process.argv[2], process.argv.slice(3));
}
