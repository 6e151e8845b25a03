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
 */
import { MatrixClient } from "../scripts/harness/client.js";
import { bodyOf } from "../scripts/harness/roomRecorder.js";
import { mentions, repliesTo, startScenario, type Scenario } from "../test/e2e/scenario.js";
import { countRequests, percentile } from "./measure.js";

const JOBS = Number(process.env["BENCH_LAG_JOBS"] ?? 6);
const MESSAGES = Number(process.env["BENCH_LAG_MESSAGES"] ?? 250);
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

async function fill(job: Job): Promise<void> {
  for (let sent = 0; sent < MESSAGES; sent += SEND_PARALLEL) {
    const batch = Array.from({ length: Math.min(SEND_PARALLEL, MESSAGES - sent) }, (_, index) => `spam ${String(sent + index)}`);
    await Promise.all(batch.map((text) => job.spammer.sendText(job.roomId, text)));
  }
}

async function measure(scenario: Scenario): Promise<void> {
  const jobs: Job[] = [];
  for (let index = 0; index < JOBS; index++) {
    const spammer = new MatrixClient(scenario.synapse.baseUrl, await scenario.synapse.registerUser(`flooder${String(index)}`));
    jobs.push({ spammer, roomId: await spammer.createRoom({ name: `flood ${String(index)}`, preset: "public_chat" }) });
  }
  console.log(`filling ${String(JOBS)} rooms with ${String(MESSAGES)} messages each...`);
  await Promise.all(jobs.map(fill));

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

  const tasks = await scenario.admin.adminScheduledTasks();
  for (const job of jobs) {
    const task = tasks.find((entry) => entry.action === "redact_all_events" && entry.resource_id === job.spammer.userId);
    const stamp = task?.["timestamp_ms"];
    if (typeof stamp === "number") job.endedAt = stamp;
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
  console.log(`lag p50 ${(percentile(lags, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(lags, 0.95) / 1000).toFixed(2)} s`);
  const seen = measured.filter((job) => job.seenAt !== undefined).map((job) => (job.seenAt ?? 0) - (job.endedAt ?? 0));
  console.log(`of which Warden saw the end after: p50 ${(percentile(seen, 0.5) / 1000).toFixed(2)} s, p95 ${(percentile(seen, 0.95) / 1000).toFixed(2)} s (the rest is the progress edit and the final message)`);
  console.log(`final messages per job: ${finals.join(", ")}`);
  console.log(
    `status requests by Warden (Synapse's access log), ${minutes.toFixed(1)} min: ${String(total)} (${(total / minutes).toFixed(1)}/min) — ` +
      [...requests.entries()].map(([endpoint, count]) => `${endpoint} ${String(count)}`).join(", "),
  );
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
