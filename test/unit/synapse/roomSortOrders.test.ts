import { describe, expect, it } from "vitest";
import { ROOM_ORDERS } from "../../../src/synapse/adminClient.js";

// Synapse 1.163's RoomSortOrder (synapse/storage/databases/main/room.py), without its
// deprecated "alphabetical" (an alias of "name"). "size" is deprecated too but still sorts by
// joined members, and the README names it.
const SYNAPSE_ROOM_SORT_ORDERS = [
  "name",
  "canonical_alias",
  "joined_members",
  "joined_local_members",
  "version",
  "creator",
  "encryption",
  "federatable",
  "public",
  "join_rules",
  "guest_access",
  "history_visibility",
  "state_events",
  "size",
];

describe("ROOM_ORDERS", () => {
  it("is exactly the sort orders Synapse's room list accepts, spelled as Synapse spells them", () => {
    expect([...ROOM_ORDERS].sort()).toEqual([...SYNAPSE_ROOM_SORT_ORDERS].sort());
  });
});
