import { formatMxc, type Mxc, type RoomId, type UserId } from "../../../src/matrix/ids.js";
import type { MediaAdmin } from "../../../src/commands/media/files.js";
import { MEDIA_NOT_SERVED, type AdminError, type MediaItemBody } from "../../../src/synapse/adminClient.js";
import { err, ok } from "../../../src/util/result.js";
import { adminError, roomDetails } from "../fakeAdmin.js";

export const SERVER_NAME = "example.org";

/** A file the fake homeserver holds: uploaded here, or a remote file cached here. */
export interface StoredFile {
  readonly origin: string;
  readonly mediaId: string;
  readonly userId?: string;
  readonly type: string;
  readonly bytes: number;
  readonly createdTs: number;
  quarantinedBy?: string;
  protected: boolean;
}

export type MediaCall =
  | { readonly method: "roomMedia"; readonly roomId: RoomId }
  | { readonly method: "roomDetails"; readonly roomId: RoomId }
  | { readonly method: "userMedia"; readonly userId: UserId; readonly from?: number; readonly limit?: number }
  | { readonly method: "mediaInfo"; readonly uri: string }
  | { readonly method: "deleteMedia"; readonly uri: string };

type Method = MediaCall["method"];

/** Answered the way a media worker of this version answers when its route is missing: M_UNRECOGNIZED, read by the admin client. */
export const NOT_SERVED: AdminError = { kind: "bad-request", status: 405, errcode: "M_UNRECOGNIZED", detail: "Unrecognized request", userMessage: MEDIA_NOT_SERVED };

/**
 * The media admin calls answered as Synapse 1.163 answers them: a room's list is the URIs its
 * messages name (newest first, repeats included, whether or not the file is still held), and
 * an empty list for a room it does not know; a user's uploads newest first, paged by offset with
 * `total`, 400 for a remote user and 404 for an unknown one; media info for held files only;
 * deletion by id of local files only, protected or not (protection is the caller's business).
 */
export class FakeMediaAdmin implements MediaAdmin {
  readonly calls: MediaCall[] = [];
  readonly files = new Map<string, StoredFile>();
  /** Room -> the URIs its messages name, newest message first. */
  readonly rooms = new Map<string, string[]>();
  readonly users = new Set<string>([`@mod:${SERVER_NAME}`]);
  /** Every call of the method answers this error. */
  readonly failures = new Map<Method, AdminError>();
  /** URI -> the error its media info or deletion answers. */
  readonly fileFailures = new Map<string, { readonly method: "mediaInfo" | "deleteMedia"; readonly error: AdminError }>();
  /** Called when a file is about to be deleted (after its info was read), to change the server in between. */
  onDelete?: (uri: string) => void;
  private clock = 1_700_000_000_000;

  upload(userId: string, options: { mediaId?: string; bytes?: number; type?: string; protected?: boolean } = {}): string {
    this.users.add(userId);
    const mediaId = options.mediaId ?? `file${this.files.size + 1}`;
    this.files.set(formatMxc({ origin: SERVER_NAME, mediaId }), {
      origin: SERVER_NAME,
      mediaId,
      userId,
      type: options.type ?? "image/png",
      bytes: options.bytes ?? 1024,
      createdTs: (this.clock += 1000),
      protected: options.protected ?? false,
    });
    return formatMxc({ origin: SERVER_NAME, mediaId });
  }

  cacheRemote(origin: string, mediaId: string, bytes = 2048): string {
    const uri = formatMxc({ origin, mediaId });
    this.files.set(uri, { origin, mediaId, type: "image/jpeg", bytes, createdTs: (this.clock += 1000), protected: false });
    return uri;
  }

  /** One message per URI, sent in this order: Synapse lists the newest message's first. */
  post(roomId: string, ...uris: string[]): void {
    this.rooms.set(roomId, [...[...uris].reverse(), ...(this.rooms.get(roomId) ?? [])]);
  }

  file(uri: string): StoredFile | undefined {
    return this.files.get(uri);
  }

  callsOf<M extends Method>(method: M): Extract<MediaCall, { method: M }>[] {
    return this.calls.filter((call): call is Extract<MediaCall, { method: M }> => call.method === method);
  }

  roomMedia(roomId: RoomId) {
    this.calls.push({ method: "roomMedia", roomId });
    const failure = this.failures.get("roomMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    const uris = this.rooms.get(roomId) ?? [];
    const local = uris.filter((uri) => uri.startsWith(`mxc://${SERVER_NAME}/`));
    return Promise.resolve(ok({ local, remote: uris.filter((uri) => !local.includes(uri)) }));
  }

  roomDetails(roomId: RoomId) {
    this.calls.push({ method: "roomDetails", roomId });
    const failure = this.failures.get("roomDetails");
    if (failure !== undefined) return Promise.resolve(err(failure));
    return Promise.resolve(this.rooms.has(roomId) ? ok(roomDetails(roomId, null)) : err(adminError("not-found", 404, "Room not found")));
  }

  userMedia(userId: UserId, query: { from?: number; limit?: number } = {}) {
    this.calls.push({ method: "userMedia", userId, ...query });
    const failure = this.failures.get("userMedia");
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (!userId.endsWith(`:${SERVER_NAME}`)) return Promise.resolve(err(adminError("bad-request", 400, "Can only look up local users")));
    if (!this.users.has(userId)) return Promise.resolve(err(adminError("not-found", 404, "Unknown user")));
    const start = query.from ?? 0;
    const limit = query.limit ?? 100;
    const all = [...this.files.values()].filter((file) => file.userId === userId).sort((a, b) => b.createdTs - a.createdTs);
    const media = all.slice(start, start + limit).map((file) => this.item(file, false));
    return Promise.resolve(ok({ media, total: all.length, ...(start + limit < all.length ? { next_token: start + media.length } : {}) }));
  }

  mediaInfo(mxc: Mxc) {
    const uri = formatMxc(mxc);
    this.calls.push({ method: "mediaInfo", uri });
    const failure = this.failureFor("mediaInfo", uri);
    if (failure !== undefined) return Promise.resolve(err(failure));
    const file = this.files.get(uri);
    return Promise.resolve(file === undefined ? err(adminError("not-found", 404, "Unknown media")) : ok({ media_info: this.item(file, true) }));
  }

  deleteMedia(mxc: Mxc) {
    const uri = formatMxc(mxc);
    this.calls.push({ method: "deleteMedia", uri });
    this.onDelete?.(uri);
    const failure = this.failureFor("deleteMedia", uri);
    if (failure !== undefined) return Promise.resolve(err(failure));
    if (mxc.origin !== SERVER_NAME) return Promise.resolve(err(adminError("bad-request", 400, "Can only delete local media")));
    if (!this.files.delete(uri)) return Promise.resolve(err(adminError("not-found", 404, "Unknown media")));
    return Promise.resolve(ok({ deleted_media: [mxc.mediaId], total: 1 }));
  }

  private failureFor(method: "mediaInfo" | "deleteMedia", uri: string): AdminError | undefined {
    const one = this.fileFailures.get(uri);
    return this.failures.get(method) ?? (one?.method === method ? one.error : undefined);
  }

  /** As Synapse writes a file: the user list has no origin; media info names a remote one's. */
  private item(file: StoredFile, info: boolean): MediaItemBody {
    const local = file.origin === SERVER_NAME;
    return {
      media_id: file.mediaId,
      ...(info ? { media_origin: local ? null : file.origin } : {}),
      user_id: file.userId ?? null,
      media_type: file.type,
      media_length: file.bytes,
      upload_name: null,
      created_ts: file.createdTs,
      last_access_ts: null,
      quarantined_by: file.quarantinedBy ?? null,
      safe_from_quarantine: local ? file.protected : null,
    };
  }
}
