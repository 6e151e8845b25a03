import type { Mxc } from "../matrix/ids.js";

/**
 * What !media reports: the files of a room, of a user or one file, and what a deletion did.
 * Plain facts only: render/media.ts turns them into chat text. A field left out is one the
 * homeserver did not report.
 */

/** One file as a moderator sees it in a list. */
export interface MediaFile {
  /** mxc://<origin>/<media id>, as Matrix names it. */
  readonly uri: string;
  readonly bytes?: number;
  readonly type?: string;
  /** The local user who uploaded it; remote files have none. */
  readonly uploader?: string;
  /** When it was uploaded (or, for a remote file, first cached here), epoch ms. */
  readonly uploadedAt?: number;
  readonly quarantinedBy?: string;
  /** Safe from quarantine (and from Warden's deletion); only local files can be. */
  readonly protected?: boolean;
  /** Set when only the URI is known: why its details could not be read. */
  readonly unread?: string;
}

/** The total size of a set of files, and how much of the set it covers. */
export type MediaSize =
  | {
      readonly read: true;
      /** The sizes the homeserver reported, added up. */
      readonly bytes: number;
      /** Files whose size could not be read (gone, not cached, not reported): not in `bytes`. */
      readonly unknown: number;
      /** Set when Warden read only the first this many files' sizes (the rest are not in `bytes`). */
      readonly boundedAt?: number;
    }
  /** No size at all: the homeserver cannot say (an older Synapse, a media worker not routed). */
  | { readonly read: false; readonly why: string };

/** One page of a list of files. */
export interface MediaPage {
  /** 1-based. */
  readonly page: number;
  readonly pages: number;
  readonly pageSize: number;
  readonly entries: readonly MediaFile[];
  /** The command that shows the next page, when there is one. */
  readonly nextPageCommand?: string;
}

/** A deleted file, or one left alone and why. */
export interface MediaNotDeleted {
  readonly uri: string;
  readonly why: string;
}

/** Per user named in a deletion: how many uploads they have and how many this deletion looked at. */
export interface MediaUserScope {
  readonly userId: string;
  readonly uploads: number;
  /** Fewer than `uploads` when the per-command limit stopped the reading: the rest stay. */
  readonly looked: number;
}

/** What a confirmed !media delete did, file by file. */
export interface MediaDeletionReport {
  readonly deleted: readonly { readonly uri: string; readonly bytes?: number }[];
  /** Bytes of the deleted files whose size the homeserver reported. */
  readonly bytes: number;
  /** Protected files: at the preview, or protected between the preview and the confirmation. */
  readonly protectedFiles: readonly MediaNotDeleted[];
  /** Named files the homeserver did not hold, or files gone since the preview. */
  readonly gone: readonly MediaNotDeleted[];
  readonly failed: readonly MediaNotDeleted[];
  readonly users: readonly MediaUserScope[];
}

export type MediaOutcome =
  | {
      readonly kind: "media-room";
      readonly label: string;
      /** Distinct files named by the room's messages, this server's and other servers'. */
      readonly local: number;
      readonly remote: number;
      readonly size: MediaSize;
      readonly listing: MediaPage;
    }
  | { readonly kind: "media-user"; readonly userId: string; readonly uploads: number; readonly size: MediaSize; readonly listing: MediaPage }
  | { readonly kind: "media-file"; readonly file: MediaFile; readonly local: boolean }
  | ({ readonly kind: "media-deleted" } & MediaDeletionReport);

/**
 * Files one !media delete looks at, at most: each is read, checked and deleted by its own
 * request, so a user with tens of thousands of uploads is deleted over several commands, the
 * newest first, each previewed.
 */
export const MEDIA_DELETE_LIMIT = 1_000;

/** A file a deletion will delete: its parsed URI for the requests, and what the preview showed. */
export interface PlannedMediaFile {
  readonly mxc: Mxc;
  readonly file: MediaFile;
}

/** What a !media delete preview showed, kept until its confirmation: only these files are deleted. */
export interface MediaDeletionPlan {
  readonly files: readonly PlannedMediaFile[];
  readonly protectedFiles: readonly MediaFile[];
  /** Named files this server does not hold. */
  readonly notHeld: readonly string[];
  readonly users: readonly MediaUserScope[];
}
