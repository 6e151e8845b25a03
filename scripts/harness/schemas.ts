import { z } from "zod";

// Loose objects: tests inspect fields these schemas do not name, so unknown keys are kept.

export const ClientEvent = z.looseObject({
  event_id: z.string(),
  type: z.string(),
  sender: z.string(),
  origin_server_ts: z.number(),
  content: z.record(z.string(), z.unknown()),
  state_key: z.string().optional(),
  room_id: z.string().optional(),
});
export type ClientEvent = z.output<typeof ClientEvent>;

export const MessagesPage = z.looseObject({
  chunk: z.array(ClientEvent),
  start: z.string(),
  end: z.string().optional(),
});
export type MessagesPage = z.output<typeof MessagesPage>;

const SyncRoom = z.looseObject({
  timeline: z.looseObject({ events: z.array(ClientEvent) }).optional(),
});

export const SyncResponse = z.looseObject({
  next_batch: z.string(),
  rooms: z
    .looseObject({
      join: z.record(z.string(), SyncRoom).optional(),
      leave: z.record(z.string(), SyncRoom).optional(),
      invite: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type SyncResponse = z.output<typeof SyncResponse>;

export const RoomIdResponse = z.object({ room_id: z.string() });
export const EventIdResponse = z.object({ event_id: z.string() });
export const EmptyResponse = z.object({});
export const AliasResponse = z.object({ room_id: z.string(), servers: z.array(z.string()) });
export type AliasResponse = z.output<typeof AliasResponse>;

/** GET /_synapse/admin/v1/rooms/<room_id>; only the fields tests are likely to check are named. */
export const AdminRoomDetails = z.looseObject({
  room_id: z.string(),
  name: z.string().nullable(),
  canonical_alias: z.string().nullable(),
  joined_members: z.number(),
  joined_local_members: z.number(),
  creator: z.string().nullable(),
  public: z.boolean(),
});
export type AdminRoomDetails = z.output<typeof AdminRoomDetails>;

/** GET /_synapse/admin/v1/rooms/<room_id>/block; user_id is present only while blocked. */
export const AdminBlockStatus = z.object({ block: z.boolean(), user_id: z.string().optional() });
export type AdminBlockStatus = z.output<typeof AdminBlockStatus>;

export const AdminRoomMembers = z.object({ members: z.array(z.string()), total: z.number() });
