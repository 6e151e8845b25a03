/**
 * Where a Warden profile's time went: `node dist/bench/profileSummary.js <file.cpuprofile> [top]`.
 * Reads a profile written with --cpu-prof (BENCH_SCALE_PROFILE=<dir> npm run bench:scale) and
 * prints the share of busy time (idle left out) by function, its own time only, then by source
 * file or package, each counting the time of everything it called (a sample counts once per file
 * on its stack, so the shares overlap and do not add up to 100 %).
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Warden's own files by their path under dist/, a package by its name, Node's internals as they are. */
function fileOf(url: string): string {
  if (url === "") return "(native)";
  const dist = url.split("/dist/");
  if (dist.length > 1) return dist.at(-1) ?? url;
  const modules = url.split("node_modules/");
  if (modules.length > 1) return (modules.at(-1) ?? url).split("/")[0] ?? url;
  return url;
}

function functionOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName === "" ? "(anonymous)" : functionName} ${fileOf(url)}:${String(lineNumber + 1)}`;
}

function top(counts: ReadonlyMap<string, number>, busy: number, count: number): string[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, micros]) => `${((micros / busy) * 100).toFixed(1).padStart(5)} %  ${name}`);
}

function add(counts: Map<string, number>, key: string, micros: number): void {
  counts.set(key, (counts.get(key) ?? 0) + micros);
}

const [file, topArgument] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node dist/bench/profileSummary.js <file.cpuprofile> [top]");
  process.exit(2);
}
const count = Number(topArgument ?? 30);
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

const perNode = new Map<number, number>();
profile.samples.forEach((id, index) => perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));

let total = 0;
let busy = 0;
const own = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, micros] of perNode) {
  const node = nodes.get(id);
  if (node === undefined) continue;
  total += micros;
  if (node.callFrame.functionName === "(idle)") continue;
  busy += micros;
  add(own, functionOf(node), micros);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) {
    const key = fileOf(nodes.get(at)?.callFrame.url ?? "");
    if (!seen.has(key)) add(inclusive, key, micros);
    seen.add(key);
  }
}

console.log(`${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy (${((busy / total) * 100).toFixed(1)} %)`);
console.log("\nown time, share of busy time:");
for (const line of top(own, busy, count)) console.log(line);
console.log("\nby file or package, with what it called:");
for (const line of top(inclusive, busy, count)) console.log(line);
