import type { RoomId, UserId } from "../matrix/ids.js";

/**
 * What the room and homeserver commands (!room, !rooms, !members, !tasks, !block, !unblock,
 * !make-admin) report. Plain facts only: render/lookups.ts turns them into chat text.
 * A field left out is one the homeserver did not report.
 */

export interface RoomFacts {
  readonly name?: string;
  readonly canonicalAlias?: string;
  readonly topic?: string;
  readonly creator?: string;
  readonly version?: string;
  readonly joinedMembers: number;
  readonly joinedLocalMembers: number;
  /** The encryption algorithm, or absent when the room is not encrypted. */
  readonly encryption?: string;
  readonly public?: boolean;
  readonly joinRules?: string;
  readonly historyVisibility?: string;
  readonly stateEvents?: number;
  readonly roomType?: string;
}

/** Whether a room is blocked, or why that could not be read. */
export type BlockFact =
  | { readonly read: true; readonly blocked: boolean; readonly blockedBy?: string }
  | { readonly read: false; readonly problem: string };

export interface RoomListEntry {
  readonly roomId: string;
  readonly name?: string;
  readonly canonicalAlias?: string;
  readonly joinedMembers: number;
  readonly joinedLocalMembers?: number;
  readonly public?: boolean;
}

export interface HomeserverTask {
  readonly id: string;
  readonly action: string;
  readonly status: string;
  /** When it is due (scheduled) or when its status last changed (otherwise), in epoch ms. */
  readonly timestampMs: number;
  readonly resourceId?: string;
  readonly error?: string;
  /** The Warden task that started this job, when one did. */
  readonly wardenTaskId?: string;
}

export type LookupOutcome =
  | {
      readonly kind: "room-info";
      readonly roomId: RoomId;
      readonly label: string;
      /** Undefined: the homeserver does not know the room. */
      readonly room?: RoomFacts;
      readonly block: BlockFact;
    }
  | {
      readonly kind: "room-list";
      readonly rooms: readonly RoomListEntry[];
      readonly total: number;
      readonly offset: number;
      readonly searchTerm?: string;
      /** The exact command that shows the next page, when there is one. */
      readonly nextPageCommand?: string;
    }
  | {
      readonly kind: "room-members";
      readonly roomId: RoomId;
      readonly label: string;
      readonly roomName?: string;
      /** Every joined member, sorted; the reply shows the first ones and counts the rest. */
      readonly members: readonly string[];
    }
  | { readonly kind: "homeserver-tasks"; readonly tasks: readonly HomeserverTask[] }
  | {
      readonly kind: "room-block";
      readonly action: "block" | "unblock";
      readonly roomId: RoomId;
      readonly label: string;
      readonly roomName?: string;
      readonly knownRoom: boolean;
      /** False when the room already was as asked; nothing was sent then. */
      readonly changed: boolean;
      /** Who blocked it, when it already was blocked before a !block. */
      readonly blockedBy?: string;
    }
  | {
      readonly kind: "room-admin-granted";
      readonly roomId: RoomId;
      readonly label: string;
      readonly roomName?: string;
      /** Undefined: Warden's own account (Synapse's default). */
      readonly user?: UserId;
    };

/** `{ [key]: value }`, or nothing when Synapse sent null or left the field out. */
export function present<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
