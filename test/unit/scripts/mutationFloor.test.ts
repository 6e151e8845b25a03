import { describe, expect, it } from "vitest";
import { floorOf, formatTable, isUnderFloor, scoreFiles } from "../../../scripts/mutation/floor.js";

function report(files: Record<string, readonly string[]>): unknown {
  return {
    schemaVersion: "2",
    files: Object.fromEntries(
      Object.entries(files).map(([file, statuses]) => [file, { language: "typescript", source: "", mutants: statuses.map((status, id) => ({ id: String(id), status })) }]),
    ),
  };
}

describe("the mutation floor", () => {
  it("asks 100 % of the access rules and 85 % of every other mutated file", () => {
    expect(floorOf("src/access/commandEvent.ts")).toBe(100);
    expect(floorOf("src/synapse/adminClient.ts")).toBe(85);
    expect(floorOf("src/store/tasks.ts")).toBe(85);
  });

  it("scores a file as Stryker does: killed and timed-out out of the valid mutants", () => {
    const [score] = scoreFiles(
      report({ "src/tasks/tracker.ts": ["Killed", "Killed", "Timeout", "Survived", "NoCoverage", "CompileError", "RuntimeError", "Ignored"] }),
    );

    expect(score).toEqual({ file: "src/tasks/tracker.ts", killed: 2, timeout: 1, survived: 1, noCoverage: 1, score: 60, floor: 85 });
    expect(score !== undefined && isUnderFloor(score)).toBe(true);
  });

  it("lets a file at exactly its floor pass, and fails one a single mutant under it", () => {
    const scores = scoreFiles(
      report({
        "src/access/allowlist.ts": ["Killed", "Killed"],
        "src/access/commandEvent.ts": [...Array<string>(99).fill("Killed"), "Survived"],
        "src/synapse/adminClient.ts": [...Array<string>(17).fill("Killed"), "Survived", "Survived", "Survived"],
      }),
    );

    expect(scores.map((score) => [score.file, isUnderFloor(score)])).toEqual([
      ["src/access/allowlist.ts", false],
      ["src/access/commandEvent.ts", true],
      ["src/synapse/adminClient.ts", false],
    ]);
  });

  it("passes a file without valid mutants (nothing left to kill)", () => {
    const [score] = scoreFiles(report({ "src/access/roomSafety.ts": ["Ignored"] }));

    expect(score?.score).toBe(100);
    expect(score !== undefined && isUnderFloor(score)).toBe(false);
  });

  it("prints one row per file naming the ones under their floor", () => {
    const table = formatTable(scoreFiles(report({ "src/access/allowlist.ts": ["Killed", "Survived"], "src/tasks/tracker.ts": ["Killed"] })));

    expect(table.split("\n")).toEqual([
      expect.stringMatching(/^file +killed +timeout +survived +no cov +score +floor$/),
      expect.stringMatching(/^src\/access\/allowlist\.ts +1 +0 +1 +0 +50\.00 % +100 % +UNDER FLOOR$/),
      expect.stringMatching(/^src\/tasks\/tracker\.ts +1 +0 +0 +0 +100\.00 % +85 % +ok$/),
    ]);
  });

  it("refuses something that is not a Stryker report rather than passing it", () => {
    expect(() => scoreFiles({})).toThrow(/not a Stryker JSON report/);
    expect(() => scoreFiles({ files: { "src/a.ts": {} } })).toThrow(/mutants/);
    expect(() => scoreFiles({ files: { "src/a.ts": { mutants: [{ id: "1" }] } } })).toThrow(/status/);
  });
});
