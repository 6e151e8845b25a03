import pLimit from "p-limit";
import { asRoomId } from "../../matrix/ids.js";
import type { Preview } from "../../model/commandSpec.js";
import type { CommandOutcome, Refusal } from "../../model/outcomes.js";
import type { RetentionEstimate, RetentionPolicy } from "../../model/retention.js";
import { type LeftOutRoom, type SelectedRoom } from "../../model/waves.js";
import { inlineList } from "../../render/budget.js";
import { unknownPolicy, waveSelectionOf, type RetentionControl, type RetentionPlan } from "../../retention/scheduler.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import type { Clock } from "../../util/clock.js";
import { mediaPlanLines } from "../../render/media/retentionMedia.js";
import { wavePreview } from "../../render/waves.js";
import { formatUtc } from "../../util/duration.js";
import { err, ok, type Result } from "../../util/result.js";
import { KeptPlans } from "../confirmation/keptPlans.js";
import { estimatePurge } from "../confirmation/previews.js";
import { booleanFlag } from "../parsing/words.js";
import { defineCommand, type CommandContext } from "../spec.js";

export interface RetentionDependencies {
  readonly retention: RetentionControl;
  readonly admin: Pick<SynapseAdminClient, "roomMessages">;
  readonly clock: Clock;
}

type RetentionArguments =
  | { readonly action: "list" }
  | { readonly action: "run"; readonly name: string; readonly dryRun: boolean }
  | { readonly action: "pause" | "resume"; readonly name: string };

const ACTIONS = ["run", "pause", "resume"] as const;

/**
 * A dry run reads up to five pages of history per room; beyond this many rooms it would keep the
 * homeserver busy for minutes, so the rest are counted, not estimated.
 */
export const DRY_RUN_ROOMS = 50;
/** Rooms estimated at once: reads, but each may page through 5000 events. */
const DRY_RUN_PARALLEL = 2;

export function retentionCommand(dependencies: RetentionDependencies) {
  // A run acts on the rooms and cut-off its preview showed, as a moderator's wave does.
  const plans = new KeptPlans<RetentionPlan>(dependencies.clock);
  return defineCommand<RetentionArguments>({
    name: "retention",
    summary: "List the retention policies (next run, last result), or run, pause or resume one.",
    details: [
      "Each run of a policy is a purge wave started by Warden itself: announced on a board, paced, and summed up like any other.",
      "run <name> starts one now, after a preview of its rooms and the rooms it leaves out (--yes skips it); the schedule stays as it was.",
      "run <name> --dry-run estimates, per room, what would go, and does nothing.",
      "A policy with media deletes old media server-wide, before its wave: the board and summary (or, with no wave, its own message) say how many files went; a dry run gives the rule, as Synapse counts files only as it deletes them.",
      "pause <name> stops its schedule until resume <name>; a run already started goes on.",
    ],
    positionals: [
      { name: "action", description: "run, pause or resume; nothing for the list", optional: true },
      { name: "name", description: "the policy's name, as in the config", optional: true },
    ],
    flags: [],
    examples: ["!retention", "!retention run old-history --dry-run", "!retention pause old-history"],
    parse(words) {
      const [actionWord, name] = words.positionals;
      const dryRun = booleanFlag(words, "dry-run");
      if (actionWord === undefined) {
        return dryRun ? err({ argument: "--dry-run", expected: "run <name> before it: --dry-run estimates what a run would purge" }) : ok({ action: "list" });
      }
      const action = ACTIONS.find((candidate) => candidate === actionWord.toLowerCase());
      if (action === undefined) return err({ argument: "[action]", given: actionWord, expected: "run, pause or resume (or nothing, for the list)" });
      if (name === undefined) return err({ argument: "[name]", expected: `the name of the policy to ${action} (retention without words lists them)` });
      if (action === "run") return ok({ action, name, dryRun });
      if (dryRun) return err({ argument: "--dry-run", expected: `nothing after ${action}: --dry-run goes with run <name>` });
      return ok({ action, name });
    },
    execute: (args, context) => executeRetention(args, context, dependencies, plans),
    confirmation: {
      // No confirmBefore setting governs a run: it purges every room its selection finds today,
      // which nobody has looked at yet, so it is always previewed (only --yes skips that).
      kind: () => undefined,
      always: (args) => args.action === "run",
      executesDryRun: true,
      preview: (args, context) => previewRun(args, context, dependencies, plans),
    },
  });
}

function policyOf(retention: RetentionControl, name: string): RetentionPolicy | undefined {
  return retention.policies().find((policy) => policy.name === name);
}

function refused(reason: string, hint?: string): Refusal {
  return { kind: "refused", reason, ...(hint === undefined ? {} : { hint }) };
}

function unknown(name: string, retention: RetentionControl): Refusal {
  return refused(unknownPolicy(name, retention.policies()), "!retention lists them with their next run.");
}

async function executeRetention(args: RetentionArguments, context: CommandContext, dependencies: RetentionDependencies, plans: KeptPlans<RetentionPlan>): Promise<CommandOutcome> {
  const { retention, clock } = dependencies;
  if (args.action === "list") return { kind: "retention-list", policies: retention.states(), now: clock.now() };
  if (policyOf(retention, args.name) === undefined) return unknown(args.name, retention);
  switch (args.action) {
    case "pause":
    case "resume": {
      const changed = args.action === "pause" ? await retention.pause(args.name) : await retention.resume(args.name);
      if (!changed.ok) return refused(`${args.name} was not ${args.action}d: ${changed.error}`);
      const { paused, nextRunAt } = changed.value;
      return { kind: "retention-changed", policy: args.name, paused, ...(nextRunAt === undefined ? {} : { nextRunAt }) };
    }
    case "run": {
      if (args.dryRun) return dryRun(args.name, dependencies);
      const planned = await plans.take(context.commandEventId, () => plan(args.name, retention));
      if (!planned.ok) return planned.error;
      const started = await retention.runNow(planned.value, context.requester, context.commandEventId);
      if (!started.ok) return refused(`no run of ${args.name} was started: ${started.error}`);
      const { wave, media, noWave } = started.value;
      // The wave's board answers, and shows the media step its parameters carry.
      if (wave !== undefined) return { kind: "wave-started", wave };
      if (media === undefined) return refused(`no run of ${args.name} was started: ${noWave ?? "it has neither rooms nor media"}`);
      return { kind: "retention-media-run", policy: args.name, media, ...(noWave === undefined ? {} : { noWave }) };
    }
  }
}

async function plan(name: string, retention: RetentionControl): Promise<Result<RetentionPlan, Refusal>> {
  if (policyOf(retention, name) === undefined) return err(unknown(name, retention));
  const planned = await retention.plan(name);
  if (!planned.ok) return err(refused(`the rooms of ${name} could not be selected: ${planned.error}`));
  return ok(planned.value);
}

async function dryRun(name: string, dependencies: RetentionDependencies): Promise<CommandOutcome> {
  const planned = await plan(name, dependencies.retention);
  if (!planned.ok) return planned.error;
  const { policy, history, media } = planned.value;
  // Synapse has no dry run for media deletion, and no admin list of media by age to count
  // from: the media part is the rule with its times, and the count comes with the run.
  const mediaPart = media === undefined ? {} : { media };
  if (history === undefined) return { kind: "retention-dry-run", policy, ...mediaPart };
  const { cutoffTs, rooms, leftOut } = history;
  const limit = pLimit(DRY_RUN_PARALLEL);
  const estimates = await Promise.all(rooms.slice(0, DRY_RUN_ROOMS).map((room) => limit(() => estimate(room, cutoffTs, dependencies))));
  const notEstimated = Math.max(0, rooms.length - DRY_RUN_ROOMS);
  return { kind: "retention-dry-run", policy, history: { cutoffTs, estimates, leftOut, ...(notEstimated === 0 ? {} : { notEstimated }) }, ...mediaPart };
}

async function estimate(room: SelectedRoom, cutoffTs: number, dependencies: RetentionDependencies): Promise<RetentionEstimate> {
  const roomId = asRoomId(room.roomId);
  const counted = roomId === undefined ? undefined : await estimatePurge(dependencies.admin, roomId, cutoffTs);
  if (counted === undefined) return { roomId: room.roomId, label: room.label, capped: false };
  return {
    roomId: room.roomId,
    label: room.label,
    events: counted.before,
    capped: counted.capped,
    // The engine sends no job for such a room either: Synapse would refuse it.
    ...(counted.before === 0 && !counted.capped ? { skip: "nothing was sent before the cut-off" } : {}),
  };
}

/** Rooms named in a preview; the rest are counted ("and N more"). */
const PREVIEW_ROOMS = 20;

async function previewRun(args: RetentionArguments, context: CommandContext, dependencies: RetentionDependencies, plans: KeptPlans<RetentionPlan>): Promise<Result<Preview, Refusal>> {
  if (args.action !== "run") return err(refused("only run <name> has a preview"));
  const { name } = args;
  const planned = await plans.plan(context.commandEventId, () => plan(name, dependencies.retention));
  if (!planned.ok) return planned;
  const { history, media } = planned.value;
  if (history !== undefined && history.rooms.length === 0 && media === undefined) {
    const leftOut = history.leftOut.length;
    return err(refused(`${args.name} selects no room today${leftOut === 0 ? "" : ` (${leftOut} left out: ${leftOutList(history.leftOut)})`}, so a run would do nothing.`));
  }
  const state = dependencies.retention.states().find((candidate) => candidate.policy.name === args.name);
  return ok(retentionPreview(planned.value, state?.paused === true ? "paused" : state?.nextRunAt));
}

function leftOutList(leftOut: readonly LeftOutRoom[]): string {
  return inlineList(
    leftOut.map((room) => `${room.label} (${room.why})`),
    { entries: PREVIEW_ROOMS, bytes: 4 * 1024 },
  );
}

/** A run is previewed like any wave, with the policy's media and schedule added; a run without rooms, by its media alone. */
function retentionPreview(planned: RetentionPlan, next: number | "paused" | undefined): Preview {
  const { policy, history, media } = planned;
  const mediaLines = media === undefined ? [] : mediaPlanLines(media);
  const schedule = {
    label: "Schedule",
    value: next === "paused" ? "paused; this run does not resume it" : next === undefined ? "unchanged" : `unchanged; next scheduled run ${formatUtc(next)}`,
  };
  if (policy.history === undefined || history === undefined || history.rooms.length === 0) {
    const noRooms =
      policy.history === undefined || history === undefined
        ? []
        : [{ label: "Rooms", value: `none selected today${history.leftOut.length === 0 ? "" : ` (${history.leftOut.length} left out: ${leftOutList(history.leftOut)})`}: no purge wave` }];
    return { title: `delete old media (retention policy "${policy.name}")`, lines: [...noRooms, ...mediaLines, schedule] };
  }
  const { cutoffTs, rooms, leftOut } = history;
  const preview = wavePreview({
    kind: "purge",
    rooms,
    leftOut,
    parameters: { cutoffTs, cutoff: formatUtc(cutoffTs), deleteLocalEvents: policy.history.local },
    selection: waveSelectionOf(policy.history.selection),
    policy: policy.name,
  });
  return {
    // wavePreview's title names the policy already.
    title: preview.title,
    lines: [
      ...preview.lines,
      { label: "Keeps", value: `the last ${policy.history.keep} of history` },
      {
        label: "Rooms with nothing to purge",
        value: "skipped, no job sent: nothing was sent before the point, or only the room's newest event, which Synapse always keeps",
      },
      ...mediaLines,
      schedule,
    ],
  };
}
