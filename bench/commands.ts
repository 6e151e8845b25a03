/**
 * `npm run bench`: prints how fast Warden parses commands and how much memory its task store
 * takes. Numbers, not verdicts: compare runs on the same machine.
 */
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { splitWords } from "../src/commands/parsing/words.js";
import { parsePurgePoint, parseRoomArgument } from "../src/commands/parsing/arguments.js";
import { TaskStore } from "../src/tasks/store.js";
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

async function benchStore(tasks: number): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), "warden-bench-"));
  const store = new TaskStore(directory, () => Date.now());
  const started = performance.now();
  for (let index = 0; index < tasks; index++) {
    const now = Date.now();
    const task: TaskRecord = {
      id: store.newId("purge"),
      kind: "purge",
      roomId: `!room${index}:example.org`,
      roomLabel: `#room${index}:example.org`,
      requester: "@mod:example.org",
      managementRoomId: "!mgmt:example.org",
      commandEventId: `$event${index}`,
      parameters: { cutoff: "2024-05-01 00:00:00 UTC", deleteLocalEvents: false },
      status: "complete",
      createdAt: now,
      statusChangedAt: now,
      finishedAt: now,
      finalNotificationSent: true,
    };
    // Each insert rewrites tasks.json atomically, as in production.
    await store.insert(task);
  }
  const seconds = (performance.now() - started) / 1000;
  const bytes = statSync(join(directory, "tasks.json")).size;
  console.log(
    `task store: ${tasks} inserts (each an atomic, fsynced rewrite of tasks.json) in ${seconds.toFixed(2)} s = ` +
      `${Math.round(tasks / seconds)} inserts/s; tasks.json ${(bytes / 1024).toFixed(0)} KiB (${Math.round(bytes / tasks)} B per task)`,
  );
}

benchParsing(200_000);
await benchStore(2_000);
