import type { RoomDirectory } from "../../src/matrix/chat.js";
import type { RoomAlias, RoomId } from "../../src/matrix/ids.js";
import { err, ok, type Result } from "../../src/util/result.js";

/** A room directory answered from a map; records every alias it was asked about. */
export class FakeDirectory implements RoomDirectory {
  readonly lookups: RoomAlias[] = [];
  private readonly aliases = new Map<string, RoomId>();

  add(alias: string, roomId: RoomId): void {
    this.aliases.set(alias, roomId);
  }

  resolveAlias(alias: RoomAlias): Promise<Result<RoomId, string>> {
    this.lookups.push(alias);
    const roomId = this.aliases.get(alias);
    return Promise.resolve(roomId === undefined ? err("the room directory has no such alias") : ok(roomId));
  }
}
