/**
 * What !quarantine, !quarantine --undo, !protect and !unprotect report, target by target. Plain
 * facts only: render/mediaActions.ts turns them into chat text, and the preview into its lines.
 */

export type MediaAction = "quarantine" | "unquarantine" | "protect" | "unprotect";

/** One command acts on at most this many targets: each costs a few admin requests, one after another. */
export const MAX_MEDIA_TARGETS = 100;

/** Why a target was left as it was; nothing was sent to change it. */
export type MediaUnchanged =
  /** Synapse answered 404 for the file: not an upload of this server, nor a remote file it cached. */
  | { readonly why: "no-such-file"; readonly remote: boolean }
  | { readonly why: "already-quarantined"; readonly by?: string }
  /** A single-file quarantine spares protected local files, as the room and user ones do. */
  | { readonly why: "protected" }
  | { readonly why: "not-quarantined" }
  | { readonly why: "already-protected" }
  | { readonly why: "not-protected" }
  | { readonly why: "unknown-room" }
  | { readonly why: "unknown-user" };

export type MediaTargetResult =
  /**
   * `count`: Synapse's num_quarantined, for a room or a user. `stillQuarantined`: a file
   * protected (or unprotected) while quarantined stays unserved until --undo.
   */
  | { readonly status: "done"; readonly count?: number; readonly stillQuarantined?: true }
  | { readonly status: "unchanged"; readonly unchanged: MediaUnchanged }
  | { readonly status: "failed"; readonly reason: string }
  /** Never sent: an earlier failure showed the homeserver process cannot do it (see `stopped`). */
  | { readonly status: "not-tried" };

export interface MediaTargetEntry {
  readonly kind: "room" | "user" | "file";
  /** As the moderator named it (with the room ID when named by alias), shown back in the reply. */
  readonly label: string;
  readonly result: MediaTargetResult;
}

export interface MediaActionOutcome {
  readonly kind: "media-action";
  readonly action: MediaAction;
  /** In the order the command named them. */
  readonly entries: readonly MediaTargetEntry[];
  /** Why the targets marked not-tried were not sent. */
  readonly stopped?: string;
  /** A (un)quarantine failed with a 5xx: the reply adds QUARANTINE_WRITER_HINT. */
  readonly serverError?: true;
}

/**
 * Synapse's own behaviour, said in the previews and replies where it applies; read in
 * synapse/storage/databases/main/room.py (_quarantine_media_txn) and media_repository.py, 1.128 to 1.163.
 */
export const SAME_CONTENT_NOTE =
  "Since Synapse 1.128 a quarantine reaches every file with the same content (the same SHA-256): this server's uploads and its cached copies of other servers' files alike, wherever they were sent, and later uploads of that content as they arrive. Synapse's numbers count them.";

export function protectedNote(prefix: string): string {
  return `Protected files (${prefix}protect) stay served: a room or user quarantine leaves them out, a protected file named alone is not quarantined, and one with the same content as a quarantined file is spared.`;
}

export const COUNT_NOTE =
  "Synapse's number for a room counts a file already quarantined again; for a user it counts only uploads not yet quarantined; both count the duplicates by content that went with them.";

export function undoNote(prefix: string): string {
  return `Undo one file at a time with ${prefix}quarantine --undo <mxc>; Synapse has no undo for a whole room or user.`;
}

/** What an undo also does: Synapse releases a file's duplicates by content with it. */
export const UNDO_SAME_CONTENT_NOTE =
  "Synapse serves every file with the same content (the same SHA-256) again along with it, whoever quarantined them.";

/**
 * A quarantine refused with a 5xx on a worker deployment is usually the stream-writer rule: since
 * Synapse 1.152 only a `quarantined_media_changes` stream writer may (un)quarantine, and any other
 * process fails an assertion (a 500) instead of saying so.
 */
export const QUARANTINE_WRITER_HINT =
  "On a worker deployment since Synapse 1.152, the process that serves the media admin API must also be a quarantined_media_changes stream writer; otherwise Synapse fails with a 500.";

/** The audit log's line for a media action: which targets, and what became of them (counts of files where Synapse gave one). */
export function mediaActionAudit(outcome: MediaActionOutcome): { readonly target: string; readonly detail: string } {
  const labels = outcome.entries.map((entry) => entry.label);
  const shown = labels.slice(0, 10).join(", ");
  const statuses = ["done", "unchanged", "failed", "not-tried"] as const;
  const detail = statuses
    .map((status) => {
      const entries = outcome.entries.filter((entry) => entry.result.status === status);
      const files = entries.reduce((sum, entry) => sum + (entry.result.status === "done" ? (entry.result.count ?? 0) : 0), 0);
      return entries.length === 0 ? "" : `${entries.length} ${status}${files > 0 ? ` (${files} ${files === 1 ? "file" : "files"} by Synapse's count)` : ""}`;
    })
    .filter((part) => part !== "")
    .join(", ");
  return { target: labels.length > 10 ? `${shown} and ${labels.length - 10} more` : shown, detail: `${outcome.action}: ${detail}` };
}
