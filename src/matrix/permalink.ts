import { asEventId, asRoomAlias, asRoomId, type EventId, type RoomAlias, type RoomId } from "./ids.js";

/** A room named by ID or alias, optionally with an event, as a matrix.to link carries them. */
export interface Permalink {
  readonly room: RoomId | RoomAlias;
  readonly eventId?: EventId;
}

const MATRIX_TO_PREFIX = "https://matrix.to/#/";

/**
 * Reads https://matrix.to/#/<room>[/<event>][?via=...]. The parts are percent-encoded in
 * links that clients produce ("%23room%3Aserver"), so each part is decoded before checking.
 */
export function parsePermalink(text: string): Permalink | undefined {
  if (!text.startsWith(MATRIX_TO_PREFIX)) return undefined;
  const withoutQuery = text.slice(MATRIX_TO_PREFIX.length).split("?")[0] ?? "";
  const parts = withoutQuery.split("/").filter((part) => part.length > 0);
  if (parts.length < 1 || parts.length > 2) return undefined;
  const decoded: string[] = [];
  for (const part of parts) {
    try {
      decoded.push(decodeURIComponent(part));
    } catch {
      return undefined;
    }
  }
  const roomText = decoded[0] ?? "";
  const room = asRoomId(roomText) ?? asRoomAlias(roomText);
  if (room === undefined) return undefined;
  if (decoded[1] === undefined) return { room };
  const eventId = asEventId(decoded[1]);
  return eventId === undefined ? undefined : { room, eventId };
}
