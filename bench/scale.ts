/**
 * `npm run bench:scale`: Warden's own costs in waves of 1,000 to 100,000 rooms. The management
 * room is on a real Synapse; Warden's `adminUrl` points at the homeserver simulator
 * (bench/simulator/), which holds N generated rooms and runs their jobs with Synapse's task
 * scheduler rules (five at a time). For each size, on a fresh Warden with `maxConcurrentJobs: 5`:
 *   1. a retention dry run of a policy over every room (`all: true`);
 *   2. `!purge --all <age> --local`: the preview's time (over 5,000 rooms, the time Warden takes
 *      to refuse it: a command's wave takes at most 5,000 rooms);
 *   3. `!retention run` of that policy, previewed, then `!confirm`: the wave (a retention run has
 *      no cap on its rooms);
 *   4. while the wave runs, `!status`, `!status <wave-id>` and `!retention` (another command)
 *      each sent again a second after the previous one was answered;
 * and prints the wave's wall time against the simulator's ideal (rooms × job time / 5), Warden's
 * CPU time per room (/proc/<pid>/stat of the Warden process, over the wave), its peak RSS
 * (VmHWM), its data directory's size, the admin requests per room (status reads apart), the
 * latencies, and the board's edits. Then the slope between the two largest sizes and a
 * projection to 1,000,000 rooms.
 *
 * Environment: BENCH_SCALE_SIZES (default 1000,10000,100000); BENCH_SCALE_JOB_MS (job time for
 * every size; default 1000 ms up to 1,000 rooms, 100 ms up to 10,000, 20 ms above: 100,000 rooms
 * of 1 s jobs would take 5.5 hours); BENCH_SCALE_LATENCY_MS and BENCH_SCALE_ERROR_RATE (the
 * simulator's; default 0); BENCH_SCALE_WAVE_TIMEOUT_MIN (default 20: a wave still running then is
 * reported as partial, with its rate); BENCH_SCALE_PROFILE=<dir> (Warden runs with --cpu-prof,
 * its profile written there when it stops). A size of 100,000 or more runs only when the previous
 * size's wave took under five minutes, unless BENCH_SCALE_FORCE=1.
 */
import { cpus, loadavg } from "node:os";
import type { ClientEvent } from "../scripts/harness/client.js";
import { bodyOf } from "../scripts/harness/roomRecorder.js";
import { startSynapse } from "../scripts/harness/synapse.js";
import { mentions, repliesTo, startScenario, type Scenario } from "../test/e2e/scenario.js";
import { percentile } from "./measure.js";
import { cpuMs, directoryBytes, peakRssMb, rssMb, wardenPid } from "./procfs.js";
import { startSimulator, STATUS_FAMILIES, type RunningSimulator } from "./simulator/server.js";

const EVENTS_PER_ROOM = 20;
const EVENT_SPACING_MS = 3_600_000;
/** Half the simulated history: every room has events on both sides of the point. */
const KEEP = "10h";
const POLICY = "bench-all";
const PROBE_PAUSE_MS = 1_000;
const PROBE_REPLY_WITHIN_MS = 120_000;
const BIG = 100_000;
const BIG_ONLY_AFTER_MS = 5 * 60_000;

function numberFrom(name: string, fallback: number, check: (value: number) => boolean): number {
  const text = process.env[name];
  if (text === undefined || text.trim() === "") return fallback;
  const value = Number(text);
  if (!check(value)) throw new Error(`${name}: ${JSON.stringify(text)} is out of range`);
  return value;
}

function sizes(): number[] {
  const text = process.env["BENCH_SCALE_SIZES"] ?? "1000,10000,100000";
  return text.split(",").map((word) => {
    const value = Number(word.trim().replace(/_/g, ""));
    if (!Number.isSafeInteger(value) || value < 10) throw new Error(`BENCH_SCALE_SIZES takes whole numbers of 10 or more, not ${JSON.stringify(word)}`);
    return value;
  });
}

/** The job time of one size: 1 s as the issue asks where the run stays short, less where it would take hours. */
function jobMsFor(rooms: number): number {
  const fixed = process.env["BENCH_SCALE_JOB_MS"];
  if (fixed !== undefined && fixed.trim() !== "") return numberFrom("BENCH_SCALE_JOB_MS", 0, (value) => Number.isInteger(value) && value >= 0);
  if (rooms <= 1_000) return 1_000;
  if (rooms <= 10_000) return 100;
  return 20;
}

const LATENCY_MS = numberFrom("BENCH_SCALE_LATENCY_MS", 0, (value) => value >= 0);
const ERROR_RATE = numberFrom("BENCH_SCALE_ERROR_RATE", 0, (value) => value >= 0 && value < 1);
const WAVE_TIMEOUT_MS = numberFrom("BENCH_SCALE_WAVE_TIMEOUT_MIN", 20, (value) => value > 0) * 60_000;

interface Probe {
  readonly label: string;
  readonly body: string;
  readonly latenciesMs: number[];
  unanswered: number;
}

interface SizeResult {
  readonly rooms: number;
  readonly jobMs: number;
  readonly idealMs: number;
  readonly wallMs: number;
  /** Rooms whose purge had completed when the wave ended or the timeout came. */
  readonly roomsDone: number;
  readonly finished: boolean;
  readonly cpuMsPerRoom: number;
  readonly peakRssMb: number;
  readonly rssAfterMb: number;
  readonly databaseMb: number;
  readonly requestsPerRoom: number;
  readonly statusReadsPerRoom: number;
  readonly requestFamilies: ReadonlyMap<string, number>;
  /** `!purge --all`: its preview, or its refusal over 5,000 rooms (after selecting them all). */
  readonly previewMs: number;
  readonly previewRefused: boolean;
  readonly retentionPreviewMs: number;
  readonly dryRunMs: number;
  readonly probes: readonly Probe[];
  readonly boardEdits: number;
  readonly shortestEditGapMs: number;
  readonly summary: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends a command and waits for Warden's first reply; the time between the two as Synapse stamped them. */
async function timed(scenario: Scenario, body: string, timeoutMs: number): Promise<{ reply: ClientEvent; ms: number; eventId: string; mark: number }> {
  const sent = await scenario.send(body);
  const reply = await scenario.replyTo(sent.eventId, sent.mark, timeoutMs);
  const command = await scenario.recorder.waitFor((event) => event.event_id === sent.eventId, { from: sent.mark, what: "the command itself" });
  return { reply, ms: reply.origin_server_ts - command.origin_server_ts, eventId: sent.eventId, mark: sent.mark };
}

/** Each probe is sent again a second after its previous one was answered, until `stop`. */
async function probeLoop(scenario: Scenario, probe: Probe, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    try {
      const { ms } = await timed(scenario, probe.body, PROBE_REPLY_WITHIN_MS);
      probe.latenciesMs.push(ms);
    } catch {
      probe.unanswered++;
    }
    await sleep(PROBE_PAUSE_MS);
  }
}

function completedPurges(simulator: RunningSimulator): number {
  return simulator.scheduler.list({ actions: ["purge_history"], statuses: ["complete"] }).length;
}

/** Waits until Warden's start-up reads (the retention policy's check selects every room) have stopped. */
async function settled(simulator: RunningSimulator): Promise<void> {
  let last = -1;
  for (;;) {
    const now = [...simulator.requests().values()].reduce((sum, count) => sum + count, 0);
    if (now === last) return;
    last = now;
    await sleep(3_000);
  }
}

async function measureSize(scenario: Scenario, rooms: number): Promise<SizeResult> {
  const jobMs = jobMsFor(rooms);
  const simulator = await startSimulator({
    rooms,
    jobMs,
    eventsPerRoom: EVENTS_PER_ROOM,
    eventSpacingMs: EVENT_SPACING_MS,
    latencyMs: LATENCY_MS,
    jobFailureRate: ERROR_RATE,
    serverName: scenario.synapse.serverName,
  });
  try {
    const profile = process.env["BENCH_SCALE_PROFILE"];
    const previousOptions = process.env["NODE_OPTIONS"];
    if (profile !== undefined && profile !== "") process.env["NODE_OPTIONS"] = `${previousOptions ?? ""} --cpu-prof --cpu-prof-dir=${profile}`.trim();
    await scenario.warden.stop();
    await scenario.startWarden(undefined, {
      adminUrl: simulator.url,
      maxConcurrentJobs: 5,
      retention: [{ name: POLICY, all: true, keep: KEEP, local: true, every: "366d" }],
    });
    if (previousOptions === undefined) Reflect.deleteProperty(process.env, "NODE_OPTIONS");
    else process.env["NODE_OPTIONS"] = previousOptions;
    const pid = wardenPid(scenario.warden.configFile);
    await settled(simulator);
    console.log(`  Warden ready (pid ${String(pid)}), RSS ${rssMb(pid).toFixed(0)} MB; retention dry run...`);

    const dryRun = await timed(scenario, `!retention run ${POLICY} --dry-run`, 30 * 60_000);
    console.log(`  dry run answered in ${(dryRun.ms / 1000).toFixed(1)} s; preview of --all...`);
    // Timed whatever it answers: over 5,000 rooms Warden refuses a command's wave, after selecting every room.
    const allPreview = await timed(scenario, `!purge --all ${KEEP} --local`, 30 * 60_000);
    const previewRefused = !/confirm \S+,/.test(bodyOf(allPreview.reply));
    console.log(`  --all ${previewRefused ? "refused" : "previewed"} in ${(allPreview.ms / 1000).toFixed(1)} s: ${bodyOf(allPreview.reply).split("\n")[0]?.slice(0, 160) ?? ""}`);
    // The wave is the retention policy's run (all: true), which has no cap on its rooms.
    const preview = await timed(scenario, `!retention run ${POLICY}`, 30 * 60_000);
    const confirmId = /confirm (\S+),/.exec(bodyOf(preview.reply))?.[1];
    if (confirmId === undefined) throw new Error(`the preview names no confirmation id:\n${bodyOf(preview.reply).slice(0, 2000)}`);
    console.log(`  retention run previewed in ${(preview.ms / 1000).toFixed(1)} s; confirming ${confirmId}...`);

    simulator.resetRequests();
    const cpuBefore = cpuMs(pid);
    const confirm = await scenario.send(`!confirm ${confirmId}`);
    const command = await scenario.recorder.waitFor((event) => event.event_id === confirm.eventId, { from: confirm.mark, what: "the confirmation" });
    const fromWarden = (event: ClientEvent): boolean => event.sender === scenario.wardenUser.userId;
    // The board and the summary reply to the command or to its confirmation, whichever Warden chooses.
    const answers = (event: ClientEvent): boolean => repliesTo(event, preview.eventId) || repliesTo(event, confirm.eventId);
    const board = await scenario.recorder.waitFor((event) => fromWarden(event) && answers(event) && bodyOf(event).startsWith("Wave w-"), {
      from: confirm.mark,
      timeoutMs: 10 * 60_000,
      what: "the wave's board",
    });
    const waveId = /^Wave (w-[0-9a-f]+)/.exec(bodyOf(board))?.[1];
    if (waveId === undefined) throw new Error(`no wave id on the board: ${bodyOf(board).slice(0, 300)}`);
    console.log(`  wave ${waveId} started; probing...`);

    const probes: Probe[] = [
      { label: "!status", body: "!status", latenciesMs: [], unanswered: 0 },
      { label: "!status <wave-id>", body: `!status ${waveId}`, latenciesMs: [], unanswered: 0 },
      { label: "other (!retention)", body: "!retention", latenciesMs: [], unanswered: 0 },
    ];
    const stopProbes = new AbortController();
    const probing = Promise.all(probes.map((probe) => probeLoop(scenario, probe, stopProbes.signal)));
    const progress = setInterval(() => {
      console.log(`  ${String(completedPurges(simulator))} of ${String(rooms)} purged, Warden RSS ${rssMb(pid).toFixed(0)} MB, CPU ${((cpuMs(pid) - cpuBefore) / 1000).toFixed(1)} s`);
    }, 60_000);

    let final: ClientEvent | undefined;
    try {
      final = await scenario.recorder.waitFor((event) => fromWarden(event) && answers(event) && mentions(event).length > 0, {
        from: confirm.mark,
        timeoutMs: WAVE_TIMEOUT_MS,
        what: "the wave's summary",
      });
    } catch {
      final = undefined;
    } finally {
      clearInterval(progress);
    }
    const endedAt = final?.origin_server_ts ?? Date.now();
    const cpuAfter = cpuMs(pid);
    const roomsDone = completedPurges(simulator);
    const requests = simulator.requests();
    stopProbes.abort();
    await probing;

    const edits = scenario.editsOf(board.event_id).filter((edit) => edit.origin_server_ts <= endedAt + 5_000);
    const stamps = [board.origin_server_ts, ...edits.map((edit) => edit.origin_server_ts)].sort((a, b) => a - b);
    const gaps = stamps.slice(1).map((stamp, index) => stamp - (stamps[index] ?? stamp));
    let statusReads = 0;
    let work = 0;
    for (const [family, count] of requests) {
      if (STATUS_FAMILIES.has(family)) statusReads += count;
      else if (family !== "reports" && family !== "server_version") work += count;
    }
    const counted = Math.max(1, final === undefined ? roomsDone : rooms);
    return {
      rooms,
      jobMs,
      idealMs: (rooms * jobMs) / 5,
      wallMs: endedAt - command.origin_server_ts,
      roomsDone,
      finished: final !== undefined,
      cpuMsPerRoom: (cpuAfter - cpuBefore) / counted,
      peakRssMb: peakRssMb(pid),
      rssAfterMb: rssMb(pid),
      databaseMb: directoryBytes(scenario.warden.dataDirectory) / 1024 / 1024,
      requestsPerRoom: work / counted,
      statusReadsPerRoom: statusReads / counted,
      requestFamilies: requests,
      previewMs: allPreview.ms,
      previewRefused,
      retentionPreviewMs: preview.ms,
      dryRunMs: dryRun.ms,
      probes,
      boardEdits: edits.length,
      shortestEditGapMs: gaps.length === 0 ? Number.NaN : Math.min(...gaps),
      summary: final === undefined ? `no summary within ${String(WAVE_TIMEOUT_MS / 60_000)} min` : (bodyOf(final).split("\n")[0] ?? ""),
    };
  } finally {
    await simulator.stop();
  }
}

const s = (ms: number): string => (ms / 1000).toFixed(1);

/** What Warden adds to each job: the time a slot holds a room beyond the job itself (wall × 5 / rooms − job). */
function turnaroundMs(result: SizeResult): number {
  return (result.wallMs * 5) / Math.max(1, result.roomsDone) - result.jobMs;
}
const ms0 = (value: number): string => (Number.isNaN(value) ? "–" : value.toFixed(0));

function printSize(result: SizeResult): void {
  const ratio = result.idealMs === 0 ? Number.NaN : result.wallMs / result.idealMs;
  console.log(`\n### ${result.rooms.toLocaleString("en")} rooms, jobs of ${String(result.jobMs)} ms${result.finished ? "" : ` (PARTIAL: ${String(result.roomsDone)} rooms purged when the timeout came)`}\n`);
  console.log("| measure | value |");
  console.log("|---|---:|");
  console.log(`| wave wall time (s) | ${s(result.wallMs)} |`);
  console.log(`| simulator's ideal, rooms × job / 5 (s) | ${s(result.idealMs)} |`);
  console.log(`| wall / ideal | ${ratio.toFixed(2)} × |`);
  console.log(`| rooms per second | ${(result.roomsDone / (result.wallMs / 1000)).toFixed(1)} |`);
  console.log(`| slot turnaround beyond the job, wall × 5 / rooms − job (ms) | ${turnaroundMs(result).toFixed(0)} |`);
  console.log(`| Warden CPU per room (ms) | ${result.cpuMsPerRoom.toFixed(2)} |`);
  console.log(`| Warden peak RSS (MB) | ${result.peakRssMb.toFixed(0)} |`);
  console.log(`| Warden RSS after the wave (MB) | ${result.rssAfterMb.toFixed(0)} |`);
  console.log(`| data directory (MB) | ${result.databaseMb.toFixed(1)} |`);
  console.log(`| admin requests per room, status reads apart | ${result.requestsPerRoom.toFixed(2)} |`);
  console.log(`| status reads per room | ${result.statusReadsPerRoom.toFixed(2)} |`);
  console.log(`| \`!purge --all\` ${result.previewRefused ? "refusal (over 5,000 rooms)" : "preview"} (s) | ${s(result.previewMs)} |`);
  console.log(`| \`!retention run\` preview (s) | ${s(result.retentionPreviewMs)} |`);
  console.log(`| retention dry run (s) | ${s(result.dryRunMs)} |`);
  for (const probe of result.probes) {
    const unanswered = probe.unanswered === 0 ? "" : `, ${String(probe.unanswered)} unanswered`;
    console.log(`| ${probe.label} p50 / p95 (ms, ${String(probe.latenciesMs.length)} sent${unanswered}) | ${ms0(percentile(probe.latenciesMs, 0.5))} / ${ms0(percentile(probe.latenciesMs, 0.95))} |`);
  }
  console.log(`| board edits (shortest gap, s) | ${String(result.boardEdits)} (${s(result.shortestEditGapMs)}) |`);
  console.log(`| board edits per minute | ${(result.boardEdits / (result.wallMs / 60_000)).toFixed(1)} |`);
  const families = [...result.requestFamilies.entries()].sort(([, a], [, b]) => b - a).map(([family, count]) => `${family} ${String(count)}`);
  console.log(`\nadmin requests during the wave: ${families.join(", ")}`);
  console.log(`summary: ${result.summary}`);
}

/** Per-room slope between two sizes and the value a line through them reaches at `at` rooms. */
function project(label: string, small: SizeResult, large: SizeResult, value: (result: SizeResult) => number, unit: string, at = 1_000_000): void {
  const a = value(small);
  const b = value(large);
  const slope = (b - a) / (large.rooms - small.rooms);
  const projected = b + slope * (at - large.rooms);
  // A measure that shrank between the two sizes (latency noise on a loaded machine) is not projected below zero.
  const shown = projected < 0 ? "no growth measured" : `${projected.toFixed(1)} ${unit}`;
  console.log(`| ${label} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(slope * 1000).toPrecision(3)} per 1,000 rooms | ${shown} |`);
}

function printSlopes(results: readonly SizeResult[]): void {
  const done = results.filter((result) => result.roomsDone > 0);
  if (done.length < 2) return;
  const small = done[done.length - 2];
  const large = done[done.length - 1];
  if (small === undefined || large === undefined) return;
  console.log(`\n### From ${small.rooms.toLocaleString("en")} to ${large.rooms.toLocaleString("en")} rooms, and a straight line to 1,000,000\n`);
  console.log(`| measure | ${small.rooms.toLocaleString("en")} | ${large.rooms.toLocaleString("en")} | slope | at 1,000,000 |`);
  console.log("|---|---:|---:|---:|---:|");
  project("Warden CPU per room (ms)", small, large, (result) => result.cpuMsPerRoom, "ms");
  project("Warden CPU, whole wave (s)", small, large, (result) => (result.cpuMsPerRoom * (result.finished ? result.rooms : result.roomsDone)) / 1000, "s");
  project("peak RSS (MB)", small, large, (result) => result.peakRssMb, "MB");
  project("data directory (MB)", small, large, (result) => result.databaseMb, "MB");
  project("admin requests per room", small, large, (result) => result.requestsPerRoom, "");
  project("`!purge --all` preview or refusal (s)", small, large, (result) => result.previewMs / 1000, "s");
  project("`!retention run` preview (s)", small, large, (result) => result.retentionPreviewMs / 1000, "s");
  project("retention dry run (s)", small, large, (result) => result.dryRunMs / 1000, "s");
  for (const [index, probe] of large.probes.entries()) {
    project(`${probe.label} p95 (ms)`, small, large, (result) => percentile(result.probes[index]?.latenciesMs ?? [], 0.95), "ms");
  }
  // Rooms per second depend on the job time, which differs between sizes; what Warden adds to each job does not.
  project("slot turnaround beyond the job (ms)", small, large, turnaroundMs, "ms");
  console.log("\nA straight line through two points: costs that grow faster than N (a scan per room) make the real 1,000,000 figure worse.");
}

async function main(): Promise<void> {
  const chosen = sizes();
  const synapse = await startSynapse();
  let scenario: Scenario | undefined;
  const shutdown = (): Promise<void> => (scenario === undefined ? synapse.stop() : scenario.stop());
  const interrupted = (): void => {
    void shutdown().finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const results: SizeResult[] = [];
  try {
    scenario = await startScenario({ synapse });
    console.log(`${String(cpus().length)} cores (${cpus()[0]?.model ?? "?"}), load ${loadavg().map((load) => load.toFixed(2)).join(" ")}, ${new Date().toISOString()}`);
    console.log(`sizes ${chosen.join(", ")}; job time ${chosen.map((rooms) => `${String(jobMsFor(rooms))} ms`).join(", ")}; latency ${String(LATENCY_MS)} ms; job error rate ${String(ERROR_RATE)}`);
    for (const rooms of chosen) {
      const previous = results[results.length - 1];
      if (rooms >= BIG && previous !== undefined && (previous.wallMs > BIG_ONLY_AFTER_MS || !previous.finished) && process.env["BENCH_SCALE_FORCE"] !== "1") {
        console.log(`\n${rooms.toLocaleString("en")} rooms: skipped, the ${previous.rooms.toLocaleString("en")}-room wave took ${s(previous.wallMs)} s (over ${String(BIG_ONLY_AFTER_MS / 60_000)} min; BENCH_SCALE_FORCE=1 runs it anyway)`);
        continue;
      }
      console.log(`\n${rooms.toLocaleString("en")} rooms, jobs of ${String(jobMsFor(rooms))} ms...`);
      const result = await measureSize(scenario, rooms);
      results.push(result);
      printSize(result);
    }
    printSlopes(results);
  } finally {
    process.off("SIGINT", interrupted);
    process.off("SIGTERM", interrupted);
    await shutdown();
  }
  process.exit();
}

await main();
