/**
 * `npm run bench`: prints how fast Warden parses commands and how fast its task store writes
 * (latency of single inserts and updates, and their rate). Numbers, not verdicts: compare runs
 * on the same machine.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { splitWords } from "../src/commands/parsing/words.js";
import { parsePurgePoint, parseRoomArgument } from "../src/commands/parsing/arguments.js";
import { WardenDatabase } from "../src/store/database.js";
import { TaskStore } from "../src/store/tasks.js";
import type { TaskRecord } from "../src/tasks/types.js";

const PURGE_SPEC = {
  name: "purge",
  summary: "",
  details: [],
  positionals: [{ name: "room", description: "" }, { name: "point", description: "" }],
  flags: [
    { name: "local", kind: "boolean" as const, description: "" },
    { name: "reason", kind: "text" as const, description: "" },
  ],
  examples: [],
};

function benchParsing(iterations: number): void {
  const inputs = [
    '#spam:example.org 30d --local --reason "spam wave"',
    "!abc:example.org 2024-05-01T12:00:00+02:00",
    "https://matrix.to/#/%23spam%3Aexample.org/%24event?via=example.org 1700000000000",
  ];
  const now = Date.now();
  const started = performance.now();
  let accepted = 0;
  for (let index = 0; index < iterations; index++) {
    const words = splitWords(inputs[index % inputs.length] ?? "", PURGE_SPEC);
    if (!words.ok) continue;
    const room = parseRoomArgument("<room>", words.value.positionals[0] ?? "");
    const point = parsePurgePoint("<point>", words.value.positionals[1] ?? "", now);
    if (room.ok && point.ok) accepted++;
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`parse: ${iterations} commands in ${seconds.toFixed(3)} s = ${Math.round(iterations / seconds)} commands/s (${accepted} accepted)`);
}

function sampleTask(id: string, index: number, now: number): TaskRecord {
  return {
    id,
    kind: "purge",
    roomId: `!room${index}:example.org`,
    roomLabel: `#room${index}:example.org`,
    requester: "@mod:example.org",
    managementRoomId: "!mgmt:example.org",
    commandEventId: `$event${index}`,
    parameters: { cutoff: "2024-05-01 00:00:00 UTC", deleteLocalEvents: false },
    status: "scheduled",
    createdAt: now,
    statusChangedAt: now,
    finalNotificationSent: false,
  };
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

function describeLatencies(label: string, latencies: number[]): string {
  const total = latencies.reduce((sum, value) => sum + value, 0);
  latencies.sort((a, b) => a - b);
  return (
    `${label} p50 ${percentile(latencies, 0.5).toFixed(3)} ms, p99 ${percentile(latencies, 0.99).toFixed(3)} ms, ` +
    `${Math.round(latencies.length / (total / 1000))} ops/s`
  );
}

/**
 * Inserts `tasks` tasks one by one (each its own committed transaction, as in production), then
 * updates random tasks as the tracker does: each insert and each update is timed on its own.
 */
async function benchStore(tasks: number): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), "warden-bench-"));
  const database = WardenDatabase.open(directory);
  const store = new TaskStore(database, () => Date.now());
  const inserts: number[] = [];
  const ids: string[] = [];
  for (let index = 0; index < tasks; index++) {
    const task = sampleTask(store.newId("purge"), index, Date.now());
    const started = performance.now();
    await store.insert(task);
    inserts.push(performance.now() - started);
    ids.push(task.id);
  }
  const updates: number[] = [];
  for (let index = 0; index < tasks; index++) {
    const id = ids[Math.floor(Math.random() * ids.length)] ?? "";
    const started = performance.now();
    await store.update(id, { status: index % 2 === 0 ? "active" : "scheduled", statusChangedAt: Date.now() });
    updates.push(performance.now() - started);
  }
  database.close();
  const bytes = statSync(join(directory, "warden.sqlite")).size;
  console.log(
    `task store at ${tasks} tasks (SQLite, WAL, synchronous=NORMAL): ${describeLatencies("insert", inserts)}; ` +
      `${describeLatencies("update", updates)}; warden.sqlite ${(bytes / 1024).toFixed(0)} KiB`,
  );
  rmSync(directory, { recursive: true, force: true });
}

benchParsing(200_000);
await benchStore(1_000);
await benchStore(10_000);
