/** What the benchmarks read of a Warden process from /proc: which one it is, its memory and its CPU time. */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** The Warden process's pid: the one node process started with its config file. */
export function wardenPid(configFile: string): number {
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

function statusField(pid: number, field: "VmRSS" | "VmHWM"): number {
  const kilobytes = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"))?.[1];
  if (kilobytes === undefined) throw new Error(`no ${field} for process ${String(pid)}`);
  return Number(kilobytes) / 1024;
}

export function rssMb(pid: number): number {
  return statusField(pid, "VmRSS");
}

/** The most resident memory the process has had over its life (VmHWM). */
export function peakRssMb(pid: number): number {
  return statusField(pid, "VmHWM");
}

/** Linux's USER_HZ: /proc/<pid>/stat counts CPU time in these ticks, 100 a second on every Linux port that matters. */
const TICKS_PER_SECOND = 100;

/** User plus system CPU time the process has used so far, in ms (to 10 ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const user = Number(fields[11]);
  const system = Number(fields[12]);
  return ((user + system) * 1000) / TICKS_PER_SECOND;
}

/** The bytes of every file under a directory (a database with its WAL and journal). */
export function directoryBytes(directory: string): number {
  let bytes = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    bytes += entry.isDirectory() ? directoryBytes(path) : statSync(path).size;
  }
  return bytes;
}
