import type { RoomId } from "../matrix/ids.js";

export interface Extremity {
  readonly eventId: string;
  readonly depth?: number;
  readonly receivedTs?: number;
}

/** What !extremities reports: the room's forward extremities, or how many a deletion removed. */
export type ExtremitiesOutcome =
  | {
      readonly kind: "extremities";
      readonly roomId: RoomId;
      readonly label: string;
      readonly count: number;
      /** The newest few, newest first. */
      readonly newest: readonly Extremity[];
    }
  | { readonly kind: "extremities-deleted"; readonly roomId: RoomId; readonly label: string; readonly before: number; readonly deleted: number };

/** Synapse's own warning about deleting them (its admin API documentation), shown in every preview. */
export const EXTREMITIES_WARNING =
  "Synapse's documentation warns: make sure you know what you are doing and have read Synapse issue #1760; never run this as an automated maintenance task. It helps a room that has gathered many forward extremities (slow sends and joins); Synapse keeps the newest one and deletes the rest.";
