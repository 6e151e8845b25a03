import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Warden's Prometheus metrics. Labels are bounded sets only (command names, outcome kinds,
 * job kinds and states, endpoint groups, HTTP statuses): never a user ID, a room ID, a token or
 * message text, so /metrics can be scraped by anyone who can reach it without leaking them.
 */
export class WardenMetrics {
  readonly registry = new Registry();
  private readonly commands: Counter<"command" | "outcome">;
  private readonly commandSeconds: Histogram<"command">;
  private readonly jobs: Counter<"kind" | "state">;
  private readonly jobSeconds: Histogram<"kind" | "state">;
  private readonly jobLagSeconds: Histogram<"kind">;
  private readonly adminRequests: Counter<"group" | "status">;
  private readonly reachable: Gauge;
  private readonly reports: Counter;

  constructor(options: { readonly defaultMetrics?: boolean; readonly waveQueueLength?: () => number } = {}) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.commands = new Counter({
      name: "warden_commands_total",
      help: "Commands run, by command name and outcome (a preview counts as outcome preview).",
      labelNames: ["command", "outcome"],
      registers,
    });
    this.commandSeconds = new Histogram({
      name: "warden_command_duration_seconds",
      help: "Time from a parsed command to its outcome (preview or execution).",
      labelNames: ["command"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.jobs = new Counter({
      name: "warden_jobs_total",
      help: "Homeserver jobs (purge, shutdown, redact) reaching each state, by kind.",
      labelNames: ["kind", "state"],
      registers,
    });
    this.jobSeconds = new Histogram({
      name: "warden_job_duration_seconds",
      help: "From a job's acceptance to its final state, by kind and final state.",
      labelNames: ["kind", "state"],
      buckets: [1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600],
      registers,
    });
    this.jobLagSeconds = new Histogram({
      name: "warden_job_completion_lag_seconds",
      help: "From Warden seeing a job end to the requester's final notification being delivered.",
      labelNames: ["kind"],
      buckets: [0.1, 0.5, 1, 2, 5, 15, 60, 300],
      registers,
    });
    this.adminRequests = new Counter({
      name: "warden_admin_requests_total",
      help: "Admin API requests (each attempt), by endpoint group and HTTP status (or unreachable/timeout).",
      labelNames: ["group", "status"],
      registers,
    });
    this.reachable = new Gauge({
      name: "warden_homeserver_reachable",
      help: "1 when the last admin request got an HTTP answer below 500, 0 otherwise.",
      registers,
    });
    const waveQueueLength = options.waveQueueLength ?? (() => 0);
    new Gauge({
      name: "warden_wave_queue_length",
      help: "Wave rooms waiting to be sent, over all waves (a retry in its back-off and a purge phase in its cooldown included).",
      registers,
      collect() {
        this.set(waveQueueLength());
      },
    });
    this.reports = new Counter({ name: "warden_reports_seen_total", help: "Reports (about events, and about users) Warden has taken for the management room.", registers });
  }

  commandRan(command: string, outcome: string, seconds: number): void {
    this.commands.inc({ command, outcome });
    this.commandSeconds.observe({ command }, seconds);
  }

  jobReached(kind: string, state: string): void {
    this.jobs.inc({ kind, state });
  }

  jobEnded(kind: string, state: string, durationSeconds: number, lagSeconds: number): void {
    this.jobs.inc({ kind, state });
    this.jobSeconds.observe({ kind, state }, Math.max(0, durationSeconds));
    this.jobLagSeconds.observe({ kind }, Math.max(0, lagSeconds));
  }

  adminRequest(group: string, status: string, reachable: boolean): void {
    this.adminRequests.inc({ group, status });
    this.reachable.set(reachable ? 1 : 0);
  }

  reportsSeen(count: number): void {
    if (count > 0) this.reports.inc(count);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
