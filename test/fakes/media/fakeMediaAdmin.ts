import type { Mxc, RoomId, UserId } from "../../../src/matrix/ids.js";
import { formatMxc, serverNameOf } from "../../../src/matrix/ids.js";
import type { AdminError, MediaItemBody, SynapseAdminClient, UserMediaQuery } from "../../../src/synapse/adminClient.js";
import { MEDIA_NOT_SERVED } from "../../../src/synapse/adminClient.js";
import { err, ok } from "../../../src/util/result.js";
import { adminError } from "../fakeAdmin.js";
import { FakeReportAdmin } from "../fakeReportAdmin.js";
import { WARDEN_USER } from "../fakeRoomAdmin.js";

export type MediaAdminMethod =
  | "roomMedia"
  | "userMedia"
  | "mediaInfo"
  | "quarantineRoomMedia"
  | "quarantineUserMedia"
  | "quarantineMedia"
  | "unquarantineMedia"
  | "setMediaProtected";

export type MediaAdminCall =
  | { readonly method: "roomMedia" | "quarantineRoomMedia"; readonly roomId: RoomId }
  | { readonly method: "userMedia"; readonly userId: UserId; readonly query: UserMediaQuery }
  | { readonly method: "quarantineUserMedia"; readonly userId: UserId }
  | { readonly method: "mediaInfo" | "quarantineMedia" | "unquarantineMedia"; readonly mxc: string }
  | { readonly method: "setMediaProtected"; readonly mediaId: string; readonly protect: boolean };

/** One row of Synapse's local_media_repository (no origin) or remote_media_cache. */
export interface StoredFile {
  readonly origin: string;
  readonly mediaId: string;
  readonly local: boolean;
  readonly userId?: string;
  readonly mediaType: string;
  readonly length: number;
  readonly createdTs: number;
  /** Synapse 1.128 and later hash what they store; older rows have none. */
  readonly sha256?: string;
  quarantinedBy?: string;
  /** Local files only: the protect flag (remote rows have none). */
  safe: boolean;
}

type Answer<M extends MediaAdminMethod> = ReturnType<SynapseAdminClient[M]>;

/**
 * FakeReportAdmin plus Synapse's media admin API, answered the way Synapse 1.163 answers it
 * (synapse/rest/admin/media.py and _quarantine_media_txn in storage/databases/main/room.py):
 * files are quarantined with every file of the same sha256, local and remote; the room and
 * user forms and the single-file form alike skip protected local files, also as duplicates;
 * the count is the rows updated, so a file already quarantined counts again, except in the user
 * form, which takes only the user's uploads not yet quarantined. Undo releases the duplicates too.
 * Single-file calls and protect answer {} whatever the server holds; media info answers 404
 * "Unknown media". `notServed` answers every call as a main process beside a media worker does.
 */
export class FakeMediaAdmin extends FakeReportAdmin implements Pick<SynapseAdminClient, MediaAdminMethod> {
  readonly serverName = "example.org";
  /** Who the homeserver records as quarantining: Warden's own account makes the admin calls. */
  readonly adminUserId = WARDEN_USER;
  readonly mediaCalls: MediaAdminCall[] = [];
  readonly files: StoredFile[] = [];
  /** Room -> the content URIs its messages name, repeats and files this server never held included. */
  readonly roomUris = new Map<string, string[]>();
  readonly localUsers = new Set<string>();
  readonly mediaFailures = new Map<MediaAdminMethod, AdminError>();
  notServed = false;
  private nextId = 1;

  /** A local user uploads a file; its content decides its hash. */
  upload(userId: string, content = `content-${this.nextId}`, options: { mediaId?: string; mediaType?: string; length?: number; hashed?: boolean } = {}): string {
    this.localUsers.add(userId);
    const mediaId = options.mediaId ?? `local${this.nextId++}`;
    this.files.push({
      origin: this.serverName,
      mediaId,
      local: true,
      userId,
      mediaType: options.mediaType ?? "image/png",
      length: options.length ?? 2_048,
      createdTs: 1_700_000_000_000,
      ...(options.hashed === false ? {} : { sha256: `sha-${content}` }),
      safe: false,
    });
    return `mxc://${this.serverName}/${mediaId}`;
  }

  /** A file of another server that this one fetched and cached. */
  cache(origin: string, content = `content-${this.nextId}`, mediaId = `remote${this.nextId++}`): string {
    this.files.push({ origin, mediaId, local: false, mediaType: "image/jpeg", length: 4_096, createdTs: 1_700_000_000_000, sha256: `sha-${content}`, safe: false });
    return `mxc://${origin}/${mediaId}`;
  }

  /** Messages in the room name these files (the room must be known through addRoom for roomDetails). */
  sendInRoom(roomId: string, ...uris: string[]): void {
    this.roomUris.set(roomId, [...(this.roomUris.get(roomId) ?? []), ...uris]);
  }

  file(uri: string): StoredFile | undefined {
    return this.files.find((file) => formatMxc(file) === uri);
  }

  /** Sets a stored file's flags as an earlier quarantine or protect would have; the file must exist. */
  change(uri: string, flags: { readonly quarantinedBy?: string; readonly safe?: boolean }): void {
    const file = this.file(uri);
    if (file === undefined) throw new Error(`the fake holds no ${uri}`);
    if (flags.quarantinedBy !== undefined) file.quarantinedBy = flags.quarantinedBy;
    if (flags.safe !== undefined) file.safe = flags.safe;
  }

  private fails(method: MediaAdminMethod): AdminError | undefined {
    if (this.notServed) return { kind: "not-found", status: 404, errcode: "M_UNRECOGNIZED", detail: "Unrecognized request", userMessage: MEDIA_NOT_SERVED };
    return this.mediaFailures.get(method);
  }

  roomMedia(roomId: RoomId): Answer<"roomMedia"> {
    this.mediaCalls.push({ method: "roomMedia", roomId });
    const failure = this.fails("roomMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const uris = this.roomUris.get(roomId) ?? [];
    const local = uris.filter((uri) => uri.startsWith(`mxc://${this.serverName}/`));
    return Promise.resolve(ok({ local, remote: uris.filter((uri) => !local.includes(uri)) }));
  }

  userMedia(userId: UserId, query: UserMediaQuery = {}): Answer<"userMedia"> {
    this.mediaCalls.push({ method: "userMedia", userId, query });
    const failure = this.fails("userMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (serverNameOf(userId) !== this.serverName) return Promise.resolve(err(adminError("bad-request", 400, "Can only look up local users")));
    if (!this.localUsers.has(userId)) return Promise.resolve(err(adminError("not-found", 404, "Unknown user")));
    const all = this.files.filter((file) => file.local && file.userId === userId);
    const from = query.from ?? 0;
    const limit = query.limit ?? 100;
    const page = all.slice(from, from + limit).map((file) => this.info(file));
    return Promise.resolve(ok({ media: page, total: all.length, ...(from + limit < all.length ? { next_token: from + limit } : {}) }));
  }

  mediaInfo(mxc: Mxc): Answer<"mediaInfo"> {
    this.mediaCalls.push({ method: "mediaInfo", mxc: formatMxc(mxc) });
    const failure = this.fails("mediaInfo");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const file = this.file(formatMxc(mxc));
    return Promise.resolve(file === undefined ? err(adminError("not-found", 404, "Unknown media")) : ok({ media_info: this.info(file) }));
  }

  quarantineRoomMedia(roomId: RoomId): Answer<"quarantineRoomMedia"> {
    this.mediaCalls.push({ method: "quarantineRoomMedia", roomId });
    const failure = this.fails("quarantineRoomMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const named = (this.roomUris.get(roomId) ?? []).flatMap((uri) => this.files.filter((file) => formatMxc(file) === uri));
    return Promise.resolve(ok({ num_quarantined: this.mark(named, this.adminUserId) }));
  }

  quarantineUserMedia(userId: UserId): Answer<"quarantineUserMedia"> {
    this.mediaCalls.push({ method: "quarantineUserMedia", userId });
    const failure = this.fails("quarantineUserMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const uploads = this.files.filter((file) => file.local && file.userId === userId && file.quarantinedBy === undefined);
    return Promise.resolve(ok({ num_quarantined: this.mark(uploads, this.adminUserId) }));
  }

  quarantineMedia(mxc: Mxc): Answer<"quarantineMedia"> {
    this.mediaCalls.push({ method: "quarantineMedia", mxc: formatMxc(mxc) });
    const failure = this.fails("quarantineMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    this.mark(this.files.filter((file) => formatMxc(file) === formatMxc(mxc)), this.adminUserId);
    return Promise.resolve(ok({}));
  }

  unquarantineMedia(mxc: Mxc): Answer<"unquarantineMedia"> {
    this.mediaCalls.push({ method: "unquarantineMedia", mxc: formatMxc(mxc) });
    const failure = this.fails("unquarantineMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    this.mark(this.files.filter((file) => formatMxc(file) === formatMxc(mxc)), undefined);
    return Promise.resolve(ok({}));
  }

  setMediaProtected(mediaId: string, protect: boolean): Answer<"setMediaProtected"> {
    this.mediaCalls.push({ method: "setMediaProtected", mediaId, protect });
    const failure = this.fails("setMediaProtected");
    if (failure !== undefined) return Promise.resolve(err(failure));
    for (const file of this.files) if (file.local && file.mediaId === mediaId) file.safe = protect;
    return Promise.resolve(ok({}));
  }

  /**
   * _quarantine_media_txn: the named files' hashes (protected local files skipped when
   * quarantining), then every row with such a hash, or the named row itself when it has none;
   * protected local rows are never marked. Returns the rows updated.
   */
  private mark(named: readonly StoredFile[], by: string | undefined): number {
    const quarantining = by !== undefined;
    const eligible = named.filter((file) => !(quarantining && file.local && file.safe));
    const hashes = new Set(eligible.flatMap((file) => (file.sha256 === undefined ? [] : [file.sha256])));
    const unhashed = new Set(eligible.filter((file) => file.sha256 === undefined));
    const rows = this.files.filter((file) => (unhashed.has(file) || (file.sha256 !== undefined && hashes.has(file.sha256))) && !(quarantining && file.local && file.safe));
    for (const row of rows) {
      if (by === undefined) delete row.quarantinedBy;
      else row.quarantinedBy = by;
    }
    return rows.length;
  }

  private info(file: StoredFile): MediaItemBody {
    return {
      media_id: file.mediaId,
      media_origin: file.local ? null : file.origin,
      user_id: file.userId ?? null,
      media_type: file.mediaType,
      media_length: file.length,
      upload_name: null,
      created_ts: file.createdTs,
      last_access_ts: null,
      quarantined_by: file.quarantinedBy ?? null,
      safe_from_quarantine: file.local ? file.safe : null,
    };
  }
}
