import type { Logger } from "pino";
import { formatMxc, serverNameOf, type Mxc } from "../../matrix/ids.js";
import type { ArgumentProblem } from "../../model/commandSpec.js";
import { MAX_MEDIA_TARGETS, type MediaAction, type MediaActionOutcome, type MediaTargetEntry, type MediaTargetResult, type MediaUnchanged } from "../../model/mediaActions.js";
import type { Refusal } from "../../model/outcomes.js";
import type { MediaFile } from "../../model/media.js";
import type { AdminError } from "../../synapse/adminClient.js";
import { err, ok, type Result } from "../../util/result.js";
import { MXC_EXPECTED, parseMediaTarget, type MediaTarget } from "../parsing/mediaTargets.js";
import { findFile, type MediaAdmin } from "./files.js";

/**
 * What the media commands share: reading a list of targets, looking up one file, and acting on
 * the targets one after another once every one of them has been looked up.
 */

/** How a command names a target kind it refuses, and why, in the form the moderator should use. */
export interface TargetListRules {
  readonly kinds: readonly MediaTarget["kind"][];
  /** The positional's name in messages ("<target>", "<mxc>"). */
  readonly argument: string;
  /** This homeserver's server name: only its users (and, for protect, its files) are local. */
  readonly serverName: string;
  /** Whether a file of another server is refused (Synapse protects only its own files). */
  readonly localFilesOnly: boolean;
  /** The `expected` text for a word of a kind the command does not take (a room or user with --undo). */
  readonly otherKind?: string;
  /** The `expected` text for no target at all; by default the forms the command takes. */
  readonly none?: string;
  /** The `expected` text for any user or file of another server, where one reason covers both (only local media can be deleted). */
  readonly remote?: string;
  /** Targets one command takes at most; MAX_MEDIA_TARGETS unless said. */
  readonly max?: number;
}

/** The targets as typed, each once, in order: at least one and at most `max`. */
export function parseTargetList(words: readonly string[], rules: TargetListRules): Result<readonly MediaTarget[], ArgumentProblem> {
  const max = rules.max ?? MAX_MEDIA_TARGETS;
  if (words.length === 0) return err({ argument: rules.argument, expected: rules.none ?? expectedOf(rules) });
  if (words.length > max) {
    return err({
      argument: `${rules.argument}...`,
      given: `${words.length} targets`,
      expected: `at most ${max} in one command; send the rest in another${rules.kinds.includes("room") ? ", or name the room or the user they belong to" : ""}`,
    });
  }
  const targets: MediaTarget[] = [];
  const seen = new Set<string>();
  for (const word of words) {
    // With `otherKind`, a room or a user is recognised in order to be refused with the form that works.
    const parsed = parseMediaTarget(rules.argument, word, rules.otherKind === undefined ? rules.kinds : ["room", "user", "mxc"]);
    if (!parsed.ok) return rules.otherKind === undefined || word.startsWith("mxc:") ? parsed : err({ argument: rules.argument, given: word, expected: rules.otherKind });
    const target = parsed.value;
    if (!rules.kinds.includes(target.kind)) return err({ argument: rules.argument, given: word, expected: rules.otherKind ?? expectedOf(rules) });
    if (target.kind === "user" && serverNameOf(target.userId) !== rules.serverName) {
      return err({
        argument: rules.argument,
        given: word,
        expected: rules.remote ?? `a user of this server (@abuse:${rules.serverName}): Synapse keeps uploads by user only for its own users; name another server's files by their mxc URI, or the rooms they were sent to`,
      });
    }
    if (target.kind === "mxc" && rules.localFilesOnly && target.mxc.origin !== rules.serverName) {
      return err({
        argument: rules.argument,
        given: word,
        expected: rules.remote ?? `a file of this server, mxc://${rules.serverName}/<media id>: Synapse protects only this server's own files`,
      });
    }
    const key = keyOf(target);
    if (seen.has(key)) continue;
    seen.add(key);
    targets.push(target);
  }
  return ok(targets);
}

/** The forms the command takes, as the shared parser words them (an empty word is none of them). */
function expectedOf(rules: TargetListRules): string {
  const problem = parseMediaTarget(rules.argument, "", rules.kinds);
  return problem.ok ? MXC_EXPECTED : problem.error.expected;
}

function keyOf(target: MediaTarget): string {
  switch (target.kind) {
    case "room":
      return target.room.kind === "id" ? target.room.roomId : target.room.alias;
    case "user":
      return target.userId;
    case "mxc":
      return formatMxc(target.mxc);
  }
}

/** findFile, with a failed lookup as the refusal that stops the whole command. */
export async function lookUpFile(admin: Pick<MediaAdmin, "mediaInfo">, mxc: Mxc): Promise<Result<MediaFile | undefined, Refusal>> {
  const found = await findFile(admin, mxc);
  return found.ok ? found : err(lookupFailed(formatMxc(mxc), found.error));
}

/** Every target is looked up before any is changed: a lookup that fails stops the whole command. */
export function lookupFailed(label: string, error: AdminError): Refusal {
  return { kind: "refused", reason: `could not look up ${label}, so nothing was changed: ${error.userMessage}` };
}

/** One target after its lookup: left as it is (and why), or the call that changes it. */
export type Planned =
  | { readonly kind: MediaTargetEntry["kind"]; readonly label: string; readonly unchanged: MediaUnchanged }
  | { readonly kind: MediaTargetEntry["kind"]; readonly label: string; act(): Promise<Result<Extract<MediaTargetResult, { status: "done" }>, AdminError>> };

/** Stopped after this: the process that answered does not serve the media admin API, so no other target would fare better. */
function stopsTheRest(error: AdminError): boolean {
  return error.errcode === "M_UNRECOGNIZED";
}

/**
 * Acts on the targets one after another, in the order named. A failure does not stop the others
 * (a moderator removing abuse wants every file it can reach gone), except a homeserver process
 * that does not serve these endpoints at all: the rest are then not sent, and the reply says so.
 */
export async function carryOut(action: MediaAction, planned: readonly Planned[], log: Logger, requester: string): Promise<MediaActionOutcome> {
  const entries: MediaTargetEntry[] = [];
  let stopped: string | undefined;
  let serverError = false;
  for (const target of planned) {
    const { kind, label } = target;
    if ("unchanged" in target) {
      entries.push({ kind, label, result: { status: "unchanged", unchanged: target.unchanged } });
      continue;
    }
    if (stopped !== undefined) {
      entries.push({ kind, label, result: { status: "not-tried" } });
      continue;
    }
    const done = await target.act();
    if (done.ok) {
      log.info({ action, kind, target: label, requester, ...(done.value.count === undefined ? {} : { count: done.value.count }) }, "media changed");
      entries.push({ kind, label, result: done.value });
      continue;
    }
    log.warn({ action, kind, target: label, requester, error: done.error }, "media change failed");
    entries.push({ kind, label, result: { status: "failed", reason: done.error.userMessage } });
    if (done.error.kind === "server-error") serverError = true;
    if (stopsTheRest(done.error)) stopped = "the homeserver process that answered does not serve Synapse's media admin API";
  }
  return {
    kind: "media-action",
    action,
    entries,
    ...(stopped === undefined ? {} : { stopped }),
    ...(serverError && (action === "quarantine" || action === "unquarantine") ? { serverError: true } : {}),
  };
}
