import type { ArgumentProblem, Words } from "../../model/commandSpec.js";
import { MEDIA_DELETE_LIMIT, type MediaDeletionPlan } from "../../model/media.js";
import type { CommandOutcome } from "../../model/outcomes.js";
import { deletionPreview } from "../../render/media/media.js";
import { err, ok, type Result } from "../../util/result.js";
import { KeptPlans } from "../confirmation/keptPlans.js";
import { MEDIA_TARGET_EXPECTED, MXC_EXPECTED, parseMediaTarget } from "../parsing/mediaTargets.js";
import { booleanFlag, textFlag } from "../parsing/words.js";
import { defineCommand } from "../spec.js";
import { planDeletion, runDeletion, type DeletionTarget } from "./deletion.js";
import { parseTargetList } from "./mediaRuns.js";
import type { MediaDependencies } from "./files.js";
import { lookAtMedia, MEDIA_PAGE_SIZE, SIZE_READS, type LookRequest } from "./look.js";

export type { MediaDependencies } from "./files.js";

type MediaArguments = ({ readonly action: "look" } & LookRequest) | { readonly action: "delete"; readonly targets: readonly DeletionTarget[] };

/** Far more pages than any list fills; only keeps the number an exact integer. */
const LAST_PAGE = 1_000_000;
const DELETE_WORD = "delete";

export function mediaCommand(dependencies: MediaDependencies) {
  // A confirmed deletion deletes the files its preview listed, and no file found later.
  const plans = new KeptPlans<MediaDeletionPlan>(dependencies.clock);
  return defineCommand<MediaArguments>({
    name: "media",
    summary: "Look at the media of a room, of a user or one file (count, total size, the files page by page), or delete local media.",
    details: [
      `Each page lists ${MEDIA_PAGE_SIZE} files: URI, size, type, uploader, when, and whether it is quarantined or protected. Nothing is downloaded or previewed.`,
      `The total size adds up the first ${SIZE_READS} files at most, and says so. Sizes and details need Synapse 1.140 or later (media info); without it a room's files are listed by URI only.`,
      "A user's uploads can be listed only for users of this homeserver; a remote user's files in a room are looked at by room.",
      `delete <user|mxc>... deletes local files for good: every upload of the named users (newest first, at most ${MEDIA_DELETE_LIMIT} files per command) and the named files.`,
      "A deletion is always previewed with the count and size, whatever confirmBefore says; --yes is not taken. It deletes exactly the files the preview listed: a file uploaded after the preview stays.",
      "Protected media is never deleted; each file is checked again just before it goes. Remote media cannot be deleted, only quarantined.",
    ],
    positionals: [
      { name: DELETE_WORD, description: "the word delete, to delete the named users' uploads and files instead of looking at them", optional: true },
      { name: "target", description: `${MEDIA_TARGET_EXPECTED}; after delete: users and content URIs of this homeserver`, repeatable: true },
    ],
    flags: [{ name: "page", kind: "text", valueName: "N", description: `page N (from 1) of a room's or user's files, ${MEDIA_PAGE_SIZE} a page` }],
    examples: ["!media #spam:example.org", "!media @abuse:example.org --page 2", "!media mxc://example.org/abcDEF123", "!media delete @abuse:example.org mxc://example.org/abcDEF123"],
    parse: (words) => parseMedia(words, dependencies.serverName),
    async execute(args, context): Promise<CommandOutcome> {
      if (args.action === "look") return lookAtMedia(args, context, dependencies);
      const planned = await plans.take(context.commandEventId, () => planDeletion(args.targets, dependencies, context.prefix));
      if (!planned.ok) return planned.error;
      return { kind: "media-deleted", ...(await runDeletion(planned.value, dependencies, context.commandEventId)) };
    },
    confirmation: {
      // No confirmBefore setting governs it: a deleted file cannot be brought back, so every
      // deletion shows its files first, and nothing skips that.
      kind: () => undefined,
      always: (args) => args.action === "delete",
      unskippable: true,
      async preview(args, context) {
        if (args.action !== "delete") return err({ kind: "refused", reason: "only media delete has a preview; looking changes nothing." });
        const planned = await plans.plan(context.commandEventId, () => planDeletion(args.targets, dependencies, context.prefix));
        return planned.ok ? ok(deletionPreview(planned.value)) : planned;
      },
    },
  });
}

function parseMedia(words: Words, serverName: string): Result<MediaArguments, ArgumentProblem> {
  const [first, ...rest] = words.positionals;
  const pageText = textFlag(words, "page");
  if (first?.toLowerCase() === DELETE_WORD) {
    if (pageText !== undefined) return err({ argument: "--page", given: pageText, expected: "nothing with delete: the preview shows the files a deletion takes" });
    return parseDeletion(rest, serverName);
  }
  if (first === undefined) return err({ argument: "<target>", expected: MEDIA_TARGET_EXPECTED });
  if (booleanFlag(words, "dry-run")) return err({ argument: "--dry-run", expected: "nothing when looking (it changes nothing); --dry-run goes with delete" });
  const extra = rest[0];
  if (extra !== undefined) {
    return err({ argument: "arguments", given: extra, expected: `one room, user or mxc URI to look at (to delete, start with the word delete)` });
  }
  const target = parseMediaTarget("<target>", first);
  if (!target.ok) return target;
  if (pageText === undefined) return ok({ action: "look", target: target.value, text: first, page: 1 });
  if (target.value.kind === "mxc") return err({ argument: "--page", given: pageText, expected: "a room or a user before it: one file has no pages" });
  const page = /^\d{1,7}$/.test(pageText) ? Number(pageText) : Number.NaN;
  if (!Number.isInteger(page) || page < 1 || page > LAST_PAGE) return err({ argument: "--page", given: pageText, expected: "a page number: a whole number, 1 or more" });
  return ok({ action: "look", target: target.value, text: first, page });
}

function parseDeletion(words: readonly string[], serverName: string): Result<MediaArguments, ArgumentProblem> {
  const targets = parseTargetList(words, {
    kinds: ["user", "mxc"],
    argument: "<target>",
    serverName,
    localFilesOnly: true,
    max: MEDIA_DELETE_LIMIT,
    none: `after delete, one or more users of this homeserver (@abuse:${serverName}) or ${MXC_EXPECTED}`,
    remote: `a user or file of this homeserver (${serverName}): only local media can be deleted; quarantine remote media instead`,
  });
  if (!targets.ok) return targets;
  // The rules take users and files only; the filter narrows the type.
  return ok({ action: "delete", targets: targets.value.flatMap((target) => (target.kind === "room" ? [] : [target])) });
}
