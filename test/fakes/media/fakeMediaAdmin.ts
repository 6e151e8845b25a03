import { formatMxc, serverNameOf, type Mxc, type RoomId, type UserId } from "../../../src/matrix/ids.js";
import { MEDIA_NOT_SERVED, type AdminError, type MediaItemBody, type SynapseAdminClient, type UserMediaQuery } from "../../../src/synapse/adminClient.js";
import { err, ok } from "../../../src/util/result.js";
import { adminError } from "../fakeAdmin.js";
import { FakeReportAdmin } from "../fakeReportAdmin.js";
import { WARDEN_USER } from "../fakeRoomAdmin.js";

export const SERVER_NAME = "example.org";

/** Answered the way a media worker of this version answers when its route is missing: M_UNRECOGNIZED, read by the admin client. */
export const NOT_SERVED: AdminError = { kind: "bad-request", status: 405, errcode: "M_UNRECOGNIZED", detail: "Unrecognized request", userMessage: MEDIA_NOT_SERVED };

export type MediaAdminMethod =
  | "roomMedia"
  | "userMedia"
  | "mediaInfo"
  | "deleteMedia"
  | "quarantineRoomMedia"
  | "quarantineUserMedia"
  | "quarantineMedia"
  | "unquarantineMedia"
  | "setMediaProtected";

export type MediaAdminCall =
  | { readonly method: "roomMedia" | "quarantineRoomMedia"; readonly roomId: RoomId }
  | { readonly method: "userMedia"; readonly userId: UserId; readonly from?: number; readonly limit?: number }
  | { readonly method: "quarantineUserMedia"; readonly userId: UserId }
  | { readonly method: "mediaInfo" | "deleteMedia" | "quarantineMedia" | "unquarantineMedia"; readonly uri: string }
  | { readonly method: "setMediaProtected"; readonly mediaId: string; readonly protect: boolean };

/** One row of Synapse's local_media_repository (an upload here) or remote_media_cache (another server's file cached here). */
export interface StoredFile {
  readonly origin: string;
  readonly mediaId: string;
  readonly local: boolean;
  readonly userId?: string;
  readonly type: string;
  readonly bytes: number;
  readonly createdTs: number;
  /** Synapse 1.128 and later hash what they store; older rows have none. */
  readonly sha256?: string;
  quarantinedBy?: string;
  /** Local files only: safe_from_quarantine (remote rows have none). */
  protected: boolean;
}

export interface UploadOptions {
  /** What the file holds: files of the same content share a hash, which a quarantine follows. Default: unique. */
  readonly content?: string;
  readonly mediaId?: string;
  readonly type?: string;
  readonly bytes?: number;
  readonly protected?: boolean;
  /** false: a row stored before Synapse hashed files (1.128). */
  readonly hashed?: boolean;
}

type Answer<M extends MediaAdminMethod> = ReturnType<SynapseAdminClient[M]>;

/**
 * FakeReportAdmin plus Synapse's media admin API, answered the way Synapse 1.163 answers it
 * (synapse/rest/admin/media.py, users.py, and _quarantine_media_txn in storage/databases/main/room.py):
 * - a room's list is the URIs its messages name, newest message first, repeats included, whether
 *   or not the file is still held, and an empty list for a room it does not know (a room
 *   something was posted in is known to roomDetails; addRoom names one);
 * - a user's uploads newest first, paged by offset with `total`, 400 for a remote user and 404
 *   for an unknown one; media info for held files only (404 "Unknown media");
 * - deletion by id of local files only, protected or not (protection is the caller's business);
 * - files are quarantined with every file of the same sha256, local and remote; the room, user
 *   and single-file forms alike skip protected local files, also as duplicates; the count is the
 *   rows updated, so a file already quarantined counts again, except in the user form, which takes
 *   only the user's uploads not yet quarantined. Undo releases the duplicates too.
 * Single-file (un)quarantine and protect answer {} whatever the server holds. `notServed` answers
 * every media call as a main process beside a media worker does.
 */
export class FakeMediaAdmin extends FakeReportAdmin implements Pick<SynapseAdminClient, MediaAdminMethod> {
  /** Who the homeserver records as quarantining: Warden's own account makes the admin calls. */
  readonly adminUserId = WARDEN_USER;
  readonly mediaCalls: MediaAdminCall[] = [];
  /** URI -> the file this server holds. */
  readonly files = new Map<string, StoredFile>();
  /** Room -> the content URIs its messages name, newest message first. */
  readonly roomUris = new Map<string, string[]>();
  readonly localUsers = new Set<string>([`@mod:${SERVER_NAME}`]);
  /** Every call of the method answers this error. */
  readonly mediaFailures = new Map<MediaAdminMethod, AdminError>();
  /** URI -> the error its media info or deletion answers. */
  readonly fileFailures = new Map<string, { readonly method: "mediaInfo" | "deleteMedia"; readonly error: AdminError }>();
  /** Called when a file is about to be deleted (after its info was read), to change the server in between. */
  onDelete?: (uri: string) => void;
  notServed = false;
  private nextId = 1;
  private clock = 1_700_000_000_000;

  /** A local user uploads a file. */
  upload(userId: string, options: UploadOptions = {}): string {
    this.localUsers.add(userId);
    const id = this.nextId++;
    const mediaId = options.mediaId ?? `file${id}`;
    const content = options.content ?? `content-${id}`;
    return this.store({
      origin: SERVER_NAME,
      mediaId,
      local: true,
      userId,
      type: options.type ?? "image/png",
      bytes: options.bytes ?? 1024,
      createdTs: this.tick(),
      ...(options.hashed === false ? {} : { sha256: `sha-${content}` }),
      protected: options.protected ?? false,
    });
  }

  /** A file of another server that this one fetched and cached. */
  cache(origin: string, options: { readonly mediaId?: string; readonly content?: string; readonly bytes?: number } = {}): string {
    const id = this.nextId++;
    const content = options.content ?? `content-${id}`;
    return this.store({
      origin,
      mediaId: options.mediaId ?? `remote${id}`,
      local: false,
      type: "image/jpeg",
      bytes: options.bytes ?? 2048,
      createdTs: this.tick(),
      sha256: `sha-${content}`,
      protected: false,
    });
  }

  /** One message per URI, sent in this order: Synapse lists the newest message's first. The room becomes known. */
  post(roomId: string, ...uris: string[]): void {
    if (!this.rooms.has(roomId)) this.addRoom(roomId, null);
    this.roomUris.set(roomId, [...[...uris].reverse(), ...(this.roomUris.get(roomId) ?? [])]);
  }

  file(uri: string): StoredFile | undefined {
    return this.files.get(uri);
  }

  /** Sets a stored file's flags as an earlier quarantine or protect would have; the file must exist. */
  change(uri: string, flags: { readonly quarantinedBy?: string; readonly protected?: boolean }): void {
    const file = this.file(uri);
    if (file === undefined) throw new Error(`the fake holds no ${uri}`);
    if (flags.quarantinedBy !== undefined) file.quarantinedBy = flags.quarantinedBy;
    if (flags.protected !== undefined) file.protected = flags.protected;
  }

  mediaCallsOf<M extends MediaAdminMethod>(method: M): (MediaAdminCall & { readonly method: M })[] {
    return this.mediaCalls.filter((call): call is MediaAdminCall & { readonly method: M } => call.method === method);
  }

  roomMedia(roomId: RoomId): Answer<"roomMedia"> {
    this.mediaCalls.push({ method: "roomMedia", roomId });
    const failure = this.fails("roomMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const uris = this.roomUris.get(roomId) ?? [];
    const local = uris.filter((uri) => uri.startsWith(`mxc://${SERVER_NAME}/`));
    return Promise.resolve(ok({ local, remote: uris.filter((uri) => !local.includes(uri)) }));
  }

  userMedia(userId: UserId, query: UserMediaQuery = {}): Answer<"userMedia"> {
    this.mediaCalls.push({ method: "userMedia", userId, ...query });
    const failure = this.fails("userMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (serverNameOf(userId) !== SERVER_NAME) return Promise.resolve(err(adminError("bad-request", 400, "Can only look up local users")));
    if (!this.localUsers.has(userId) && !this.accounts.has(userId)) return Promise.resolve(err(adminError("not-found", 404, "Unknown user")));
    const start = query.from ?? 0;
    const limit = query.limit ?? 100;
    const all = this.stored()
      .filter((file) => file.local && file.userId === userId)
      .sort((a, b) => b.createdTs - a.createdTs);
    const media = all.slice(start, start + limit).map((file) => this.item(file, false));
    return Promise.resolve(ok({ media, total: all.length, ...(start + limit < all.length ? { next_token: start + media.length } : {}) }));
  }

  mediaInfo(mxc: Mxc): Answer<"mediaInfo"> {
    const uri = formatMxc(mxc);
    this.mediaCalls.push({ method: "mediaInfo", uri });
    const failure = this.fails("mediaInfo", uri);
    if (failure !== undefined) return Promise.resolve(err(failure));
    const file = this.files.get(uri);
    return Promise.resolve(file === undefined ? err(adminError("not-found", 404, "Unknown media")) : ok({ media_info: this.item(file, true) }));
  }

  deleteMedia(mxc: Mxc): Answer<"deleteMedia"> {
    const uri = formatMxc(mxc);
    this.mediaCalls.push({ method: "deleteMedia", uri });
    this.onDelete?.(uri);
    const failure = this.fails("deleteMedia", uri);
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (mxc.origin !== SERVER_NAME) return Promise.resolve(err(adminError("bad-request", 400, "Can only delete local media")));
    if (!this.files.delete(uri)) return Promise.resolve(err(adminError("not-found", 404, "Unknown media")));
    return Promise.resolve(ok({ deleted_media: [mxc.mediaId], total: 1 }));
  }

  quarantineRoomMedia(roomId: RoomId): Answer<"quarantineRoomMedia"> {
    this.mediaCalls.push({ method: "quarantineRoomMedia", roomId });
    const failure = this.fails("quarantineRoomMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const named = (this.roomUris.get(roomId) ?? []).flatMap((uri) => this.files.get(uri) ?? []);
    return Promise.resolve(ok({ num_quarantined: this.mark(named, this.adminUserId) }));
  }

  quarantineUserMedia(userId: UserId): Answer<"quarantineUserMedia"> {
    this.mediaCalls.push({ method: "quarantineUserMedia", userId });
    const failure = this.fails("quarantineUserMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const uploads = this.stored().filter((file) => file.local && file.userId === userId && file.quarantinedBy === undefined);
    return Promise.resolve(ok({ num_quarantined: this.mark(uploads, this.adminUserId) }));
  }

  quarantineMedia(mxc: Mxc): Answer<"quarantineMedia"> {
    const uri = formatMxc(mxc);
    this.mediaCalls.push({ method: "quarantineMedia", uri });
    const failure = this.fails("quarantineMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    this.mark(this.stored().filter((file) => formatMxc(file) === uri), this.adminUserId);
    return Promise.resolve(ok({}));
  }

  unquarantineMedia(mxc: Mxc): Answer<"unquarantineMedia"> {
    const uri = formatMxc(mxc);
    this.mediaCalls.push({ method: "unquarantineMedia", uri });
    const failure = this.fails("unquarantineMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    this.mark(this.stored().filter((file) => formatMxc(file) === uri), undefined);
    return Promise.resolve(ok({}));
  }

  setMediaProtected(mediaId: string, protect: boolean): Answer<"setMediaProtected"> {
    this.mediaCalls.push({ method: "setMediaProtected", mediaId, protect });
    const failure = this.fails("setMediaProtected");
    if (failure !== undefined) return Promise.resolve(err(failure));
    for (const file of this.files.values()) if (file.local && file.mediaId === mediaId) file.protected = protect;
    return Promise.resolve(ok({}));
  }

  private tick(): number {
    const now = this.clock;
    this.clock += 1000;
    return now;
  }

  private store(file: StoredFile): string {
    const uri = formatMxc(file);
    this.files.set(uri, file);
    return uri;
  }

  private stored(): StoredFile[] {
    return [...this.files.values()];
  }

  private fails(method: MediaAdminMethod, uri?: string): AdminError | undefined {
    if (this.notServed) return { kind: "not-found", status: 404, errcode: "M_UNRECOGNIZED", detail: "Unrecognized request", userMessage: MEDIA_NOT_SERVED };
    const one = uri === undefined ? undefined : this.fileFailures.get(uri);
    return this.mediaFailures.get(method) ?? (one?.method === method ? one.error : undefined);
  }

  /**
   * _quarantine_media_txn: the named files' hashes (protected local files skipped when
   * quarantining), then every row with such a hash, or the named row itself when it has none;
   * protected local rows are never marked. Returns the rows updated.
   */
  private mark(named: readonly StoredFile[], by: string | undefined): number {
    const quarantining = by !== undefined;
    const spared = (file: StoredFile): boolean => quarantining && file.local && file.protected;
    const eligible = named.filter((file) => !spared(file));
    const hashes = new Set(eligible.flatMap((file) => (file.sha256 === undefined ? [] : [file.sha256])));
    const unhashed = new Set(eligible.filter((file) => file.sha256 === undefined));
    const rows = this.stored().filter((file) => (unhashed.has(file) || (file.sha256 !== undefined && hashes.has(file.sha256))) && !spared(file));
    for (const row of rows) {
      if (by === undefined) delete row.quarantinedBy;
      else row.quarantinedBy = by;
    }
    return rows.length;
  }

  /** As Synapse writes a file: the user list has no origin; media info names a remote one's. */
  private item(file: StoredFile, info: boolean): MediaItemBody {
    return {
      media_id: file.mediaId,
      ...(info ? { media_origin: file.local ? null : file.origin } : {}),
      user_id: file.userId ?? null,
      media_type: file.type,
      media_length: file.bytes,
      upload_name: null,
      created_ts: file.createdTs,
      last_access_ts: null,
      quarantined_by: file.quarantinedBy ?? null,
      safe_from_quarantine: file.local ? file.protected : null,
    };
  }
}
