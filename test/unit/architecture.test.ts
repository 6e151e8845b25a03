import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../../src");

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** Every relative import of a file, type-only ones included: a type cycle still ties two folders together. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specifiers = [...text.matchAll(/(?:import|export)\s[^;]*?from\s*"(\.{1,2}\/[^"]+)"/g)].map((match) => match[1] ?? "");
  return specifiers.map((specifier) => resolve(dirname(file), specifier).replace(/\.js$/, ".ts"));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const name = (file: string): string => relative(SRC, file);

describe("source layout", () => {
  it("has no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, "visiting" | "done">();
    const path: string[] = [];
    const visit = (file: string): void => {
      if (state.get(file) === "done") return;
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(" -> "));
        return;
      }
      state.set(file, "visiting");
      path.push(file);
      for (const next of graph.get(file) ?? []) visit(next);
      path.pop();
      state.set(file, "done");
    };
    for (const file of files) visit(file);
    expect(cycles).toEqual([]);
  });

  it("keeps rendering and shared types below the command layer", () => {
    const upward = files
      .filter((file) => /^(render|model|tasks|synapse|store|access|retention)\//.test(name(file)))
      .flatMap((file) => (graph.get(file) ?? []).filter((target) => name(target).startsWith("commands/")).map((target) => `${name(file)} -> ${name(target)}`));
    expect(upward).toEqual([]);
  });

  it("keeps every folder at fifteen files or fewer", () => {
    const counts = new Map<string, number>();
    for (const file of files) counts.set(name(dirname(file)) || ".", (counts.get(name(dirname(file)) || ".") ?? 0) + 1);
    const crowded = [...counts].filter(([, count]) => count > 15).map(([folder, count]) => `${folder}: ${count}`);
    expect(crowded).toEqual([]);
  });
});
