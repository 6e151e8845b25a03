/**
 * `npm run bench:lag`: on a real Synapse, how long after a job really ended Warden's final
 * message arrives, and how many status requests Warden sent meanwhile.
 *
 * Starts a fresh Synapse and Warden (the e2e harness), lets several spammers fill a room each,
 * runs one `!redact` per spammer at once (Synapse runs five at a time, the rest wait), and for
 * each job compares the homeserver's own end time (`timestamp_ms` of the finished task in
 * scheduled_tasks) with the `origin_server_ts` of Warden's final message, both stamped by
 * Synapse's clock. Status requests are counted in Synapse's access log, which names the
 * requester. Everything started here is stopped before it exits, also on Ctrl-C.
 *
 * BENCH_LAG_JOBS (default 6) and BENCH_LAG_MESSAGES (default 250 per job) size the run; jobs
 * should last at least a minute (printed), which on a busy two-core machine takes a few hundred
 * messages and on an idle fast one a few thousand.
 *
 * Then the same for takedowns: BENCH_LAG_TAKEDOWNS (default 6) users, each with
 * BENCH_LAG_TAKEDOWN_MESSAGES (default 100) messages in each of two rooms, taken down at once
 * with `!takedown <user> --yes` (BENCH_LAG_TAKEDOWN_FLAGS adds flags, `--deactivate` say). A
 * takedown's last step to act is its redaction (the rooms and deactivate steps are skipped
 * unless asked): its lag is measured from the redaction's end as the homeserver stamps it
 * (`timestamp_ms`), and from the last step's finish as Warden stored it (read from its
 * database), to the `origin_server_ts` of the takedown's final message. BENCH_LAG_ONLY=jobs or
 * =takedowns runs one half.
 */
import { join } from "node:path";
import { MatrixClient, type ClientEvent } from "../scripts/harness/client.js";
import { bodyOf } from "../scripts/harness/roomRecorder.js";
import type { TakedownRecord } from "../src/model/takedowns.js";
import { DATABASE_FILE } from "../src/store/database.js";
import { DatabaseSync } from "../src/store/sqlite.js";
import { DEFAULT_TAKEDOWN_OPTIONS } from "../src/tasks/takedowns/runner.js";
import { DEFAULT_TRACKER_OPTIONS } from "../src/tasks/tracker.js";
import { mentions, repliesTo, startScenario, type Scenario } from "../test/e2e/scenario.js";
import { countRequests, percentile } from "./measure.js";

const JOBS = Number(process.env["BENCH_LAG_JOBS"] ?? 6);
const MESSAGES = Number(process.env["BENCH_LAG_MESSAGES"] ?? 250);
const TAKEDOWNS = Number(process.env["BENCH_LAG_TAKEDOWNS"] ?? 6);
const TAKEDOWN_MESSAGES = Number(process.env["BENCH_LAG_TAKEDOWN_MESSAGES"] ?? 100);
const TAKEDOWN_FLAGS = process.env["BENCH_LAG_TAKEDOWN_FLAGS"] ?? "";
const ONLY = process.env["BENCH_LAG_ONLY"];
const SEND_PARALLEL = 8;
const FINAL_TIMEOUT_MS = 30 * 60_000;
/** Requests Warden sends to learn where a job stands (the task queue and each kind's own status). */
const STATUS_REQUEST = /"GET \S*\/(scheduled_tasks|redact_status\/|purge_history_status\/|delete_status)/;

interface Job {
  readonly spammer: MatrixClient;
  readonly roomId: string;
  commandEventId?: string;
  submittedAt?: number;
  endedAt?: number;
  startedAt?: number;
  finalAt?: number;
  taskId?: string;
  /** When Warden's log says it saw the end (its own clock; the same machine). */
  seenAt?: number;
}

/** Status requests by `requester` in Synapse's access log between two times, by endpoint. */
function statusRequests(logFile: string, requester: string, from: number, to: number): Map<string, number> {
  return countRequests(logFile, requester, from, to, (line) => STATUS_REQUEST.exec(line)?.[1]?.replace(/\/$/, ""));
}

async function fill(spammer: MatrixClient, roomId: string, messages: number): Promise<void> {
  for (let sent = 0; sent < messages; sent += SEND_PARALLEL) {
    const batch = Array.from({ length: Math.min(SEND_PARALLEL, messages - sent) }, (_, index) => `spam ${String(sent + index)}`);
    await Promise.all(batch.map((text) => spammer.sendText(roomId, text)));
  }
}

const seconds = (ms: number): string => (ms / 1000).toFixed(2);

/** "p50 x s, p95 y s, max z s" of a list of milliseconds. */
function spread(values: readonly number[]): string {
  return `p50 ${seconds(percentile(values, 0.5))} s, p95 ${seconds(percentile(values, 0.95))} s, max ${seconds(Math.max(...values))} s`;
}

/** Where the numbers should land: Warden sees an end within one tick of the tracker, and tells the requester one send later. */
function printTargets(): void {
  console.log(
    `target: the tracker looks at the homeserver's task list at least every ${seconds(DEFAULT_TRACKER_OPTIONS.ceilingMs)} s while jobs run, ` +
      "so an end is seen within that and the final message follows one send later; " +
      `a takedown is woken by its redaction's end, and otherwise looks at its steps every ${seconds(DEFAULT_TAKEDOWN_OPTIONS.followEveryMs)} s`,
  );
}

/** When each user's redaction job ended on the homeserver (`timestamp_ms`, moved by every status change; one job per user here). */
async function redactionEnds(scenario: Scenario): Promise<Map<string, number>> {
  const ends = new Map<string, number>();
  for (const task of await scenario.admin.adminScheduledTasks()) {
    const stamp = task["timestamp_ms"];
    if (task.action === "redact_all_events" && typeof task.resource_id === "string" && typeof stamp === "number") ends.set(task.resource_id, stamp);
  }
  return ends;
}

async function measureJobs(scenario: Scenario): Promise<void> {
  const jobs: Job[] = [];
  for (let index = 0; index < JOBS; index++) {
    const spammer = new MatrixClient(scenario.synapse.baseUrl, await scenario.synapse.registerUser(`flooder${String(index)}`));
    jobs.push({ spammer, roomId: await spammer.createRoom({ name: `flood ${String(index)}`, preset: "public_chat" }) });
  }
  console.log(`filling ${String(JOBS)} rooms with ${String(MESSAGES)} messages each...`);
  await Promise.all(jobs.map((job) => fill(job.spammer, job.roomId, MESSAGES)));

  const mark = scenario.recorder.mark();
  for (const job of jobs) {
    const sent = await scenario.send(`!redact ${job.spammer.userId} --room ${job.roomId} --yes`);
    job.commandEventId = sent.eventId;
    job.submittedAt = Date.now();
  }
  console.log(`${String(JOBS)} redactions submitted; waiting for their final messages...`);
  await Promise.all(
    jobs.map(async (job) => {
      const final = await scenario.finalFor(job.commandEventId ?? "", mark, FINAL_TIMEOUT_MS);
      job.finalAt = final.origin_server_ts;
      const record = final.content["org.warden.record"];
      const id = record !== null && typeof record === "object" ? (record as Record<string, unknown>)["id"] : undefined;
      if (typeof id === "string") job.taskId = id;
      if (!/done in/.test(bodyOf(final))) console.log(`  job of ${job.spammer.userId} did not end well: ${bodyOf(final).split("\n")[0] ?? ""}`);
    }),
  );
  // Anything more Warden says about these jobs (a second final message) would come within seconds.
  await new Promise((resolve) => setTimeout(resolve, 10_000));

  const ends = await redactionEnds(scenario);
  for (const job of jobs) {
    const stamp = ends.get(job.spammer.userId);
    if (stamp !== undefined) job.endedAt = stamp;
  }
  const finals = jobs.map(
    (job) =>
      scenario.recorder.events.filter(
        (event) => event.sender === scenario.wardenUser.userId && repliesTo(event, job.commandEventId ?? "") && mentions(event).length > 0,
      ).length,
  );

  for (const line of scenario.allLogs().split("\n")) {
    if (!line.includes('"task status changed"')) continue;
    const entry = JSON.parse(line) as { taskId?: string; status?: string; time?: number };
    const job = jobs.find((candidate) => candidate.taskId === entry.taskId);
    if (job !== undefined && entry.time !== undefined && ["complete", "failed", "unknown"].includes(entry.status ?? "")) job.seenAt = entry.time;
  }

  const measured = jobs.filter((job) => job.endedAt !== undefined && job.finalAt !== undefined);
  const lags = measured.map((job) => (job.finalAt ?? 0) - (job.endedAt ?? 0));
  const lengths = measured.map((job) => (job.endedAt ?? 0) - (job.submittedAt ?? 0));
  const from = Math.min(...jobs.map((job) => job.submittedAt ?? Number.POSITIVE_INFINITY));
  const to = Math.max(...jobs.map((job) => job.finalAt ?? 0));
  const requests = statusRequests(scenario.synapse.logFile, scenario.wardenUser.userId, from, to);
  const total = [...requests.values()].reduce((sum, count) => sum + count, 0);
  const minutes = (to - from) / 60_000;

  console.log(`\njobs: ${String(measured.length)} of ${String(JOBS)} measured, ${String(MESSAGES)} messages each`);
  console.log(`job length (submitted to homeserver's end): min ${(Math.min(...lengths) / 1000).toFixed(1)} s, max ${(Math.max(...lengths) / 1000).toFixed(1)} s`);
  console.log(`lag, homeserver's end (timestamp_ms) to Warden's final message: ${lags.map((lag) => (lag / 1000).toFixed(2)).join(", ")} s`);
  console.log(`lag ${spread(lags)}`);
  const seen = measured.filter((job) => job.seenAt !== undefined).map((job) => (job.seenAt ?? 0) - (job.endedAt ?? 0));
  console.log(`of which Warden saw the end after: p50 ${(percentile(seen, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(seen, 0.95) / 1000).toFixed(2)} s (the rest is the progress edit and the final message)`);
  console.log(`final messages per job: ${finals.join(", ")}`);
  console.log(
    `status requests by Warden (Synapse's access log), ${minutes.toFixed(1)} min: ${String(total)} (${(total / minutes).toFixed(1)}/min) — ` +
      [...requests.entries()].map(([endpoint, count]) => `${endpoint} ${String(count)}`).join(", "),
  );
}

interface Takedown {
  readonly spammer: MatrixClient;
  commandEventId?: string;
  submittedAt?: number;
  id?: string;
  /** The redaction's end, the homeserver's clock. */
  redactionEndedAt?: number;
  /** When Warden's log says the tracker saw the redaction end, and when the takedown stored its redaction step as ended (Warden's clock; the same machine). */
  redactionSeenAt?: number;
  redactStepAt?: number;
  /** The last step's stored finish, and which step it was. */
  lastStepAt?: number;
  lastStep?: string;
  finalAt?: number;
}

/** Warden's final message for a takedown: the reply to its command whose record says so (a wave of its rooms mentions the requester too). */
function isTakedownFinal(event: ClientEvent, wardenUserId: string, commandEventId: string): boolean {
  if (event.sender !== wardenUserId || !repliesTo(event, commandEventId)) return false;
  const record = event.content["org.warden.record"];
  return record !== null && typeof record === "object" && (record as Record<string, unknown>)["type"] === "takedown-finished";
}

/** The takedowns as Warden stored them, read from its database while it runs (WAL: a reader does not disturb it). */
function storedTakedowns(scenario: Scenario): Map<string, TakedownRecord> {
  const database = new DatabaseSync(join(scenario.warden.dataDirectory, DATABASE_FILE), { readOnly: true });
  try {
    const records = new Map<string, TakedownRecord>();
    for (const row of database.prepare("SELECT id, record FROM takedowns").all()) {
      if (typeof row["id"] === "string" && typeof row["record"] === "string") records.set(row["id"], JSON.parse(row["record"]) as TakedownRecord);
    }
    return records;
  } finally {
    database.close();
  }
}

async function measureTakedowns(scenario: Scenario): Promise<void> {
  const takedowns: Takedown[] = [];
  const rooms: [MatrixClient, string][] = [];
  for (let index = 0; index < TAKEDOWNS; index++) {
    const spammer = new MatrixClient(scenario.synapse.baseUrl, await scenario.synapse.registerUser(`takedown${String(index)}`));
    takedowns.push({ spammer });
    // Two rooms each, made by the moderator, so the takedown redacts in rooms that are not theirs.
    for (let room = 0; room < 2; room++) {
      const roomId = await scenario.moderator.createRoom({ name: `community ${String(index)}.${String(room)}`, preset: "public_chat" });
      await spammer.joinRoom(roomId);
      rooms.push([spammer, roomId]);
    }
  }
  console.log(`\nfilling ${String(rooms.length)} rooms with ${String(TAKEDOWN_MESSAGES)} messages each (${String(TAKEDOWNS)} users, two rooms each)...`);
  await Promise.all(rooms.map(([spammer, roomId]) => fill(spammer, roomId, TAKEDOWN_MESSAGES)));

  const mark = scenario.recorder.mark();
  for (const takedown of takedowns) {
    const sent = await scenario.send(`!takedown ${takedown.spammer.userId} --yes${TAKEDOWN_FLAGS === "" ? "" : ` ${TAKEDOWN_FLAGS}`}`);
    takedown.commandEventId = sent.eventId;
    takedown.submittedAt = Date.now();
  }
  console.log(`${String(TAKEDOWNS)} takedowns submitted${TAKEDOWN_FLAGS === "" ? "" : ` with ${TAKEDOWN_FLAGS}`}; waiting for their final messages...`);
  await Promise.all(
    takedowns.map(async (takedown) => {
      const final = await scenario.recorder.waitFor((event) => isTakedownFinal(event, scenario.wardenUser.userId, takedown.commandEventId ?? ""), {
        from: mark,
        timeoutMs: FINAL_TIMEOUT_MS,
        what: `ending the takedown of ${takedown.spammer.userId}`,
      });
      takedown.finalAt = final.origin_server_ts;
      const record = final.content["org.warden.record"] as Record<string, unknown>;
      if (typeof record["id"] === "string") takedown.id = record["id"];
      if (!/ 0 failed\./.test(bodyOf(final).split("\n")[0] ?? "")) console.log(`  takedown of ${takedown.spammer.userId} did not end well: ${bodyOf(final).split("\n")[0] ?? ""}`);
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 10_000));

  const ends = await redactionEnds(scenario);
  const stored = storedTakedowns(scenario);
  for (const takedown of takedowns) {
    const end = ends.get(takedown.spammer.userId);
    if (end !== undefined) takedown.redactionEndedAt = end;
    const record = takedown.id === undefined ? undefined : stored.get(takedown.id);
    for (const step of record?.users[0]?.steps ?? []) {
      if (step.name === "redact" && step.finishedAt !== undefined) takedown.redactStepAt = step.finishedAt;
      if (step.finishedAt !== undefined && (takedown.lastStepAt === undefined || step.finishedAt >= takedown.lastStepAt)) {
        takedown.lastStepAt = step.finishedAt;
        takedown.lastStep = `${step.name} (${step.state})`;
      }
    }
    const taskId = record?.users[0]?.steps.find((step) => step.name === "redact")?.taskId;
    for (const line of scenario.allLogs().split("\n")) {
      if (taskId === undefined || !line.includes('"task status changed"')) continue;
      const entry = JSON.parse(line) as { taskId?: string; status?: string; time?: number };
      if (entry.taskId === taskId && entry.time !== undefined && ["complete", "failed", "unknown"].includes(entry.status ?? "")) takedown.redactionSeenAt = entry.time;
    }
  }
  const finals = takedowns.map(
    (takedown) => scenario.recorder.events.filter((event) => isTakedownFinal(event, scenario.wardenUser.userId, takedown.commandEventId ?? "")).length,
  );
  // A step is stored as ended once; one ended twice was run twice.
  const stepEnds = new Map<string, number>();
  for (const line of scenario.allLogs().split("\n")) {
    if (!line.includes('"takedown step ended"')) continue;
    const entry = JSON.parse(line) as { takedownId?: string; step?: string };
    const key = `${entry.takedownId ?? "?"} ${entry.step ?? "?"}`;
    stepEnds.set(key, (stepEnds.get(key) ?? 0) + 1);
  }
  const repeated = [...stepEnds.entries()].filter(([, count]) => count > 1).map(([key, count]) => `${key} ×${String(count)}`);

  /** Per takedown, the time from one moment to another, where both are known. */
  const between = (from: keyof Takedown, to: keyof Takedown): number[] =>
    takedowns.flatMap((t) => {
      const start = t[from];
      const end = t[to];
      return typeof start === "number" && typeof end === "number" ? [end - start] : [];
    });
  const fromRedaction = between("redactionEndedAt", "finalAt");
  const trackerSaw = between("redactionEndedAt", "redactionSeenAt");
  const stepStored = between("redactionSeenAt", "redactStepAt");
  const fromLastStep = between("lastStepAt", "finalAt");
  const lengths = between("submittedAt", "finalAt");
  const from = Math.min(...takedowns.map((t) => t.submittedAt ?? Number.POSITIVE_INFINITY));
  const to = Math.max(...takedowns.map((t) => t.finalAt ?? 0));
  const requests = statusRequests(scenario.synapse.logFile, scenario.wardenUser.userId, from, to);
  const total = [...requests.values()].reduce((sum, count) => sum + count, 0);
  const minutes = (to - from) / 60_000;
  const lastSteps = [...new Set(takedowns.map((t) => t.lastStep ?? "?"))].join(", ");

  console.log(`\ntakedowns: ${String(fromRedaction.length)} of ${String(TAKEDOWNS)} measured, ${String(TAKEDOWN_MESSAGES)} messages in each of two rooms; last step stored: ${lastSteps}`);
  console.log(`takedown length (command to final message): min ${seconds(Math.min(...lengths))} s, max ${seconds(Math.max(...lengths))} s`);
  console.log(`lag, redaction's end on the homeserver (timestamp_ms) to the final message: ${fromRedaction.map(seconds).join(", ")} s`);
  console.log(`lag ${spread(fromRedaction)}`);
  console.log(`of which the tracker saw the redaction's end after: ${spread(trackerSaw)}`);
  console.log(`and the takedown stored its redaction step as ended a further: ${spread(stepStored)} (the takedown runner's pass after the end)`);
  console.log(`lag, last step's stored finish to the final message: ${spread(fromLastStep)} (the takedown recorded as finished and its final message sent)`);
  console.log(`final messages per takedown: ${finals.join(", ")}`);
  console.log(`steps ended more than once (Warden's log): ${repeated.length === 0 ? "none" : repeated.join(", ")}`);
  console.log(
    `status requests by Warden (Synapse's access log), ${minutes.toFixed(1)} min: ${String(total)} (${(total / minutes).toFixed(1)}/min) — ` +
      [...requests.entries()].map(([endpoint, count]) => `${endpoint} ${String(count)}`).join(", "),
  );
}

async function measure(scenario: Scenario): Promise<void> {
  if (ONLY !== "takedowns") await measureJobs(scenario);
  if (ONLY !== "jobs") await measureTakedowns(scenario);
  console.log("");
  printTargets();
}

async function main(): Promise<void> {
  const scenario = await startScenario();
  const stop = (): void => {
    void scenario.stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    await measure(scenario);
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    await scenario.stop();
  }
}

await main();
