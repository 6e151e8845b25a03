import { z } from "zod";

/**
 * Shapes of Synapse's admin responses, checked on arrival so a proxy page or a changed
 * field becomes a clear error rather than an undefined deep in a command.
 * Unknown fields are allowed: newer Synapse versions add them.
 */
export const matrixErrorBody = z.looseObject({
  errcode: z.string().optional(),
  error: z.string().optional(),
  retry_after_ms: z.number().nullish(),
});

export const serverVersionBody = z.looseObject({ server_version: z.string() });

export const roomDetailsBody = z.looseObject({
  room_id: z.string(),
  name: z.string().nullish(),
  canonical_alias: z.string().nullish(),
  topic: z.string().nullish(),
  creator: z.string().nullish(),
  version: z.string().nullish(),
  joined_members: z.number(),
  joined_local_members: z.number(),
  encryption: z.string().nullish(),
  public: z.boolean().nullish(),
  join_rules: z.string().nullish(),
  history_visibility: z.string().nullish(),
  state_events: z.number().nullish(),
  room_type: z.string().nullish(),
  forgotten: z.boolean().nullish(),
});

export const fetchEventBody = z.looseObject({
  event: z.looseObject({
    // The raw (federation) format: rooms of version 3 and later carry no event_id field.
    event_id: z.string().optional(),
    room_id: z.string(),
    sender: z.string(),
    type: z.string(),
    origin_server_ts: z.number(),
  }),
});

export const purgeStartedBody = z.looseObject({ purge_id: z.string().min(1) });

export const purgeStatusBody = z.looseObject({
  status: z.enum(["active", "complete", "failed"]),
  error: z.string().nullish(),
});

export const deleteStartedBody = z.looseObject({ delete_id: z.string().min(1) });

const shutdownRoomResult = z.looseObject({
  kicked_users: z.array(z.string()).default([]),
  failed_to_kick_users: z.array(z.string()).default([]),
  local_aliases: z.array(z.string()).default([]),
  new_room_id: z.string().nullish(),
});

export const deleteStatusBody = z.looseObject({
  delete_id: z.string().optional(),
  room_id: z.string().optional(),
  status: z.enum(["scheduled", "active", "complete", "failed", "cancelled", "purging", "shutting_down"]),
  // Never set by Synapse 1.163 (it keeps the error in its task table only); read in case a later version adds it.
  error: z.string().nullish(),
  shutdown_room: shutdownRoomResult.nullish(),
});

export const deleteStatusesForRoomBody = z.looseObject({ results: z.array(deleteStatusBody) });

export const blockStatusBody = z.looseObject({ block: z.boolean(), user_id: z.string().nullish() });

export const scheduledTasksBody = z.looseObject({
  scheduled_tasks: z.array(
    z.looseObject({
      id: z.string(),
      action: z.string(),
      status: z.string(),
      timestamp_ms: z.number(),
      resource_id: z.string().nullish(),
      result: z.unknown().optional(),
      error: z.string().nullish(),
    }),
  ),
});

export const roomListBody = z.looseObject({
  rooms: z.array(
    z.looseObject({
      room_id: z.string(),
      name: z.string().nullish(),
      canonical_alias: z.string().nullish(),
      joined_members: z.number(),
      joined_local_members: z.number().nullish(),
      public: z.boolean().nullish(),
      join_rules: z.string().nullish(),
      room_type: z.string().nullish(),
      state_events: z.number().nullish(),
    }),
  ),
  offset: z.number().nullish(),
  total_rooms: z.number(),
  next_batch: z.union([z.number(), z.string()]).nullish(),
});

/**
 * One page of the admin space hierarchy: the client API's room summaries (num_joined_members,
 * join_rule, room_type; no local member count), each with its m.space.child events (a space's
 * children, including the ones this server is not in and so does not list as entries).
 */
export const roomHierarchyBody = z.looseObject({
  rooms: z.array(
    z.looseObject({
      room_id: z.string(),
      name: z.string().nullish(),
      canonical_alias: z.string().nullish(),
      num_joined_members: z.number().nullish(),
      room_type: z.string().nullish(),
      join_rule: z.string().nullish(),
      children_state: z
        .array(z.looseObject({ type: z.string(), state_key: z.string(), content: z.record(z.string(), z.unknown()) }))
        .default([]),
    }),
  ),
  next_batch: z.string().nullish(),
});

export const roomMembersBody = z.looseObject({ members: z.array(z.string()), total: z.number().nullish() });

export const roomMessagesBody = z.looseObject({
  chunk: z.array(
    z.looseObject({
      event_id: z.string(),
      type: z.string(),
      sender: z.string(),
      origin_server_ts: z.number(),
      state_key: z.string().optional(),
    }),
  ),
  start: z.string().nullish(),
  end: z.string().nullish(),
});

export const emptyBody = z.looseObject({});

export const timestampToEventBody = z.looseObject({ event_id: z.string(), origin_server_ts: z.number() });

export const redactStartedBody = z.looseObject({ redact_id: z.string().min(1) });

export const redactStatusBody = z.looseObject({
  // Synapse 1.163 says "complete"; its docs say "completed": both are accepted.
  status: z.enum(["scheduled", "active", "complete", "completed", "failed"]),
  failed_redactions: z.record(z.string(), z.string()).nullish(),
  error: z.string().nullish(),
});

/** Room ID -> the user's membership there ("join", "ban", "leave", "invite", "knock"). */
export const userMembershipsBody = z.looseObject({ memberships: z.record(z.string(), z.string()) });

/**
 * A local user's devices; `last_seen_ts` is null for a device that never made a request. The
 * device's last address (`last_seen_ip`) is left unread: !user never shows addresses in the room.
 */
export const userDevicesBody = z.looseObject({
  devices: z.array(
    z.looseObject({
      device_id: z.string(),
      display_name: z.string().nullish(),
      last_seen_ts: z.number().nullish(),
      dehydrated: z.boolean().nullish(),
    }),
  ),
});

/**
 * A report's score is whatever JSON its reporter sent: Synapse checks only that it is a Python
 * int (no bound), and not even that with MSC4277 on. It is kept when it is a safe integer and
 * otherwise left out: nothing Warden shows uses it, and it must not make a report unreadable.
 */
const reportScore = z.unknown().transform((value) => (typeof value === "number" && Number.isSafeInteger(value) ? value : undefined));

/** One event report, as the list and GET event_reports/<id> (which adds event_json) give it. */
export const eventReportBody = z.looseObject({
  id: z.number().int(),
  received_ts: z.number().int(),
  room_id: z.string(),
  event_id: z.string(),
  user_id: z.string(),
  reason: z.string().nullish(),
  score: reportScore.optional(),
  // null when this server no longer has the event (purged, or never fetched).
  sender: z.string().nullish(),
  canonical_alias: z.string().nullish(),
  name: z.string().nullish(),
});

export type EventReport = z.infer<typeof eventReportBody>;

/** A listed entry the report schema could not read. */
export interface UnreadableEntry {
  /** Its place in the page (the page's offsets count it). */
  readonly position: number;
  readonly id?: number;
  /** Each field that was wrong and how. */
  readonly problem: string;
  /** Its id, time, event and reporter as sent (JSON), to tell it apart when it is listed again. */
  readonly fields: string;
}

/** `subject`: the field naming what was reported (event_id, or target_user_id for a report about a user). */
function unreadableEntry(entry: unknown, position: number, issues: readonly z.core.$ZodIssue[], subject = "event_id"): UnreadableEntry {
  const raw: Record<string, unknown> = entry !== null && typeof entry === "object" ? (entry as Record<string, unknown>) : {};
  const id = raw["id"];
  return {
    position,
    ...(typeof id === "number" && Number.isSafeInteger(id) ? { id } : {}),
    problem: issues.map((issue) => `${issue.path.join(".") || "the entry"}: ${issue.message}`).join("; "),
    fields: JSON.stringify([id, raw["received_ts"], raw[subject], raw["user_id"]]),
  };
}

/**
 * A page of the list. Each entry is read on its own: one the schema cannot read is set aside in
 * `unreadable` (with what was wrong) and the others are still read; the page's shape itself
 * (the list, total, next_token) must be right.
 */
export const eventReportsBody = z
  .looseObject({
    event_reports: z.array(z.unknown()),
    total: z.number().int(),
    next_token: z.number().int().nullish(),
  })
  .transform(({ event_reports: entries, ...page }) => {
    const readable: EventReport[] = [];
    const unreadable: UnreadableEntry[] = [];
    entries.forEach((entry, position) => {
      const read = eventReportBody.safeParse(entry);
      if (read.success) readable.push(read.data);
      else unreadable.push(unreadableEntry(entry, position, read.error.issues));
    });
    return { ...page, event_reports: readable, unreadable };
  });

/** A client-format event as the context API serialises it; content is read defensively by its users. */
const clientEvent = z.looseObject({
  event_id: z.string(),
  type: z.string(),
  sender: z.string(),
  origin_server_ts: z.number(),
  content: z.record(z.string(), z.unknown()).default({}),
  state_key: z.string().optional(),
});

export const eventContextBody = z.looseObject({
  event: clientEvent,
  events_before: z.array(clientEvent).default([]),
  events_after: z.array(clientEvent).default([]),
});

export const forwardExtremitiesBody = z.looseObject({
  count: z.number().int(),
  results: z.array(
    z.looseObject({
      event_id: z.string(),
      state_group: z.number().nullish(),
      depth: z.number().nullish(),
      received_ts: z.number().nullish(),
    }),
  ),
});

export const deletedExtremitiesBody = z.looseObject({ deleted: z.number().int() });

export type EventReportsBody = z.infer<typeof eventReportsBody>;
export type UserDevicesBody = z.infer<typeof userDevicesBody>;
export type EventContextBody = z.infer<typeof eventContextBody>;
export type ClientEvent = EventContextBody["event"];
export type ForwardExtremitiesBody = z.infer<typeof forwardExtremitiesBody>;
export type RoomDetailsBody = z.infer<typeof roomDetailsBody>;
export type DeleteStatusBody = z.infer<typeof deleteStatusBody>;
export type ScheduledTasksBody = z.infer<typeof scheduledTasksBody>;
export type RoomListBody = z.infer<typeof roomListBody>;
export type RoomHierarchyBody = z.infer<typeof roomHierarchyBody>;
export type RoomMessagesBody = z.infer<typeof roomMessagesBody>;
export type RedactStatusBody = z.infer<typeof redactStatusBody>;

/** GET /_synapse/admin/v1/room/<room_id>/media: the content URIs its messages name, nothing more. */
export const roomMediaBody = z.looseObject({ local: z.array(z.string()), remote: z.array(z.string()) });

/**
 * A boolean column Synapse hands on as the database gave it: SQLite has no booleans, so media
 * info (which, unlike the user media list, does not convert it) says 0 or 1 there.
 */
const storedBoolean = z.union([z.boolean(), z.literal(0), z.literal(1)]).transform((value) => value === true || value === 1);

/** One file as the user media list and the media info endpoint describe it (local: no origin). */
export const mediaItemBody = z.looseObject({
  media_id: z.string(),
  media_origin: z.string().nullish(),
  user_id: z.string().nullish(),
  media_type: z.string().nullish(),
  media_length: z.number().nullish(),
  upload_name: z.string().nullish(),
  created_ts: z.number().nullish(),
  last_access_ts: z.number().nullish(),
  quarantined_by: z.string().nullish(),
  safe_from_quarantine: storedBoolean.nullish(),
});

export const userMediaBody = z.looseObject({
  media: z.array(mediaItemBody),
  total: z.number(),
  next_token: z.number().nullish(),
});

export const mediaInfoBody = z.looseObject({ media_info: mediaItemBody });

export const quarantinedCountBody = z.looseObject({ num_quarantined: z.number() });

export const deletedMediaBody = z.looseObject({ deleted_media: z.array(z.string()), total: z.number() });

/** POST /_synapse/admin/v1/purge_media_cache: how many cached remote files went. */
export const purgedMediaCacheBody = z.looseObject({ deleted: z.number() });

export type MediaItemBody = z.infer<typeof mediaItemBody>;
export type UserMediaBody = z.infer<typeof userMediaBody>;
export type RoomMediaBody = z.infer<typeof roomMediaBody>;

/**
 * GET /_synapse/admin/v2/users/<user_id>. `creation_ts` is in seconds (the users table's unit);
 * `suspended` arrived in 1.121 and `locked` in 1.93, so either may be missing on an older
 * server. SQLite stores the flags as 0/1 on some paths, hence storedBoolean.
 */
export const userAccountBody = z.looseObject({
  name: z.string(),
  displayname: z.string().nullish(),
  avatar_url: z.string().nullish(),
  admin: storedBoolean.nullish(),
  deactivated: storedBoolean.nullish(),
  erased: storedBoolean.nullish(),
  shadow_banned: storedBoolean.nullish(),
  suspended: storedBoolean.nullish(),
  locked: storedBoolean.nullish(),
  creation_ts: z.number().nullish(),
  last_seen_ts: z.number().nullish(),
  user_type: z.string().nullish(),
  is_guest: storedBoolean.nullish(),
  appservice_id: z.string().nullish(),
});
export type UserAccountBody = z.infer<typeof userAccountBody>;

/** GET /_synapse/admin/v1/whois/<user_id>: each device's sessions with the addresses they came from. */
export const whoisBody = z.looseObject({
  user_id: z.string(),
  devices: z.record(
    z.string(),
    z.looseObject({
      sessions: z.array(
        z.looseObject({
          connections: z.array(z.looseObject({ ip: z.string().nullish(), last_seen: z.number().nullish(), user_agent: z.string().nullish() })),
        }),
      ),
    }),
  ),
});
export type WhoisBody = z.infer<typeof whoisBody>;

export const joinedRoomsBody = z.looseObject({ joined_rooms: z.array(z.string()), total: z.number().nullish() });
export const sentInviteCountBody = z.looseObject({ invite_count: z.number() });
export const cumulativeJoinedRoomCountBody = z.looseObject({ cumulative_joined_room_count: z.number() });
/** POST /_synapse/admin/v1/deactivate/<user_id>. */
export const deactivatedBody = z.looseObject({ id_server_unbind_result: z.string().nullish() });

/** One report about a user (Synapse ≥ 1.152): who reported whom, when (ms) and why. */
export const userReportBody = z.looseObject({
  id: z.number().int(),
  received_ts: z.number().int(),
  target_user_id: z.string(),
  user_id: z.string(),
  reason: z.string().nullish(),
});
export type UserReportBody = z.infer<typeof userReportBody>;
/**
 * A page of GET user_reports, read entry by entry as the event reports' list is: one entry the
 * schema cannot read goes to `unreadable`, and the page's other entries are still read.
 */
export const userReportsBody = z
  .looseObject({
    user_reports: z.array(z.unknown()),
    total: z.number(),
    next_token: z.number().nullish(),
  })
  .transform(({ user_reports: entries, ...page }) => {
    const readable: UserReportBody[] = [];
    const unreadable: UnreadableEntry[] = [];
    entries.forEach((entry, position) => {
      const read = userReportBody.safeParse(entry);
      if (read.success) readable.push(read.data);
      else unreadable.push(unreadableEntry(entry, position, read.error.issues, "target_user_id"));
    });
    return { ...page, user_reports: readable, unreadable };
  });
export type UserReportsBody = z.infer<typeof userReportsBody>;

/** The admin /messages endpoint filtered to one sender, with each event's content (for the file links it carries). */
export const senderMessagesBody = z.looseObject({
  chunk: z.array(
    z.looseObject({
      event_id: z.string(),
      type: z.string(),
      sender: z.string(),
      content: z.record(z.string(), z.unknown()).nullish(),
    }),
  ),
  end: z.string().nullish(),
});
export type SenderMessagesBody = z.infer<typeof senderMessagesBody>;
