/** Pages of 100 events fetched at most to fill one gap: a raid's worth of messages. */
const MAX_PAGES = 5;
const PAGE_SIZE = 100;
/** Older events are not fetched: a command that old is long past being run, and its sender has moved on. */
const MAX_AGE_MS = 24 * 3600_000;

export type FetchMessagesPage = (roomId: string, from: string, limit: number) => Promise<unknown>;

/**
 * Fills the gaps a sync leaves in a room's timeline. When more events arrived since the last
 * sync than the filter's timeline limit, the homeserver sends only the newest and marks the
 * timeline `limited`; the commands before them would never be seen. This fetches the missing
 * events (GET /rooms/{roomId}/messages backwards from the timeline's prev_batch) and puts them in
 * front, oldest first, so they are emitted like any other; events already handled are
 * recognised by their id. Mutates `sync`. Returns how many events were added.
 */
export async function fillTimelineGaps(sync: unknown, fetchPage: FetchMessagesPage, now: number): Promise<number> {
  let added = 0;
  for (const [roomId, timeline] of limitedTimelines(sync)) {
    const older: unknown[] = [];
    let from: unknown = timeline["prev_batch"];
    for (let page = 0; page < MAX_PAGES && typeof from === "string"; page++) {
      const answer = record(await fetchPage(roomId, from, PAGE_SIZE));
      const chunk = Array.isArray(answer?.["chunk"]) ? (answer["chunk"] as unknown[]) : [];
      const recent = chunk.filter((event) => {
        const ts = record(event)?.["origin_server_ts"];
        return typeof ts === "number" && now - ts <= MAX_AGE_MS;
      });
      older.push(...recent);
      if (chunk.length === 0 || recent.length < chunk.length) break;
      from = answer?.["end"];
    }
    const events = Array.isArray(timeline["events"]) ? (timeline["events"] as unknown[]) : [];
    timeline["events"] = [...older.reverse(), ...events];
    added += older.length;
  }
  return added;
}

function limitedTimelines(sync: unknown): [string, Record<string, unknown>][] {
  const joined = record(record(record(sync)?.["rooms"])?.["join"]);
  if (joined === undefined) return [];
  return Object.entries(joined).flatMap(([roomId, room]) => {
    const timeline = record(record(room)?.["timeline"]);
    return timeline?.["limited"] === true && typeof timeline["prev_batch"] === "string" ? [[roomId, timeline] as [string, Record<string, unknown>]] : [];
  });
}

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
