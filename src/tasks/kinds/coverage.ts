import type { TaskKind, TaskParameters, TaskRecord } from "../types.js";

/**
 * Whether a job already running does at least what a new request of the same kind on the same
 * target asks for, so that the request may join it and report its end as its own. A job that
 * does less must not be joined: the request waits for it to end and sends its own (a wave), or
 * is refused with the running job named (a single command). Parameters Warden cannot read (a
 * record written by an older Warden) never cover anything: waiting costs time, a wrong join
 * leaves work undone.
 */
export function covers(existing: TaskRecord, kind: TaskKind, wanted: TaskParameters): boolean {
  if (existing.kind !== kind) return false;
  const had = existing.parameters;
  switch (kind) {
    case "purge":
      return purgeCovers(had, wanted);
    case "shutdown":
      return shutdownCovers(had, wanted);
    case "redact":
      return redactCovers(had, wanted);
  }
}

/**
 * A purge removes everything before its point: a running purge covers a new one when its point
 * is no earlier and it deletes local users' messages whenever the new one does. (An event point
 * is recorded with the event's own time as `cutoffTs`, so both forms compare by time.)
 */
function purgeCovers(had: TaskParameters, wanted: TaskParameters): boolean {
  const { cutoffTs: hadTs, deleteLocalEvents: hadLocal } = had;
  const { cutoffTs: wantedTs, deleteLocalEvents: wantedLocal } = wanted;
  if (typeof hadTs !== "number" || typeof wantedTs !== "number" || typeof hadLocal !== "boolean" || typeof wantedLocal !== "boolean") return false;
  return hadTs >= wantedTs && (hadLocal || !wantedLocal);
}

/** A delete covers another when it blocks, purges and forces whenever the other one does. */
function shutdownCovers(had: TaskParameters, wanted: TaskParameters): boolean {
  return (["block", "purge", "forcePurge"] as const).every((flag) => {
    const mine = had[flag];
    const theirs = wanted[flag];
    return typeof mine === "boolean" && typeof theirs === "boolean" && (mine || !theirs);
  });
}

/**
 * A redaction covers another of the same user when it reaches every room the other names (an
 * empty list is Synapse's own set, the rooms the user is joined to or banned from, which only
 * covers the same set) and redacts at least as many events per room.
 */
function redactCovers(had: TaskParameters, wanted: TaskParameters): boolean {
  const hadRooms = had["rooms"];
  const wantedRooms = wanted["rooms"];
  if (!Array.isArray(hadRooms) || !Array.isArray(wantedRooms)) return false;
  const rooms = hadRooms.length === 0 ? wantedRooms.length === 0 : wantedRooms.length > 0 && wantedRooms.every((room) => hadRooms.includes(room));
  // Synapse's default limit is 1000 when none is given.
  const limit = (parameters: TaskParameters): number => (typeof parameters["limit"] === "number" ? parameters["limit"] : 1000);
  return rooms && limit(had) >= limit(wanted);
}
