import { describe, expect, it } from "vitest";
import { mergeIncremental, withoutStaticSurvivors } from "../../../scripts/mutation/incremental.js";

function run(files: Record<string, readonly { id: string; status: string; static?: boolean; coveredBy?: string[]; killedBy?: string[] }[]>, testFiles: Record<string, { source: string; tests: string[] }>): unknown {
  return {
    schemaVersion: "1.0",
    thresholds: { high: 95, low: 85, break: null },
    projectRoot: "/work/x",
    files: Object.fromEntries(Object.entries(files).map(([path, mutants]) => [path, { language: "typescript", source: `// ${path}`, mutants }])),
    testFiles: Object.fromEntries(
      Object.entries(testFiles).map(([path, file]) => [path, { source: file.source, tests: file.tests.map((name, id) => ({ id: String(id), name })) }]),
    ),
  };
}

describe("merging the incremental files of per-file mutation runs", () => {
  it("keeps every run's mutants, and keeps each run's test ids apart", () => {
    const engine = run({ "src/engine.ts": [{ id: "0", status: "Killed", coveredBy: ["0", "1"], killedBy: ["1"] }] }, { "test/engine.test.ts": { source: "e", tests: ["starts", "stops"] } });
    const store = run({ "src/store.ts": [{ id: "0", status: "Survived", coveredBy: ["0"] }] }, { "test/store.test.ts": { source: "s", tests: ["saves"] } });

    const merged = mergeIncremental([engine, store]);

    expect(merged.files["src/engine.ts"]?.mutants).toEqual([{ id: "0", status: "Killed", coveredBy: ["0:0", "0:1"], killedBy: ["0:1"] }]);
    expect(merged.files["src/store.ts"]?.mutants).toEqual([{ id: "0", status: "Survived", coveredBy: ["1:0"] }]);
    expect(merged.testFiles?.["test/engine.test.ts"]?.tests).toEqual([
      { id: "0:0", name: "starts" },
      { id: "0:1", name: "stops" },
    ]);
    expect(merged.testFiles?.["test/store.test.ts"]?.tests).toEqual([{ id: "1:0", name: "saves" }]);
    expect(merged).toMatchObject({ schemaVersion: "1.0", projectRoot: "/work/x" });
  });

  it("takes a mutated file's mutants from the later run, and a shared test file's tests from both, under the later source", () => {
    const older = run({ "src/a.ts": [{ id: "0", status: "Survived" }] }, { "test/shared.test.ts": { source: "old", tests: ["one"] } });
    const newer = run({ "src/a.ts": [{ id: "0", status: "Killed", killedBy: ["0"] }] }, { "test/shared.test.ts": { source: "new", tests: ["one", "two"] } });

    const merged = mergeIncremental([older, newer]);

    expect(merged.files["src/a.ts"]?.mutants).toEqual([{ id: "0", status: "Killed", killedBy: ["1:0"] }]);
    expect(merged.testFiles?.["test/shared.test.ts"]).toEqual({
      source: "new",
      tests: [
        { id: "0:0", name: "one" },
        { id: "1:0", name: "one" },
        { id: "1:1", name: "two" },
      ],
    });
  });

  it("refuses what is not an incremental file, naming which one", () => {
    expect(() => mergeIncremental([run({}, {}), { files: "none" }])).toThrow(/incremental file 2 is not a Stryker report/);
    expect(() => mergeIncremental([])).toThrow("nothing to merge");
  });
});

describe("forgetting the static mutants that survived", () => {
  it("drops static survivors and static mutants without coverage, and keeps everything else as it was", () => {
    const report = run(
      {
        "src/arguments.ts": [
          { id: "0", status: "Survived", static: true },
          { id: "1", status: "Killed", static: true, killedBy: ["0"] },
          { id: "2", status: "Survived", static: false, coveredBy: ["0"] },
          { id: "3", status: "NoCoverage", static: true },
          { id: "4", status: "Timeout", static: true },
          { id: "5", status: "Survived" },
        ],
        "src/other.ts": [{ id: "0", status: "Killed", killedBy: ["0"] }],
      },
      { "test/arguments.test.ts": { source: "a", tests: ["reads"] } },
    );

    const { report: kept, forgotten } = withoutStaticSurvivors(report);

    expect(forgotten).toBe(2);
    expect(kept.files["src/arguments.ts"]?.mutants.map((entry) => entry.id)).toEqual(["1", "2", "4", "5"]);
    expect(kept.files["src/other.ts"]?.mutants).toEqual([{ id: "0", status: "Killed", killedBy: ["0"] }]);
    expect(kept.testFiles).toEqual({ "test/arguments.test.ts": { source: "a", tests: [{ id: "0", name: "reads" }] } });
    expect(kept).toMatchObject({ schemaVersion: "1.0", projectRoot: "/work/x" });
  });

  it("refuses what is not an incremental file", () => {
    expect(() => withoutStaticSurvivors({ files: [] })).toThrow(/the incremental file is not a Stryker report/);
  });
});
