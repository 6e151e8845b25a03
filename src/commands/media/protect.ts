import type { Logger } from "pino";
import { formatMxc, type Mxc } from "../../matrix/ids.js";
import { MAX_MEDIA_TARGETS } from "../../model/mediaActions.js";
import type { CommandOutcome, Refusal } from "../../model/outcomes.js";
import type { SynapseAdminClient } from "../../synapse/adminClient.js";
import { ok, type Result } from "../../util/result.js";
import type { MediaTarget } from "../parsing/mediaTargets.js";
import { defineCommand } from "../spec.js";
import { carryOut, lookUpFile, parseTargetList, type Planned } from "./mediaRuns.js";

export interface ProtectDependencies {
  readonly admin: Pick<SynapseAdminClient, "mediaInfo" | "setMediaProtected">;
  /** This homeserver's server name: Synapse protects only files of its own origin. */
  readonly serverName: string;
  readonly log: Logger;
}

interface ProtectArguments {
  readonly files: readonly Mxc[];
}

/** !protect and !unprotect: the same command but for the flag they set. */
function protectionCommand(protect: boolean, dependencies: ProtectDependencies) {
  const name = protect ? "protect" : "unprotect";
  return defineCommand<ProtectArguments>({
    name,
    summary: protect
      ? "Keep files of this server out of every quarantine (an emoji pack, the server's logo); !media delete never deletes them either."
      : "Let quarantines (and !media delete) reach files again that !protect kept out.",
    details: protect
      ? [
          "Only this server's own files: Synapse's protection has no origin, so a file of another server cannot be protected.",
          "A protected file that is already quarantined stays quarantined; !quarantine --undo serves it again.",
        ]
      : ["Only this server's own files. A file that is quarantined stays quarantined."],
    positionals: [{ name: "mxc", repeatable: true, description: `a content URI of this server, mxc://<this server>/<media id>; up to ${MAX_MEDIA_TARGETS}` }],
    flags: [],
    examples: protect ? ["!protect mxc://example.org/AbCdEf", "!protect mxc://example.org/logo mxc://example.org/emoji1"] : ["!unprotect mxc://example.org/AbCdEf"],
    parse(words) {
      const targets = parseTargetList(words.positionals, {
        kinds: ["mxc"],
        argument: "<mxc>",
        serverName: dependencies.serverName,
        localFilesOnly: true,
        otherKind: `a content URI of this server, mxc://${dependencies.serverName}/<media id>: Synapse protects one file at a time, not a room or a user`,
      });
      return targets.ok ? ok({ files: targets.value.flatMap((target: MediaTarget) => (target.kind === "mxc" ? [target.mxc] : [])) }) : targets;
    },
    async execute(args, context): Promise<CommandOutcome> {
      const planned: Planned[] = [];
      for (const mxc of args.files) {
        const one = await lookUp(mxc, protect, dependencies);
        if (!one.ok) return one.error;
        planned.push(one.value);
      }
      return carryOut(name, planned, dependencies.log, context.requester);
    },
  });
}

export function protectCommand(dependencies: ProtectDependencies) {
  return protectionCommand(true, dependencies);
}

export function unprotectCommand(dependencies: ProtectDependencies) {
  return protectionCommand(false, dependencies);
}

async function lookUp(mxc: Mxc, protect: boolean, dependencies: ProtectDependencies): Promise<Result<Planned, Refusal>> {
  const label = formatMxc(mxc);
  // Synapse answers {} to protect and unprotect whether or not it holds the file: read it first.
  const file = await lookUpFile(dependencies.admin, mxc);
  if (!file.ok) return file;
  const info = file.value;
  if (info === undefined) return ok({ kind: "file", label, unchanged: { why: "no-such-file", remote: false } });
  if ((info.protected === true) === protect) return ok({ kind: "file", label, unchanged: { why: protect ? "already-protected" : "not-protected" } });
  const quarantined = info.quarantinedBy !== undefined;
  return ok({
    kind: "file",
    label,
    act: async () => {
      const done = await dependencies.admin.setMediaProtected(mxc.mediaId, protect);
      return done.ok ? ok({ status: "done" as const, ...(quarantined ? { stillQuarantined: true as const } : {}) }) : done;
    },
  });
}
