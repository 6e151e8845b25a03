/**
 * `npm run bench:wave`: purging many rooms on a real Synapse, four ways, in one run on one
 * fresh homeserver:
 *   (a) every purge request at once, then polling all of them every 0.5 s (synadm, a web UI);
 *   (b) one room at a time, polling each every 0.5 s until it ends (a shell loop);
 *   (c) a Warden wave with `maxConcurrentJobs: 5`;
 *   (d) a Warden wave with the default concurrency (2).
 *
 * Each method gets its own N rooms (a purged room has nothing left to purge), named
 * `benchwave-<method>-<i>` so that `--matching benchwave-c` selects exactly one set, each with
 * BENCH_WAVE_MESSAGES messages before one purge point and one message after it. Every method
 * purges up to that message (the first event at or after the point, where Warden's own time
 * resolution lands too) with local events deleted, so all four do the same work.
 *
 * Wall time: (a) and (b) from the first request to the poll that saw the last purge end; a
 * wave from the command's origin_server_ts to that of Warden's final summary (the message that
 * replies to the command and mentions the moderator). During a wave a `!status` goes out every
 * 0.5 s and its acknowledgement time is Synapse's stamp of the reply minus that of the command.
 * Warden's requests are counted in Synapse's access log, its RSS read from /proc.
 *
 * BENCH_WAVE_ROOMS (default 200) and BENCH_WAVE_MESSAGES (default 30) size the run;
 * BENCH_WAVE_ONLY=a,b runs a subset. Exits non-zero only when something broke (a room not
 * purged, Warden not answering); a target not met is a measurement, printed as such.
 */
import { readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { MatrixClient, type ClientEvent } from "../scripts/harness/client.js";
import { bodyOf } from "../scripts/harness/roomRecorder.js";
import { startSynapse, type RunningSynapse } from "../scripts/harness/synapse.js";
import { mentions, pointAfterNow, repliesTo, startScenario, type Scenario } from "../test/e2e/scenario.js";
import { countRequests, percentile, total } from "./measure.js";

const METHODS = ["a", "b", "c", "d"] as const;
type Method = (typeof METHODS)[number];
type WaveMethod = "c" | "d";

const LABELS: Readonly<Record<Method, string>> = {
  a: "(a) fire-all, then poll all",
  b: "(b) one at a time",
  c: "(c) Warden wave, maxConcurrentJobs 5",
  d: "(d) Warden wave, default (2)",
};
/** Warden's config for each wave; (d) leaves the key out to measure the default. */
const WAVE_CONFIG: Readonly<Record<WaveMethod, Readonly<Record<string, unknown>>>> = { c: { maxConcurrentJobs: 5 }, d: {} };

const POLL_MS = 500;
const PROBE_MS = 500;
/** Rooms created and filled at once; Synapse serialises events per room, so rooms are what parallelise. */
const CREATE_PARALLEL = 6;
/** Messages sent into one room at once: Synapse then persists them in fewer transactions. */
const SEND_PARALLEL = 5;
const SAMPLE_ROOMS = 3;
/** After Warden's first answer, how long a wave may take to hand its first purge to the homeserver. */
const FIRST_PURGE_WITHIN_MS = 30_000;
const PROBE_REPLY_WITHIN_MS = 30_000;
const IDLE_BEFORE_RSS_MS = 3_000;

const TARGET_VS_A = 1.1;
const TARGET_VS_B = 0.5;
const TARGET_ACK_P95_MS = 1_000;
const TARGET_RSS_GROWTH_MB = 30;

function positiveInteger(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === "") return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be a whole number of 1 or more, not ${JSON.stringify(text)}`);
  return value;
}

function selectedMethods(): readonly Method[] {
  const text = process.env["BENCH_WAVE_ONLY"];
  if (text === undefined || text.trim() === "") return METHODS;
  const chosen = text.split(",").map((word) => word.trim().toLowerCase());
  const unknown = chosen.filter((word) => !(METHODS as readonly string[]).includes(word));
  if (unknown.length > 0) throw new Error(`BENCH_WAVE_ONLY takes a comma-separated subset of ${METHODS.join(",")}, not ${unknown.join(",")}`);
  return METHODS.filter((method) => chosen.includes(method));
}

const ROOMS = positiveInteger("BENCH_WAVE_ROOMS", 200);
const MESSAGES = positiveInteger("BENCH_WAVE_MESSAGES", 30);
const ONLY = selectedMethods();

interface BenchRoom {
  readonly roomId: string;
  readonly name: string;
  /** The message sent after the purge point: every method purges up to it, and it stays. */
  keptEventId: string;
}

interface WaveMeasures {
  /** Command to the homeserver's end of its last purge (scheduled_tasks' timestamp_ms). */
  readonly homeserverDoneMs: number;
  readonly acksMs: readonly number[];
  readonly probes: number;
  readonly adminRequests: ReadonlyMap<string, number>;
  readonly clientRequests: number;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  /** Messages that reply to the command and mention the moderator: the contract says one. */
  readonly finals: number;
  /** Purge jobs beyond one per room (retries). */
  readonly extraJobs: number;
  readonly finalText: string;
}

interface Row {
  readonly method: Method;
  readonly wallMs: number;
  /** (a) and (b): requests the bench itself sent. */
  readonly requests?: number;
  readonly wave?: WaveMeasures;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function pool<T>(items: readonly T[], parallel: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let item = items[next++]; item !== undefined; item = items[next++]) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker));
}

async function createRooms(owner: MatrixClient, method: Method): Promise<BenchRoom[]> {
  const names = Array.from({ length: ROOMS }, (_, index) => `benchwave-${method}-${String(index)}`);
  const rooms: BenchRoom[] = [];
  await pool(names, CREATE_PARALLEL, async (name) => {
    const roomId = await owner.createRoom({ name, preset: "private_chat" });
    for (let sent = 0; sent < MESSAGES; sent += SEND_PARALLEL) {
      const batch = Array.from({ length: Math.min(SEND_PARALLEL, MESSAGES - sent) }, (_, index) => `filler ${String(sent + index)} of ${name}`);
      await Promise.all(batch.map((text) => owner.sendText(roomId, text)));
    }
    rooms.push({ roomId, name, keptEventId: "" });
  });
  return rooms;
}

/** What the homeserver still holds of a purged room: no filler left, the kept message still there. */
async function checkPurged(admin: MatrixClient, rooms: readonly BenchRoom[]): Promise<void> {
  const samples = [rooms[0], rooms[Math.floor(rooms.length / 2)], rooms[rooms.length - 1]].slice(0, Math.min(SAMPLE_ROOMS, rooms.length));
  for (const room of new Set(samples)) {
    if (room === undefined) continue;
    const events = await admin.adminRoomMessages(room.roomId);
    const fillers = events.filter((event) => bodyOf(event).startsWith("filler ")).length;
    const kept = events.some((event) => event.event_id === room.keptEventId);
    if (fillers > 0 || !kept) {
      throw new Error(`${room.name} (${room.roomId}) was not purged as asked: ${String(fillers)} filler message(s) left, kept message ${kept ? "present" : "missing"}`);
    }
  }
}

/** (a): every purge request at once, then every 0.5 s a status request for each purge still running. */
async function fireAll(admin: MatrixClient, rooms: readonly BenchRoom[]): Promise<Row> {
  const started = Date.now();
  const purgeIds = await Promise.all(rooms.map((room) => admin.adminPurgeHistory(room.roomId, room.keptEventId, true)));
  let requests = rooms.length;
  let running = purgeIds.map((purgeId, index) => ({ purgeId, room: rooms[index] }));
  const failures: string[] = [];
  while (running.length > 0) {
    await sleep(POLL_MS);
    const statuses = await Promise.all(running.map((purge) => admin.adminPurgeStatus(purge.purgeId)));
    requests += running.length;
    statuses.forEach((status, index) => {
      if (status.status === "failed") failures.push(`${running[index]?.room?.name ?? "?"}: ${status.error ?? "failed"}`);
    });
    running = running.filter((_, index) => statuses[index]?.status === "active");
  }
  const wallMs = Date.now() - started;
  if (failures.length > 0) throw new Error(`${String(failures.length)} purge(s) failed: ${failures.slice(0, 5).join("; ")}`);
  return { method: "a", wallMs, requests };
}

/** (b): one purge, polled every 0.5 s until it ends, then the next. */
async function oneAtATime(admin: MatrixClient, rooms: readonly BenchRoom[]): Promise<Row> {
  const started = Date.now();
  let requests = 0;
  for (const room of rooms) {
    const purgeId = await admin.adminPurgeHistory(room.roomId, room.keptEventId, true);
    requests++;
    for (;;) {
      await sleep(POLL_MS);
      const status = await admin.adminPurgeStatus(purgeId);
      requests++;
      if (status.status === "failed") throw new Error(`the purge of ${room.name} failed: ${status.error ?? "no reason given"}`);
      if (status.status !== "active") break;
    }
  }
  return { method: "b", wallMs: Date.now() - started, requests };
}

/** The Warden process's pid: the one node process started with its config file. */
function wardenPid(configFile: string): number {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(configFile)) return Number(entry);
    } catch {
      // The process ended while the directory was read.
    }
  }
  throw new Error(`no process runs Warden with ${configFile}`);
}

function rssMb(pid: number): number {
  const kilobytes = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"))?.[1];
  if (kilobytes === undefined) throw new Error(`no VmRSS for process ${String(pid)}`);
  return Number(kilobytes) / 1024;
}

/** Names each access-log line by what it asks; undefined for a line without a request. */
function endpointFamily(line: string): string | undefined {
  const uri = /"[A-Z]+ (\S+) HTTP\/[\d.]+"/.exec(line)?.[1];
  if (uri === undefined) return undefined;
  if (uri.includes("/purge_history_status/")) return "purge_history_status";
  if (uri.includes("/purge_history/")) return "purge_history";
  if (uri.includes("/scheduled_tasks")) return "scheduled_tasks";
  if (uri.includes("/timestamp_to_event")) return "timestamp_to_event";
  if (/^\/_synapse\/admin\/v\d\/rooms(\?|$)/.test(uri)) return "rooms list";
  if (/^\/_synapse\/admin\//.test(uri)) return "other admin";
  return "client";
}

/** Resolves once the homeserver has a purge task for one of `rooms`; rejects when none comes in time. */
async function firstPurgeStarted(admin: MatrixClient, rooms: readonly BenchRoom[], answer: ClientEvent): Promise<void> {
  const ids = new Set(rooms.map((room) => room.roomId));
  const deadline = Date.now() + FIRST_PURGE_WITHIN_MS;
  while (Date.now() < deadline) {
    const tasks = await admin.adminScheduledTasks();
    if (tasks.some((task) => task.action === "purge_history" && ids.has(task.resource_id ?? ""))) return;
    await sleep(2_000);
  }
  throw new Error(`Warden started no purge within ${String(FIRST_PURGE_WITHIN_MS / 1000)} s of its answer; it said:\n${bodyOf(answer)}`);
}

/**
 * Checks with the homeserver that every room's purge ended well before Warden's summary said so.
 * A room may have more than one purge (Warden retried a failed one); one complete is enough.
 * Returns when the last purge ended (epoch ms) and how many extra jobs were sent.
 */
async function homeserverOutcome(admin: MatrixClient, rooms: readonly BenchRoom[], summaryAt: number): Promise<{ lastEnd: number; extraJobs: number }> {
  const tasks = (await admin.adminScheduledTasks()).filter((task) => task.action === "purge_history");
  const problems: string[] = [];
  let lastEnd = 0;
  let extraJobs = 0;
  for (const room of rooms) {
    const own = tasks.filter((task) => task.resource_id === room.roomId);
    extraJobs += Math.max(0, own.length - 1);
    const ends = own.map((task) => task["timestamp_ms"]).filter((stamp): stamp is number => typeof stamp === "number");
    lastEnd = Math.max(lastEnd, ...ends);
    if (own.length === 0) problems.push(`${room.name}: never purged`);
    else if (!own.some((task) => task.status === "complete")) problems.push(`${room.name}: purge ${own.map((task) => task.status).join(", ")}`);
    else if (Math.max(...ends) > summaryAt) problems.push(`${room.name}: its purge ended after the wave's summary`);
  }
  if (problems.length > 0) throw new Error(`${String(problems.length)} room(s) not purged when the wave's summary came: ${problems.slice(0, 8).join("; ")}`);
  return { lastEnd, extraJobs };
}

async function wardenWave(scenario: Scenario, admin: MatrixClient, method: WaveMethod, rooms: readonly BenchRoom[], point: number): Promise<Row> {
  const { recorder, synapse, wardenUser } = scenario;
  await sleep(IDLE_BEFORE_RSS_MS);
  const pid = wardenPid(scenario.warden.configFile);
  const rssBeforeMb = rssMb(pid);
  const timeoutMs = Math.max(10 * 60_000, ROOMS * 5_000);

  const windowStart = Date.now();
  const command = await scenario.send(`!purge --matching benchwave-${method} --local ${new Date(point).toISOString()} --yes`);
  const probing = new AbortController();
  const probeIds: string[] = [];
  const prober = (async () => {
    while (!probing.signal.aborted) {
      probeIds.push((await scenario.send("!status")).eventId);
      await sleep(PROBE_MS);
    }
  })();
  const stopProbing = async (): Promise<void> => {
    probing.abort();
    await prober;
  };

  let final: ClientEvent;
  try {
    const answer = await scenario.replyTo(command.eventId, command.mark, 60_000);
    // A refused command never ends in a summary: notice that instead of waiting out the timeout.
    const summary = scenario.finalFor(command.eventId, command.mark, timeoutMs);
    final = await Promise.race([firstPurgeStarted(admin, rooms, answer).then(() => summary), summary]);
  } finally {
    await stopProbing();
  }
  const windowEnd = Date.now();
  const rssAfterMb = rssMb(pid);
  const sent = await recorder.waitFor((event) => event.event_id === command.eventId, { from: command.mark, what: "the command itself" });

  const probeEvents = await Promise.all(probeIds.map((id) => recorder.waitFor((event) => event.event_id === id, { from: command.mark, what: `probe ${id}` })));
  // An unanswered probe is left out here and counted as missing in the report.
  const replies = await Promise.allSettled(probeEvents.map((probe) => scenario.replyTo(probe.event_id, command.mark, PROBE_REPLY_WITHIN_MS)));
  const acksMs = replies.flatMap((reply, index) =>
    reply.status === "fulfilled" ? [reply.value.origin_server_ts - (probeEvents[index]?.origin_server_ts ?? Number.NaN)] : [],
  );
  // Synapse writes an access line when it has answered; give the last ones a moment.
  await sleep(1_000);
  const families = countRequests(synapse.logFile, wardenUser.userId, windowStart, windowEnd, endpointFamily);
  const clientRequests = families.get("client") ?? 0;
  families.delete("client");

  const { lastEnd, extraJobs } = await homeserverOutcome(admin, rooms, final.origin_server_ts);
  await checkPurged(admin, rooms);
  const finals = recorder.events.filter((event) => event.sender === wardenUser.userId && repliesTo(event, command.eventId) && mentions(event).length > 0).length;
  return {
    method,
    wallMs: final.origin_server_ts - sent.origin_server_ts,
    wave: {
      homeserverDoneMs: lastEnd - sent.origin_server_ts,
      acksMs,
      probes: probeEvents.length,
      adminRequests: families,
      clientRequests,
      rssBeforeMb,
      rssAfterMb,
      finals,
      extraJobs,
      finalText: bodyOf(final).split("\n")[0] ?? "",
    },
  };
}

const seconds = (ms: number): string => (ms / 1000).toFixed(1);
const ratio = (value: number, base: number | undefined): string => (base === undefined ? "–" : `${(value / base).toFixed(2)} ×`);
const met = (ok: boolean): string => (ok ? "met" : "NOT met");

function report(rows: readonly Row[], broken: ReadonlyMap<Method, string>): void {
  const wallOf = (method: Method): number | undefined => rows.find((row) => row.method === method)?.wallMs;
  const a = wallOf("a");
  const b = wallOf("b");
  console.log(`\n### Purging ${String(ROOMS)} rooms of ${String(MESSAGES)} messages on one Synapse\n`);
  console.log("| method | wall time (s) | ratio to (a) | ratio to (b) |");
  console.log("|---|---:|---:|---:|");
  for (const method of ONLY) {
    const row = rows.find((candidate) => candidate.method === method);
    if (row === undefined) console.log(`| ${LABELS[method]} | broken | – | – |`);
    else console.log(`| ${LABELS[method]} | ${seconds(row.wallMs)} | ${ratio(row.wallMs, a)} | ${ratio(row.wallMs, b)} |`);
  }
  for (const row of rows) {
    if (row.requests !== undefined) console.log(`\n${LABELS[row.method]}: ${String(row.requests)} admin requests`);
  }

  const waves = rows.filter((row) => row.wave !== undefined);
  if (waves.length > 0) {
    console.log("\n| wave | homeserver done (s) | ack p50 (ms) | ack p95 (ms) | probes answered | admin requests (incl. timestamp_to_event) | RSS before (MB) | RSS after (MB) | RSS growth (MB) |");
    console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (const { method, wave } of waves) {
      if (wave === undefined) continue;
      console.log(
        `| ${LABELS[method]} | ${seconds(wave.homeserverDoneMs)} | ${percentile(wave.acksMs, 0.5).toFixed(0)} | ${percentile(wave.acksMs, 0.95).toFixed(0)} | ` +
          `${String(wave.acksMs.length)} of ${String(wave.probes)} | ${String(total(wave.adminRequests))} | ${wave.rssBeforeMb.toFixed(1)} | ${wave.rssAfterMb.toFixed(1)} | ${(wave.rssAfterMb - wave.rssBeforeMb).toFixed(1)} |`,
      );
    }
    for (const { method, wave } of waves) {
      if (wave === undefined) continue;
      const byFamily = [...wave.adminRequests.entries()].sort(([, x], [, y]) => y - x).map(([family, count]) => `${family} ${String(count)}`);
      console.log(`\n${LABELS[method]}: admin requests ${byFamily.join(", ") || "none"}; client API (sync, messages, edits) ${String(wave.clientRequests)}`);
      console.log(`  final summary: ${wave.finalText}`);
      if (wave.extraJobs > 0) console.log(`  note: ${String(wave.extraJobs)} purge jobs beyond one per room (retries)`);
      if (wave.finals !== 1) console.log(`  note: ${String(wave.finals)} messages replied to the command mentioning the moderator; the wave promises one`);
    }
  }

  const c = rows.find((row) => row.method === "c");
  console.log("\nTargets (maxConcurrentJobs 5):");
  if (c?.wave === undefined) {
    console.log("- not measured: (c) did not run or broke");
  } else {
    const p95 = percentile(c.wave.acksMs, 0.95);
    const growth = c.wave.rssAfterMb - c.wave.rssBeforeMb;
    const missing = c.wave.probes - c.wave.acksMs.length;
    console.log(a === undefined ? "- (c) ≤ 1.1 × (a): not measured" : `- (c) ≤ ${String(TARGET_VS_A)} × (a): ${ratio(c.wallMs, a)}, ${met(c.wallMs <= TARGET_VS_A * a)}`);
    console.log(b === undefined ? "- (c) ≤ 0.5 × (b): not measured" : `- (c) ≤ ${String(TARGET_VS_B)} × (b): ${ratio(c.wallMs, b)}, ${met(c.wallMs <= TARGET_VS_B * b)}`);
    console.log(`- acknowledgement p95 ≤ 1 s during the wave: ${p95.toFixed(0)} ms${missing > 0 ? ` (${String(missing)} unanswered)` : ""}, ${met(p95 <= TARGET_ACK_P95_MS && missing === 0)}`);
    console.log(`- RSS growth ≤ ${String(TARGET_RSS_GROWTH_MB)} MB: ${growth.toFixed(1)} MB, ${met(growth <= TARGET_RSS_GROWTH_MB)}`);
  }
  for (const [method, why] of broken) console.log(`\nBROKEN ${LABELS[method]}: ${why}`);
}

async function measure(synapse: RunningSynapse, started: (scenario: Scenario) => void): Promise<ReadonlyMap<Method, string>> {
  const admin = new MatrixClient(synapse.baseUrl, await synapse.registerUser("benchadmin", { admin: true }));
  const owner = new MatrixClient(synapse.baseUrl, await synapse.registerUser("benchowner"));
  console.log(`Synapse at ${synapse.baseUrl}; ${String(cpus().length)} cores, load ${loadavg().map((load) => load.toFixed(2)).join(" ")}`);
  console.log(`creating ${String(ONLY.length)} × ${String(ROOMS)} rooms of ${String(MESSAGES)} messages (${ONLY.join(", ")})...`);
  const creating = Date.now();
  const sets = new Map<Method, BenchRoom[]>();
  for (const method of ONLY) sets.set(method, await createRooms(owner, method));
  const point = await pointAfterNow();
  const all = [...sets.values()].flat();
  await pool(all, CREATE_PARALLEL, async (room) => {
    room.keptEventId = await owner.sendText(room.roomId, `after the point in ${room.name}`);
  });
  console.log(`created in ${seconds(Date.now() - creating)} s; purge point ${new Date(point).toISOString()}`);

  const rows: Row[] = [];
  const broken = new Map<Method, string>();
  const wardenConfig: Record<string, unknown> = {};
  let scenario: Scenario | undefined;
  for (const method of ONLY) {
    const rooms = sets.get(method) ?? [];
    console.log(`${LABELS[method]}...`);
    try {
      let row: Row;
      if (method === "a" || method === "b") {
        row = method === "a" ? await fireAll(admin, rooms) : await oneAtATime(admin, rooms);
        await checkPurged(admin, rooms);
      } else {
        // Started only now, so it is not there to add load while (a) and (b) run, first with
        // the default config: a config this Warden refuses then breaks one row, not the
        // scenario. startWarden reads `wardenConfig` at each start; each wave gets its own
        // fresh Warden (and data directory) with its own config.
        if (scenario === undefined) {
          scenario = await startScenario({ synapse, extraConfig: wardenConfig });
          started(scenario);
        }
        await scenario.warden.stop();
        for (const key of Object.keys(wardenConfig)) Reflect.deleteProperty(wardenConfig, key);
        Object.assign(wardenConfig, WAVE_CONFIG[method]);
        await scenario.startWarden();
        row = await wardenWave(scenario, admin, method, rooms, point);
      }
      rows.push(row);
      console.log(`  ${seconds(row.wallMs)} s`);
    } catch (error) {
      broken.set(method, error instanceof Error ? error.message : String(error));
      console.log(`  broken: ${broken.get(method) ?? ""}`);
    }
  }
  report(rows, broken);
  return broken;
}

async function main(): Promise<void> {
  const synapse = await startSynapse();
  let scenario: Scenario | undefined;
  const shutdown = (): Promise<void> => (scenario === undefined ? synapse.stop() : scenario.stop());
  const interrupted = (): void => {
    void shutdown().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  try {
    const broken = await measure(synapse, (started) => {
      scenario = started;
    });
    if (broken.size > 0) process.exitCode = 1;
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await shutdown();
  }
  // A wait still pending on the recorder (a summary that never came) would hold the process until its timeout.
  process.exit();
}

await main();
