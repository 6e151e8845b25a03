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
 * Throughout, an ordinary user reads a busy room nobody purges (bench/userLatency.ts): its
 * /messages and /sync times during each method's window are set against the same user's on the
 * idle homeserver, measured first, before any method runs.
 *
 * All of it once on Synapse with SQLite and once with PostgreSQL (a throwaway cluster, as the
 * e2e suite's), each on a fresh homeserver, each with its own table.
 *
 * BENCH_WAVE_ROOMS (default 200) and BENCH_WAVE_MESSAGES (default 30) size the run;
 * BENCH_WAVE_ONLY=a,b runs a subset of the methods, BENCH_WAVE_DATABASES=postgres one of the
 * databases. Exits non-zero only when something broke (a room not purged, Warden not
 * answering, a homeserver that did not start); a target not met is a measurement, printed as such.
 */
import { cpus, loadavg } from "node:os";
import { MatrixClient, type ClientEvent } from "../scripts/harness/client.js";
import { postgresVersion, startPostgresCluster, type PostgresCluster, type PostgresServer } from "../scripts/harness/postgres.js";
import { bodyOf } from "../scripts/harness/roomRecorder.js";
import { startSynapse, type RunningSynapse } from "../scripts/harness/synapse.js";
import { mentions, pointAfterNow, repliesTo, startScenario, type Scenario } from "../test/e2e/scenario.js";
import { countRequests, percentile, total } from "./measure.js";
import { startUserSampler, userLatency, type UserSampler } from "./userLatency.js";
import {
  DATABASE_NAMES,
  failureNotes,
  LABELS,
  methodTable,
  ratio,
  selectedDatabases,
  selectedMethods,
  targetLines,
  type Database,
  type Method,
  type MethodOutcome,
} from "./waveReport.js";
import { rssMb, wardenPid } from "./procfs.js";

type WaveMethod = "c" | "d";
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
/** The busy room's history before the user starts reading it: more than one /messages page. */
const BUSY_ROOM_MESSAGES = 200;
/** Before the idle baseline: Synapse's background work after creating the rooms (statistics, the user directory) settles. */
const SETTLE_MS = 5_000;
/** The idle baseline's length: about 60 samples of each request at 0.25 s. */
const IDLE_MS = 15_000;

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

const ROOMS = positiveInteger("BENCH_WAVE_ROOMS", 200);
const MESSAGES = positiveInteger("BENCH_WAVE_MESSAGES", 30);
const ONLY = selectedMethods(process.env);
const DATABASES = selectedDatabases(process.env);

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

/** Epoch ms, this machine's clock. */
interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

interface Row {
  readonly method: Method;
  readonly wallMs: number;
  /** While the method ran: the user's samples sent in it count for it. */
  readonly window: TimeWindow;
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
  const ended = Date.now();
  if (failures.length > 0) throw new Error(`${String(failures.length)} purge(s) failed: ${failures.slice(0, 5).join("; ")}`);
  return { method: "a", wallMs: ended - started, window: { from: started, to: ended }, requests };
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
  const ended = Date.now();
  return { method: "b", wallMs: ended - started, window: { from: started, to: ended }, requests };
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
    window: { from: windowStart, to: windowEnd },
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
const met = (ok: boolean): string => (ok ? "met" : "NOT met");
const load = (): string => loadavg().map((value) => value.toFixed(2)).join(" ");

function report(homeserver: string, rows: readonly Row[], broken: ReadonlyMap<Method, string>, sampler: UserSampler, idle: TimeWindow): void {
  const b = rows.find((row) => row.method === "b")?.wallMs;
  const outcomes = new Map<Method, MethodOutcome>(
    rows.map((row) => [row.method, { wallMs: row.wallMs, user: userLatency(sampler.samples, row.window.from, row.window.to) }]),
  );
  const idleLatency = userLatency(sampler.samples, idle.from, idle.to);
  console.log(`\n### ${homeserver}: purging ${String(ROOMS)} rooms of ${String(MESSAGES)} messages (load now ${load()})\n`);
  for (const line of methodTable(ONLY, outcomes, idleLatency, idle.to - idle.from)) console.log(line);
  for (const line of failureNotes(ONLY, outcomes, idleLatency)) console.log(`\n${line}`);
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

  console.log(`\nTargets on ${homeserver} (the issue sets the first two on PostgreSQL):`);
  for (const line of targetLines(outcomes, idleLatency)) console.log(line);
  const c = rows.find((row) => row.method === "c");
  if (c?.wave === undefined) {
    console.log("- (c)'s own targets not measured: (c) did not run or broke");
  } else {
    const p95 = percentile(c.wave.acksMs, 0.95);
    const growth = c.wave.rssAfterMb - c.wave.rssBeforeMb;
    const missing = c.wave.probes - c.wave.acksMs.length;
    console.log(b === undefined ? "- (c) ≤ 0.5 × (b): not measured" : `- (c) ≤ ${String(TARGET_VS_B)} × (b): ${ratio(c.wallMs, b)}, ${met(c.wallMs <= TARGET_VS_B * b)}`);
    console.log(`- acknowledgement p95 ≤ 1 s during (c): ${p95.toFixed(0)} ms${missing > 0 ? ` (${String(missing)} unanswered)` : ""}, ${met(p95 <= TARGET_ACK_P95_MS && missing === 0)}`);
    console.log(`- RSS growth ≤ ${String(TARGET_RSS_GROWTH_MB)} MB during (c): ${growth.toFixed(1)} MB, ${met(growth <= TARGET_RSS_GROWTH_MB)}`);
  }
  for (const [method, why] of broken) console.log(`\nBROKEN ${LABELS[method]}: ${why}`);
}

/** The room the ordinary user reads: `user` made it, `owner` filled it and keeps talking in it; no method purges it. */
async function busyRoom(user: MatrixClient, owner: MatrixClient): Promise<string> {
  // Not named benchwave-…: a wave's --matching must never select it.
  const roomId = await user.createRoom({ name: "bench busy room, not purged", preset: "public_chat" });
  await owner.joinRoom(roomId);
  for (let sent = 0; sent < BUSY_ROOM_MESSAGES; sent += SEND_PARALLEL) {
    const batch = Array.from({ length: Math.min(SEND_PARALLEL, BUSY_ROOM_MESSAGES - sent) }, (_, index) => `history ${String(sent + index)}`);
    await Promise.all(batch.map((text) => owner.sendText(roomId, text)));
  }
  return roomId;
}

async function measure(synapse: RunningSynapse, databaseName: string, started: (scenario: Scenario) => void): Promise<ReadonlyMap<Method, string>> {
  const admin = new MatrixClient(synapse.baseUrl, await synapse.registerUser("benchadmin", { admin: true }));
  const owner = new MatrixClient(synapse.baseUrl, await synapse.registerUser("benchowner"));
  const user = new MatrixClient(synapse.baseUrl, await synapse.registerUser("benchuser"));
  // Synapse adds the git branch and commit of the folder it runs from: here Warden's, not its own.
  const version = (await admin.adminServerVersion()).replace(/ \(b=.*\)$/, "");
  const homeserver = `Synapse ${version} on ${databaseName}`;
  console.log(`\n${homeserver} at ${synapse.baseUrl}; load ${load()}`);
  console.log(`creating ${String(ONLY.length)} × ${String(ROOMS)} rooms of ${String(MESSAGES)} messages (${ONLY.join(", ")}) and the busy room...`);
  const creating = Date.now();
  const sets = new Map<Method, BenchRoom[]>();
  for (const method of ONLY) sets.set(method, await createRooms(owner, method));
  const busyRoomId = await busyRoom(user, owner);
  const point = await pointAfterNow();
  const all = [...sets.values()].flat();
  await pool(all, CREATE_PARALLEL, async (room) => {
    room.keptEventId = await owner.sendText(room.roomId, `after the point in ${room.name}`);
  });
  console.log(`created in ${seconds(Date.now() - creating)} s; purge point ${new Date(point).toISOString()}`);

  await sleep(SETTLE_MS);
  const sampler = await startUserSampler(user, owner, busyRoomId);
  const rows: Row[] = [];
  const broken = new Map<Method, string>();
  let idle: TimeWindow;
  try {
    const idleFrom = Date.now();
    await sleep(IDLE_MS);
    idle = { from: idleFrom, to: Date.now() };
    const idleLatency = userLatency(sampler.samples, idle.from, idle.to);
    console.log(`idle baseline: the user's /messages p95 ${idleLatency.messages.p95.toFixed(0)} ms, /sync p95 ${idleLatency.sync.p95.toFixed(0)} ms`);

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
        const during = userLatency(sampler.samples, row.window.from, row.window.to);
        console.log(`  ${seconds(row.wallMs)} s; the user's /messages p95 ${during.messages.p95.toFixed(0)} ms, /sync p95 ${during.sync.p95.toFixed(0)} ms`);
      } catch (error) {
        broken.set(method, error instanceof Error ? error.message : String(error));
        console.log(`  broken: ${broken.get(method) ?? ""}`);
      }
    }
  } finally {
    await sampler.stop();
  }
  report(homeserver, rows, broken, sampler, idle);
  return broken;
}

/** "PostgreSQL 15.18" from `postgres --version`'s "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)". */
async function postgresName(cluster: PostgresCluster): Promise<string> {
  const version = /\(PostgreSQL\) (\S+)/.exec(await postgresVersion(cluster.server))?.[1];
  return version === undefined ? DATABASE_NAMES.postgres : `${DATABASE_NAMES.postgres} ${version}`;
}

/** What is up while a run goes on, for the run to stop on its way out, also on Ctrl-C. */
interface Running {
  cluster?: PostgresCluster;
  /** The Synapse being measured, or the scenario (Warden and that Synapse) once there is one. */
  stop?: () => Promise<void>;
}

/** One database's homeserver, measured; the PostgreSQL cluster is started at the first use and kept for the run. */
async function onDatabase(database: Database, running: Running): Promise<ReadonlyMap<Method, string>> {
  let databaseName: string = DATABASE_NAMES.sqlite;
  let target: "sqlite" | PostgresServer = "sqlite";
  if (database === "postgres") {
    running.cluster ??= await startPostgresCluster();
    databaseName = await postgresName(running.cluster);
    target = running.cluster.server;
  }
  const synapse = await startSynapse({ database: target });
  running.stop = () => synapse.stop();
  return measure(synapse, databaseName, (scenario) => {
    running.stop = () => scenario.stop();
  });
}

async function main(): Promise<void> {
  const model = cpus()[0]?.model ?? "unknown CPU";
  console.log(
    `bench:wave ${new Date().toISOString()}: ${String(cpus().length)} cores (${model}), load ${load()}, Node ${process.version}; ` +
      `${String(ROOMS)} rooms of ${String(MESSAGES)} messages per method; methods ${ONLY.join(", ")}; databases ${DATABASES.join(", ")}`,
  );
  const running: Running = {};
  const stopCurrent = async (): Promise<void> => {
    const stop = running.stop;
    delete running.stop;
    await stop?.();
  };
  const shutdown = async (): Promise<void> => {
    await stopCurrent();
    await running.cluster?.stop();
  };
  const interrupted = (): void => {
    void shutdown().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  let broke = false;
  try {
    for (const database of DATABASES) {
      try {
        broke = (await onDatabase(database, running)).size > 0 || broke;
      } catch (error) {
        // A database that cannot be measured (PostgreSQL not installed, say) still leaves the other's table.
        console.log(`\nBROKEN on ${DATABASE_NAMES[database]}: ${error instanceof Error ? error.message : String(error)}`);
        broke = true;
      } finally {
        await stopCurrent();
      }
    }
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await shutdown();
  }
  if (broke) process.exitCode = 1;
  // A wait still pending on the recorder (a summary that never came) would hold the process until its timeout.
  process.exit();
}

await main();
