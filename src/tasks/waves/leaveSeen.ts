import type { Logger } from "pino";
import { asUserId } from "../../matrix/ids.js";
import { purgePhaseOf, type WaveRecord, type WaveRoom } from "../../model/waves.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import type { Clock } from "../../util/clock.js";
import { formatUtc } from "../../util/duration.js";
import type { TaskRecord } from "../types.js";

/** Whether a room may be sent now, or when to ask again and why it waits. */
export type Readiness = { readonly ready: true; readonly reason?: string } | { readonly ready: false; readonly until: number; readonly reason: string };

/** What the gate knows of the room's previous phase: its task (if still recorded) and when it ended. */
export interface PreviousPhase {
  readonly task: TaskRecord | undefined;
  readonly endedAt: number;
}

export interface LeaveSeenOptions {
  /** The first look again after a check that found someone waiting; the wait grows with the time since the kick, up to the ceiling. */
  readonly recheckMinMs: number;
  /**
   * Synapse writes a device's last-seen time at most once every two minutes (per access token and
   * address): looking more often than that learns nothing new.
   */
  readonly recheckMaxMs: number;
  /** Device lists read in one check, at most: a room with thousands of local members is read over several checks. */
  readonly usersPerCheck: number;
}

export const DEFAULT_LEAVE_SEEN_OPTIONS: LeaveSeenOptions = { recheckMinMs: 10_000, recheckMaxMs: 120_000, usersPerCheck: 50 };

type Devices = { readonly kind: "devices"; readonly lastSeen: readonly (number | undefined)[] } | { readonly kind: "gone" } | { readonly kind: "unreadable"; readonly why: string };

/**
 * When a shut-down room's purge may run so that its kicked members notice they left.
 *
 * Synapse's delete with `purge: true` removes the kicked members' leave events before their
 * clients sync, so their next incremental /sync carries no leave and the room stays in their
 * room list for good. A shutdown therefore kicks with `purge: false` (the leave stays and is
 * delivered), and its purge phase waits here until every kicked local member's clients have
 * had the chance to fetch it: each of their devices that was active recently (seen within the
 * bounded wait before the kick) has been seen again since the kick ended (its `last_seen_ts`
 * in the user devices admin API). A device idle for longer than the wait itself is not waited
 * for: it is not expected back within it, and waiting for it would turn every shutdown into the
 * full wait. Dehydrated devices never sync and are not waited for. A member the homeserver no
 * longer knows has nothing to wait for. The wait is bounded: at the deadline (the wave's
 * `purgeDeadlineMs` after the kick, config `shutdownPurgeAfter`) the purge runs whatever was seen.
 *
 * Checks are spaced out (from `recheckMinMs`, growing with the time since the kick, up to
 * `recheckMaxMs`), members already seen are not read again, and at most `usersPerCheck` device
 * lists are read per check.
 */
export class LeaveSeenGate {
  /**
   * Per room waiting (wave id and room id): the kicked members already seen since the kick, kept
   * until its deadline, so that a room found ready and then waiting for a job slot is not read
   * again at every look.
   */
  private readonly seen = new Map<string, { readonly users: Set<string>; readonly deadline: number }>();
  private readonly warned = new Set<string>();

  constructor(
    private readonly admin: Pick<SynapseAdminClient, "userDevices">,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: LeaveSeenOptions = DEFAULT_LEAVE_SEEN_OPTIONS,
  ) {}

  async ready(wave: WaveRecord, room: WaveRoom, previous: PreviousPhase): Promise<Readiness> {
    const phase = purgePhaseOf(wave.parameters);
    if (room.phase !== "purge" || phase?.kind !== "members-seen") return { ready: true };
    const key = `${wave.id} ${room.roomId}`;
    const since = previous.endedAt;
    const deadline = since + phase.deadlineMs;
    const now = this.clock.now();
    for (const [other, entry] of this.seen) if (entry.deadline <= now) this.seen.delete(other);
    if (now >= deadline) {
      return { ready: true, reason: `purged at the end of the wait (${formatUtc(deadline)}), whatever members' clients had seen` };
    }
    const kicked = kickedUsers(previous.task);
    if (kicked === undefined) {
      return { ready: false, until: deadline, reason: `waiting until ${formatUtc(deadline)}: Warden no longer has the record of who was kicked` };
    }
    if (kicked.length === 0) return { ready: true, reason: "no local member was kicked: purged at once" };
    const seen = this.seen.get(key)?.users ?? new Set<string>();
    this.seen.set(key, { users: seen, deadline });
    let read = 0;
    for (const user of kicked) {
      if (seen.has(user)) continue;
      if (read >= this.options.usersPerCheck) break;
      read++;
      if (await this.sawLeave(user, since, phase.deadlineMs)) seen.add(user);
    }
    const waiting = kicked.filter((user) => !seen.has(user)).length;
    if (waiting === 0) return { ready: true, reason: `purged once every kicked member's recently active clients had been seen after the shutdown` };
    const wait = Math.min(this.options.recheckMaxMs, Math.max(this.options.recheckMinMs, now - since));
    return {
      ready: false,
      until: Math.min(now + wait, deadline),
      reason: `waiting for the clients of ${waiting} of ${kicked.length} kicked member${kicked.length === 1 ? "" : "s"} to see that they left (at the latest until ${formatUtc(deadline)})`,
    };
  }

  /** Whether every device of the user that was active before the kick has been seen since. */
  private async sawLeave(user: string, since: number, windowMs: number): Promise<boolean> {
    const devices = await this.devices(user);
    if (devices.kind === "gone") return true;
    if (devices.kind === "unreadable") {
      // Said once per member: the deadline ends the wait anyway, and the log should not fill up.
      if (!this.warned.has(user)) {
        this.warned.add(user);
        this.log.warn({ userId: user, reason: devices.why }, "could not read a kicked member's devices; their room's purge waits for the deadline unless they can be read later");
      }
      return false;
    }
    return devices.lastSeen.every((lastSeen) => lastSeen === undefined || lastSeen < since - windowMs || lastSeen >= since);
  }

  private async devices(user: string): Promise<Devices> {
    const userId = asUserId(user);
    if (userId === undefined) return { kind: "gone" };
    const answer = await this.admin.userDevices(userId);
    if (!answer.ok) {
      // Synapse's own "Unknown user": deleted or never local, nothing to wait for. Any other
      // failure (an endpoint a deployment does not serve, a 5xx) is waited out.
      if (answer.error.kind === "not-found" && answer.error.errcode === "M_NOT_FOUND") return { kind: "gone" };
      return { kind: "unreadable", why: answer.error.userMessage };
    }
    // A dehydrated device is never used by a client: nothing there will ever see the leave.
    const active = answer.value.devices.filter((device) => device.dehydrated !== true);
    return { kind: "devices", lastSeen: active.map((device) => device.last_seen_ts ?? undefined) };
  }
}

/**
 * The local users the shutdown kicked, from its task's outcome (a purge phase follows only a
 * shutdown that completed); undefined when that record is gone (tasks are pruned after 30 days).
 */
function kickedUsers(task: TaskRecord | undefined): readonly string[] | undefined {
  if (task === undefined) return undefined;
  const kicked = task.outcome?.["kickedUsers"];
  return Array.isArray(kicked) ? kicked : [];
}
