import type { RoomDirectory } from "../../matrix/chat.js";
import { isRoomAlias, type RoomAlias, type RoomId } from "../../matrix/ids.js";
import type { Clock } from "../../util/clock.js";
import { err, ok, type Result } from "../../util/result.js";

/** How long resolved aliases are trusted: a moved alias is followed within this time. */
const RESOLVED_FOR_MS = 60_000;

/** The rooms no destructive command may touch, as room IDs, or why they are not all known. */
export interface ProtectedRoomSource {
  current(): Promise<Result<ReadonlySet<RoomId>, string>>;
}

/**
 * `protectedRooms` from the config. Aliases are resolved when a destructive command is prepared
 * (kept for a minute), not once at start: an alias that did not resolve then would otherwise
 * leave its room unprotected for the life of the process. While one cannot be resolved, Warden
 * cannot tell which room it protects, so every destructive command is refused (fail closed).
 * Failures are not kept: the next command asks the directory again.
 */
export class ProtectedRooms implements ProtectedRoomSource {
  private resolved: { readonly at: number; readonly ids: ReadonlySet<RoomId> } | undefined;

  constructor(
    private readonly rooms: readonly (RoomId | RoomAlias)[],
    private readonly directory: RoomDirectory,
    private readonly clock: Clock,
  ) {}

  async current(): Promise<Result<ReadonlySet<RoomId>, string>> {
    const now = this.clock.now();
    if (this.resolved !== undefined && now - this.resolved.at < RESOLVED_FOR_MS) return ok(this.resolved.ids);
    const answers = await Promise.all(
      this.rooms.map(async (room) => ({ room, resolved: isRoomAlias(room) ? await this.directory.resolveAlias(room) : ok(room) })),
    );
    const ids = new Set<RoomId>();
    const unresolved: string[] = [];
    for (const { room, resolved } of answers) {
      if (resolved.ok) ids.add(resolved.value);
      else unresolved.push(`${room} (${resolved.error})`);
    }
    if (unresolved.length > 0) {
      const which = unresolved.length === 1 ? `the protected room alias ${unresolved.join("")}` : `the protected room aliases ${unresolved.join(", ")}`;
      return err(
        `${which} could not be resolved, so Warden cannot tell whether this room is protected; ` +
          "it refuses destructive commands until the alias resolves again or is removed from protectedRooms in its config.",
      );
    }
    this.resolved = { at: now, ids };
    return ok(ids);
  }
}
