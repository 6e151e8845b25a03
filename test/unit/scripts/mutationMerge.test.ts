import { describe, expect, it } from "vitest";
import { mergeIncremental } from "../../../scripts/mutation/merge.js";

function run(files: Record<string, readonly { id: string; status: string; coveredBy?: string[]; killedBy?: string[] }[]>, testFiles: Record<string, { source: string; tests: string[] }>): unknown {
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
