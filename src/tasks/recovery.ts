import { CLOCK_SLACK_MS, type HomeserverJob } from "./homeserverJobs.js";

export { CLOCK_SLACK_MS };

export type Adoption =
  | { readonly kind: "found"; readonly jobId: string }
  | { readonly kind: "none" }
  | { readonly kind: "ambiguous"; readonly jobIds: readonly string[] };

/**
 * Which of the homeserver's jobs can only be the one Warden's lost request created: same action
 * and resource, stamped since the request left (a job that ended before that cannot be it), and
 * not already followed by another Warden task. More than one left is reported, never guessed.
 */
export function chooseOwnJob(
  jobs: readonly HomeserverJob[],
  wanted: { readonly action: string; readonly resourceId: string; readonly submittedAt: number },
  ownedElsewhere: ReadonlySet<string>,
): Adoption {
  const candidates = jobs.filter(
    (job) =>
      job.action === wanted.action &&
      job.resourceId === wanted.resourceId &&
      job.timestampMs >= wanted.submittedAt - CLOCK_SLACK_MS &&
      !ownedElsewhere.has(job.id),
  );
  const [only, ...others] = candidates;
  if (only === undefined) return { kind: "none" };
  if (others.length > 0) return { kind: "ambiguous", jobIds: candidates.map((job) => job.id) };
  return { kind: "found", jobId: only.id };
}
