/**
 * Branded Matrix identifiers: a string becomes a RoomId only by passing a check, so a
 * command can never hand an alias or free text to the admin client by mistake.
 */
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type RoomId = Brand<string, "RoomId">;
export type RoomAlias = Brand<string, "RoomAlias">;
export type UserId = Brand<string, "UserId">;
export type EventId = Brand<string, "EventId">;

// Grammar from the Matrix spec appendices; server names are kept loose on purpose
// (IPv6 literals, ports), the homeserver is the final judge.
const SERVER_NAME = String.raw`(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?`;
const ROOM_ID = new RegExp(String.raw`^![^:\s]+(?::${SERVER_NAME})?$`);
const ROOM_ALIAS = new RegExp(String.raw`^#[^:\s]+:${SERVER_NAME}$`);
const USER_ID = new RegExp(String.raw`^@[^:\s]+:${SERVER_NAME}$`);
const EVENT_ID = /^\$[^\s]+$/;

export function asRoomId(text: string): RoomId | undefined {
  return ROOM_ID.test(text) ? (text as RoomId) : undefined;
}
export function asRoomAlias(text: string): RoomAlias | undefined {
  return ROOM_ALIAS.test(text) ? (text as RoomAlias) : undefined;
}
export function asUserId(text: string): UserId | undefined {
  return USER_ID.test(text) ? (text as UserId) : undefined;
}
export function asEventId(text: string): EventId | undefined {
  return EVENT_ID.test(text) ? (text as EventId) : undefined;
}

/** Tells the two kinds of a checked room reference apart. */
export function isRoomAlias(reference: RoomId | RoomAlias): reference is RoomAlias {
  return reference.startsWith("#");
}

/** The server part of a user ID, e.g. "example.org" for "@alice:example.org". */
export function serverNameOf(userId: UserId): string {
  return userId.slice(userId.indexOf(":") + 1);
}

/** A content URI split into the server that holds the file and its media ID. */
export interface Mxc {
  readonly origin: string;
  readonly mediaId: string;
}

// The spec allows only these characters in a media ID; anything else cannot name a stored file.
const MXC = new RegExp(String.raw`^mxc://(${SERVER_NAME})/([A-Za-z0-9_-]+)$`);

/** `mxc://<server>/<media id>`, or undefined for any other text (a URL, a thumbnail path, a bare id). */
export function parseMxc(text: string): Mxc | undefined {
  const match = MXC.exec(text);
  return match?.[1] === undefined || match[2] === undefined ? undefined : { origin: match[1], mediaId: match[2] };
}

export function formatMxc(mxc: Mxc): string {
  return `mxc://${mxc.origin}/${mxc.mediaId}`;
}
